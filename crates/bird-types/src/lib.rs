//! Bird Conversations API wire types (work in progress).
