//! The response envelopes and error bodies of both APIs, as borrowed serde structs. Items
//! are raw JSON values serialized once (see `generate::raw`): a page is written without
//! serializing or parsing a message again.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::value::RawValue;

/// Partoo's `GET /messages` body.
#[derive(Serialize)]
pub(crate) struct PartooMessagesPage<'a> {
    pub(crate) messages: &'a [&'a RawValue],
    pub(crate) count: usize,
    /// `null` on the last page.
    pub(crate) next_cursor: Option<&'a str>,
}

/// Partoo's `GET /conversations` body.
#[derive(Serialize)]
pub(crate) struct PartooConversationsPage<'a> {
    pub(crate) conversations: &'a [&'a RawValue],
    pub(crate) count: usize,
    /// `null` on the last page.
    pub(crate) next_cursor: Option<&'a str>,
}

/// Bird's list-messages body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BirdMessagesPage<'a> {
    pub(crate) results: &'a [&'a RawValue],
    /// Absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_page_token: Option<&'a str>,
    pub(crate) total: usize,
    pub(crate) total_type: &'a str,
}

/// Bird's conversations listing body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BirdConversationsPage<'a> {
    pub(crate) results: &'a [&'a RawValue],
    /// Absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_page_token: Option<&'a str>,
}

/// Partoo's `GET /users/me` body: the user the key belongs to, and its organisation.
#[derive(Serialize)]
pub(crate) struct PartooUser<'a> {
    pub(crate) id: &'a str,
    pub(crate) first_name: &'a str,
    pub(crate) last_name: &'a str,
    pub(crate) email: &'a str,
    pub(crate) role: &'a str,
    pub(crate) org_id: i64,
    pub(crate) status: &'a str,
}

/// A Partoo error body: `{"error": {...}}`.
#[derive(Serialize)]
pub(crate) struct PartooError<'a> {
    pub(crate) error: PartooDetail<'a>,
}

/// What a Partoo error says, under one key naming its kind.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PartooDetail<'a> {
    /// `{"json": "Resource not found"}` or `{"json": {"per_page": ["..."]}}`.
    Json(JsonDetail<'a>),
    /// `{"authentication": "User not authenticated"}`.
    Authentication(&'a str),
    /// `{"authorization": "Operation not allowed"}`.
    Authorization(&'a str),
    /// `{"rate_limit": "..."}`.
    RateLimit(&'a str),
    /// `{"server": "..."}`.
    Server(&'a str),
}

/// The `json` detail: a message, or messages by request field.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum JsonDetail<'a> {
    /// One message.
    Message(&'a str),
    /// Messages by field, each field with a list of one message (sorted by field).
    Fields(BTreeMap<&'a str, [&'a str; 1]>),
}

/// A Bird error body: `{"code": "NotFound", "message": "..."}`.
#[derive(Serialize)]
pub(crate) struct BirdError<'a> {
    pub(crate) code: &'a str,
    pub(crate) message: &'a str,
}

/// Partoo's answer to `POST /messages`: `{"status": "success", "message_id": N}`.
#[derive(Serialize)]
pub(crate) struct PartooSendAnswer<'a> {
    pub(crate) status: &'a str,
    pub(crate) message_id: i64,
}

/// Partoo's answer to `POST /messages/{id}/retry`: `{"status": "success"}`.
#[derive(Serialize)]
pub(crate) struct PartooStatus<'a> {
    pub(crate) status: &'a str,
}

/// A Bird error body with `details`: `{"code": "InvalidPayload", "message": "...",
/// "details": {".body.text.text": ["is required"]}}`, each problem under the JSON path of
/// what it is about.
#[derive(Serialize)]
pub(crate) struct BirdDetailedError<'a> {
    pub(crate) code: &'a str,
    pub(crate) message: &'a str,
    pub(crate) details: &'a BTreeMap<String, Vec<&'a str>>,
}
