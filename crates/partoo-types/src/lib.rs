//! Partoo REST API v2 wire types (work in progress).
