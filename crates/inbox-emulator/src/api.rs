//! The two APIs: routing, authentication, query checks, pagination, and each provider's
//! error bodies; sends are handed to `send`. Knows nothing of HTTP connections: it turns a
//! request's method, path, query and body, and the account its key opened (see
//! [`key_of`]), into a [`Reply`].

use std::borrow::Cow;
use std::collections::BTreeMap;

use hyper::header::HeaderMap;
use hyper::{Method, StatusCode};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::dataset::{Conv, Data, Provider};
use crate::generate::{ACCOUNT_USER_FIRST_NAME, ACCOUNT_USER_ID, ACCOUNT_USER_LAST_NAME, write};
use crate::time;
use crate::token::{Order, Paging, Scope};
use crate::wire::{
    BirdConversationsPage, BirdError, BirdMessagesPage, JsonDetail, PartooConversationsPage,
    PartooDetail, PartooError, PartooMessagesPage, PartooUser,
};
use crate::{State, Tenant, send};

/// Partoo's default page size.
const PARTOO_DEFAULT_PER_PAGE: usize = 30;
/// Bird's default page size.
const BIRD_DEFAULT_LIMIT: usize = 10;
/// The largest page either API returns.
const MAX_PAGE: usize = 100;

/// An answer: a status, a JSON body, a `Retry-After` for 429s, an `Allow` for 405s, and
/// whether it is to be withheld.
#[derive(Debug)]
pub(crate) struct Reply {
    /// The status code.
    pub(crate) status: StatusCode,
    /// The JSON body.
    pub(crate) body: Vec<u8>,
    /// A `Retry-After` header, in seconds.
    pub(crate) retry_after: Option<u64>,
    /// An `Allow` header: the methods the path takes.
    pub(crate) allow: Option<&'static str>,
    /// Never sent (a send accepted and then timed out, see `SendFaults`): the connection
    /// stays open without an answer, like the hang fault.
    pub(crate) withheld: bool,
}

impl Reply {
    pub(crate) fn json(status: StatusCode, value: &impl Serialize) -> Self {
        let mut body = Vec::with_capacity(96);
        write(&mut body, value);
        Reply::raw(status, body)
    }

    pub(crate) fn raw(status: StatusCode, body: Vec<u8>) -> Self {
        Reply {
            status,
            body,
            retry_after: None,
            allow: None,
            withheld: false,
        }
    }
}

/// What the API needs of a request.
pub(crate) struct Request<'a> {
    pub(crate) method: &'a Method,
    /// The path, still percent-encoded.
    pub(crate) path: &'a str,
    /// The query string, still encoded (empty when there is none).
    pub(crate) query: &'a str,
    /// The body (empty when there is none).
    pub(crate) body: &'a [u8],
}

/// The key a request authenticates with, when it has one: Partoo's `x-APIKey`, Bird's
/// `Authorization: AccessKey <key>`.
pub(crate) fn key_of(provider: Provider, headers: &HeaderMap) -> Option<&str> {
    let value = |name| headers.get(name).and_then(|v| v.to_str().ok());
    match provider {
        Provider::Partoo => value("x-apikey"),
        Provider::Bird => value("authorization").and_then(|value| {
            let (scheme, key) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("AccessKey").then(|| key.trim())
        }),
    }
}

/// Answers a request that got no fault, for the account its key belongs to (`None`: the
/// key is missing or no account's, a 401), and counts the answers to sends.
pub(crate) fn handle(
    state: &State,
    tenant: Option<&Tenant>,
    provider: Provider,
    request: &Request<'_>,
) -> Reply {
    let reply = if request.method != Method::GET && request.method != Method::POST {
        not_allowed(provider, "GET, POST")
    } else {
        match provider {
            Provider::Partoo => partoo(state, tenant, request),
            Provider::Bird => bird(state, tenant, request),
        }
    };
    if is_send(provider, request.method, request.path) {
        if reply.status.is_success() {
            state.count_send(send::Outcome::Accepted);
        } else if reply.status.is_client_error() {
            state.count_send(send::Outcome::Refused);
        }
    }
    reply
}

/// Whether a request is a send (not a retry): Partoo's `POST /v2/messages`, Bird's `POST
/// /workspaces/{ws}/conversations/{id}/messages`.
pub(crate) fn is_send(provider: Provider, method: &Method, path: &str) -> bool {
    if method != Method::POST {
        return false;
    }
    let Some(segments) = segments(path) else {
        return false;
    };
    let segments: Vec<&str> = segments.iter().map(AsRef::as_ref).collect();
    match provider {
        Provider::Partoo => matches!(segments.as_slice(), ["v2", "messages"]),
        Provider::Bird => matches!(
            segments.as_slice(),
            ["workspaces", _, "conversations", _, "messages"]
        ),
    }
}

/// A 405 with the provider's body and `Allow: allow`.
fn not_allowed(provider: Provider, allow: &'static str) -> Reply {
    let message = match allow {
        "GET" => "only GET is supported here",
        "POST" => "only POST is supported here",
        _ => "only GET and POST are supported",
    };
    let mut reply = error(provider, StatusCode::METHOD_NOT_ALLOWED, message);
    reply.allow = Some(allow);
    reply
}

/// A provider-shaped error body for `status` (for HTTP-level errors too).
pub(crate) fn error(provider: Provider, status: StatusCode, message: &str) -> Reply {
    match provider {
        Provider::Partoo => partoo_error(status, PartooDetail::Json(JsonDetail::Message(message))),
        Provider::Bird => bird_error(status, bird_code(status), message),
    }
}

/// A 429 with `Retry-After` and the provider's body.
pub(crate) fn rate_limited(provider: Provider, retry_after_secs: u64) -> Reply {
    let status = StatusCode::TOO_MANY_REQUESTS;
    let mut reply = match provider {
        Provider::Partoo => partoo_error(
            status,
            PartooDetail::RateLimit("Too many requests: 300 requests per minute per organisation"),
        ),
        Provider::Bird => bird_error(status, "TooManyRequests", "Too many requests"),
    };
    reply.retry_after = Some(retry_after_secs);
    reply
}

/// A 5xx with the provider's body.
pub(crate) fn server_error(provider: Provider, status: StatusCode) -> Reply {
    let message = status.canonical_reason().unwrap_or("Internal Server Error");
    match provider {
        Provider::Partoo => partoo_error(status, PartooDetail::Server(message)),
        Provider::Bird => bird_error(status, bird_code(status), message),
    }
}

fn bird_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "InvalidParameter",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        408 => "RequestTimeout",
        409 => "Conflict",
        413 => "PayloadTooLarge",
        429 => "TooManyRequests",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        s if s >= 500 => "InternalServerError",
        _ => "BadRequest",
    }
}

pub(crate) fn partoo_error(status: StatusCode, error: PartooDetail<'_>) -> Reply {
    Reply::json(status, &PartooError { error })
}

pub(crate) fn bird_error(status: StatusCode, code: &str, message: &str) -> Reply {
    Reply::json(status, &BirdError { code, message })
}

// ---------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------

/// A query string, decoded (`application/x-www-form-urlencoded`; a malformed escape is kept
/// as written, and bytes that are not UTF-8 become U+FFFD, which no parameter accepts).
struct Query<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'a> Query<'a> {
    fn parse(raw: &'a str) -> Query<'a> {
        Query(form_urlencoded::parse(raw.as_bytes()).collect())
    }

    /// The first value of `name`.
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_ref())
    }

    /// The first value of `name`, unless absent or empty.
    fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }
}

/// The path's segments, decoded, without the empty one a trailing slash leaves; `None`
/// when a segment is not UTF-8 once decoded.
fn segments(path: &str) -> Option<Vec<Cow<'_, str>>> {
    let mut segments = path
        .split('/')
        .skip(1)
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8().ok())
        .collect::<Option<Vec<_>>>()?;
    if segments.last().is_some_and(|s| s.is_empty()) {
        segments.pop();
    }
    Some(segments)
}

/// A page size: `default` when absent, else an integer within `1..=100`.
enum PageSize {
    Ok(usize),
    NotAnInteger,
    OutOfRange,
}

fn page_size(value: Option<&str>, default: usize) -> PageSize {
    let Some(value) = value else {
        return PageSize::Ok(default);
    };
    match value.trim().parse::<i64>() {
        Ok(n) if (1..=MAX_PAGE as i64).contains(&n) => PageSize::Ok(n as usize),
        Ok(_) => PageSize::OutOfRange,
        Err(_) => PageSize::NotAnInteger,
    }
}

/// The items at `positions` of a list, for a page body.
fn items<'a>(
    positions: &[usize],
    get: impl Fn(usize) -> Option<&'a RawValue>,
) -> Vec<&'a RawValue> {
    positions.iter().filter_map(|&p| get(p)).collect()
}

/// A body of about `bytes` bytes, written from `value`.
fn page_body(bytes: usize, value: &impl Serialize) -> Reply {
    let mut body = Vec::with_capacity(bytes + 128);
    write(&mut body, value);
    Reply::raw(StatusCode::OK, body)
}

fn raw_len(items: &[&RawValue]) -> usize {
    items.iter().map(|i| i.get().len() + 1).sum()
}

/// The listing entries of `convs` at `positions`, read under each conversation's lock.
fn listings(convs: &[&Conv], positions: &[usize]) -> Vec<Box<RawValue>> {
    positions
        .iter()
        .filter_map(|&p| convs.get(p))
        .map(|conv| conv.live(|live| live.listing.clone()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Partoo
// ---------------------------------------------------------------------------------------

pub(crate) fn partoo_bad_request(fields: &[(&'static str, &'static str)]) -> Reply {
    let fields: BTreeMap<&str, [&str; 1]> = fields.iter().map(|&(f, m)| (f, [m])).collect();
    partoo_error(
        StatusCode::BAD_REQUEST,
        PartooDetail::Json(JsonDetail::Fields(fields)),
    )
}

pub(crate) fn partoo_not_found() -> Reply {
    partoo_error(
        StatusCode::NOT_FOUND,
        PartooDetail::Json(JsonDetail::Message("Resource not found")),
    )
}

fn partoo(state: &State, tenant: Option<&Tenant>, request: &Request<'_>) -> Reply {
    let Some(tenant) = tenant else {
        return partoo_error(
            StatusCode::UNAUTHORIZED,
            PartooDetail::Authentication("User not authenticated"),
        );
    };
    let data = &tenant.data;
    let Some(segments) = segments(request.path) else {
        return partoo_not_found();
    };
    let query = Query::parse(request.query);
    let segments: Vec<&str> = segments.iter().map(AsRef::as_ref).collect();
    let post = request.method == Method::POST;
    // The one method each path takes (`/v2/messages`: both).
    let only = match segments.as_slice() {
        ["v2", "messages"] => None,
        ["v2", "messages", _, "retry"] => Some("POST"),
        ["v2", "conversations"] | ["v2", "conversations", _] | ["v2", "users", "me"] => Some("GET"),
        _ => return partoo_not_found(),
    };
    if let Some(only) = only
        && request.method.as_str() != only
    {
        return not_allowed(Provider::Partoo, only);
    }
    match segments.as_slice() {
        ["v2", "messages"] if post => send::partoo_send(state, tenant, request.body),
        ["v2", "messages"] => partoo_messages(data, &query),
        ["v2", "messages", id, "retry"] => send::partoo_retry(state, tenant, id),
        ["v2", "conversations"] => partoo_conversations(data, &query),
        ["v2", "users", "me"] => Reply::json(
            StatusCode::OK,
            &PartooUser {
                id: ACCOUNT_USER_ID,
                first_name: ACCOUNT_USER_FIRST_NAME,
                last_name: ACCOUNT_USER_LAST_NAME,
                email: "camille@boulangerie-martin.example",
                role: "ORG_ADMIN",
                org_id: tenant.account.partoo_org_id,
                status: "active",
            },
        ),
        ["v2", "conversations", id] => match data.find(Provider::Partoo, id) {
            Some(i) => one_conversation(&data.conversations(Provider::Partoo)[i]),
            None => partoo_not_found(),
        },
        _ => partoo_not_found(),
    }
}

fn one_conversation(conv: &Conv) -> Reply {
    Reply::raw(
        StatusCode::OK,
        conv.live(|live| live.listing.get().as_bytes().to_vec()),
    )
}

fn partoo_per_page(query: &Query<'_>, errors: &mut Vec<(&'static str, &'static str)>) -> usize {
    match page_size(query.get("per_page"), PARTOO_DEFAULT_PER_PAGE) {
        PageSize::Ok(n) => n,
        PageSize::NotAnInteger => {
            errors.push(("per_page", "Not a valid integer."));
            0
        }
        PageSize::OutOfRange => {
            errors.push(("per_page", "Must be between 1 and 100."));
            0
        }
    }
}

fn partoo_messages(data: &Data, query: &Query<'_>) -> Reply {
    let mut errors = Vec::new();
    let conversation = match query
        .get("conversation_id")
        .map(|v| v.trim().parse::<i64>())
    {
        None => {
            errors.push(("conversation_id", "Missing data for required field."));
            None
        }
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            errors.push(("conversation_id", "Not a valid integer."));
            None
        }
    };
    let per_page = partoo_per_page(query, &mut errors);
    let Some(conversation) = conversation.filter(|_| errors.is_empty()) else {
        return partoo_bad_request(&errors);
    };
    let key = conversation.to_string();
    let Some(index) = data.find(Provider::Partoo, &key) else {
        return partoo_not_found();
    };
    let conv = &data.conversations(Provider::Partoo)[index];
    let paging = Paging {
        scope: Scope::Messages(&key),
        order: Order::Ascending,
        size: per_page,
        looping: conv.looping,
    };
    let reply = data.with_messages(Provider::Partoo, index, |view| {
        let page = paging.page(query.non_empty("cursor"), 0..view.len())?;
        let messages = items(&page.positions, |p| view.get(p));
        Some(page_body(
            raw_len(&messages),
            &PartooMessagesPage {
                messages: &messages,
                count: view.len(),
                next_cursor: page.next.as_deref(),
            },
        ))
    });
    match reply.flatten() {
        Some(reply) => {
            conv.count_request();
            reply
        }
        None => partoo_bad_request(&[("cursor", "Invalid cursor.")]),
    }
}

fn partoo_conversations(data: &Data, query: &Query<'_>) -> Reply {
    let mut errors = Vec::new();
    let per_page = partoo_per_page(query, &mut errors);
    let businesses: Option<Vec<&str>> = query
        .get("business__in")
        .map(|list| list.split(',').map(str::trim).collect());
    if businesses
        .as_ref()
        .is_some_and(|ids| ids.iter().any(|id| id.is_empty()))
    {
        errors.push(("business__in", "Invalid value."));
    }
    if !errors.is_empty() {
        return partoo_bad_request(&errors);
    }
    if let Some(ids) = &businesses
        && !ids.iter().all(|id| data.business_visible(id))
    {
        return partoo_error(
            StatusCode::FORBIDDEN,
            PartooDetail::Authorization("Operation not allowed"),
        );
    }
    let listed: Vec<&Conv> = data
        .conversations(Provider::Partoo)
        .iter()
        .filter(|c| match &businesses {
            Some(ids) => c.business.as_deref().is_some_and(|b| ids.contains(&b)),
            None => true,
        })
        .collect();
    let paging = Paging {
        scope: Scope::Conversations,
        order: Order::Ascending,
        size: per_page,
        looping: false,
    };
    let Some(page) = paging.page(query.non_empty("cursor"), 0..listed.len()) else {
        return partoo_bad_request(&[("cursor", "Invalid cursor.")]);
    };
    let owned = listings(&listed, &page.positions);
    let conversations: Vec<&RawValue> = owned.iter().map(AsRef::as_ref).collect();
    page_body(
        raw_len(&conversations),
        &PartooConversationsPage {
            conversations: &conversations,
            count: listed.len(),
            next_cursor: page.next.as_deref(),
        },
    )
}

// ---------------------------------------------------------------------------------------
// Bird
// ---------------------------------------------------------------------------------------

pub(crate) fn bird_bad_request(message: &str) -> Reply {
    bird_error(StatusCode::BAD_REQUEST, "InvalidParameter", message)
}

pub(crate) fn bird_not_found(message: &str) -> Reply {
    bird_error(StatusCode::NOT_FOUND, "NotFound", message)
}

fn bird(state: &State, tenant: Option<&Tenant>, request: &Request<'_>) -> Reply {
    let Some(tenant) = tenant else {
        return bird_error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "The access key is missing or not valid",
        );
    };
    let data = &tenant.data;
    let Some(segments) = segments(request.path) else {
        return bird_not_found("Resource not found");
    };
    let segments: Vec<&str> = segments.iter().map(AsRef::as_ref).collect();
    let (workspace, rest) = match segments.as_slice() {
        ["workspaces", workspace, rest @ ..] => (*workspace, rest),
        _ => return bird_not_found("Resource not found"),
    };
    if workspace != tenant.account.bird_workspace {
        return bird_error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "You do not have access to this resource",
        );
    }
    let query = Query::parse(request.query);
    let post = request.method == Method::POST;
    let only = match rest {
        ["conversations", _, "messages"] => None,
        ["conversations"] | ["conversations", _] => Some("GET"),
        _ => return bird_not_found("Resource not found"),
    };
    if let Some(only) = only
        && request.method.as_str() != only
    {
        return not_allowed(Provider::Bird, only);
    }
    match rest {
        ["conversations", id, "messages"] if post => {
            send::bird_send(state, tenant, id, request.body)
        }
        ["conversations"] => bird_conversations(data, &query),
        ["conversations", id] => match data.find(Provider::Bird, id) {
            Some(i) => one_conversation(&data.conversations(Provider::Bird)[i]),
            None => bird_not_found("Conversation not found"),
        },
        ["conversations", id, "messages"] => bird_messages(data, &query, id),
        _ => bird_not_found("Resource not found"),
    }
}

/// Bird's `limit` and `reverse`, checked: the page size and the order.
fn bird_paging(query: &Query<'_>) -> Result<(usize, bool), Reply> {
    let limit = match page_size(query.get("limit"), BIRD_DEFAULT_LIMIT) {
        PageSize::Ok(n) => n,
        PageSize::NotAnInteger => return Err(bird_bad_request("limit must be an integer")),
        PageSize::OutOfRange => {
            return Err(bird_bad_request("limit must be between 1 and 100"));
        }
    };
    let reverse = match query.get("reverse") {
        None => false,
        Some("true" | "True" | "TRUE" | "t" | "1") => true,
        Some("false" | "False" | "FALSE" | "f" | "0") => false,
        Some(_) => return Err(bird_bad_request("reverse must be true or false")),
    };
    Ok((limit, reverse))
}

fn bird_messages(data: &Data, query: &Query<'_>, id: &str) -> Reply {
    let (limit, reverse) = match bird_paging(query) {
        Ok(paging) => paging,
        Err(reply) => return reply,
    };
    let date_from = match query.non_empty("dateFrom") {
        None => None,
        Some(text) => match time::parse(text) {
            Some(at) => Some(at),
            None => return bird_bad_request("dateFrom must be an RFC 3339 date-time"),
        },
    };
    let Some(index) = data.find(Provider::Bird, id) else {
        return bird_not_found("Conversation not found");
    };
    let conv = &data.conversations(Provider::Bird)[index];
    // Newest first unless reversed: walked down from the newest position.
    let paging = Paging {
        scope: Scope::Messages(id),
        order: if reverse {
            Order::Ascending
        } else {
            Order::Descending
        },
        size: limit,
        looping: conv.looping,
    };
    let reply = data.with_messages(Provider::Bird, index, |view| {
        let first = date_from.map_or(0, |at| view.first_after(at));
        let page = paging.page(query.non_empty("pageToken"), first..view.len())?;
        let results = items(&page.positions, |p| view.get(p));
        Some(page_body(
            raw_len(&results),
            &BirdMessagesPage {
                results: &results,
                next_page_token: page.next.as_deref(),
                total: view.len() - first,
                total_type: "equal",
            },
        ))
    });
    match reply.flatten() {
        Some(reply) => {
            conv.count_request();
            reply
        }
        None => bird_bad_request("pageToken is not valid"),
    }
}

fn bird_conversations(data: &Data, query: &Query<'_>) -> Reply {
    let (limit, reverse) = match bird_paging(query) {
        Ok(paging) => paging,
        Err(reply) => return reply,
    };
    let convs: Vec<&Conv> = data.conversations(Provider::Bird).iter().collect();
    let paging = Paging {
        scope: Scope::Conversations,
        order: if reverse {
            Order::Descending
        } else {
            Order::Ascending
        },
        size: limit,
        looping: false,
    };
    let Some(page) = paging.page(query.non_empty("pageToken"), 0..convs.len()) else {
        return bird_bad_request("pageToken is not valid");
    };
    let owned = listings(&convs, &page.positions);
    let results: Vec<&RawValue> = owned.iter().map(AsRef::as_ref).collect();
    page_body(
        raw_len(&results),
        &BirdConversationsPage {
            results: &results,
            next_page_token: page.next.as_deref(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_queries_and_paths() {
        let q = Query::parse("a=1&b=x%20y+z&c&=v&a=2&d=%E2%82%AC&e=%zz&f=%ff");
        assert_eq!(q.get("a"), Some("1"));
        assert_eq!(q.get("b"), Some("x y z"));
        assert_eq!(q.get("c"), Some(""));
        assert_eq!(q.non_empty("c"), None);
        assert_eq!(q.get("d"), Some("€"));
        assert_eq!(q.get("e"), Some("%zz"));
        assert_eq!(q.get("f"), Some("\u{FFFD}"));
        let s = segments("/workspaces/a%2Fb/conversations/").unwrap();
        assert_eq!(s, ["workspaces", "a/b", "conversations"]);
        assert!(segments("/").unwrap().is_empty());
        assert!(segments("/v2/%ff").is_none());
    }

    #[test]
    fn error_bodies_are_the_documented_ones() {
        let body = |r: Reply| String::from_utf8(r.body).unwrap();
        assert_eq!(
            body(partoo_bad_request(&[
                ("per_page", "Must be between 1 and 100."),
                ("conversation_id", "Missing data for required field."),
            ])),
            r#"{"error":{"json":{"conversation_id":["Missing data for required field."],"per_page":["Must be between 1 and 100."]}}}"#
        );
        assert_eq!(
            body(partoo_not_found()),
            r#"{"error":{"json":"Resource not found"}}"#
        );
        assert_eq!(
            body(rate_limited(Provider::Bird, 3)),
            r#"{"code":"TooManyRequests","message":"Too many requests"}"#
        );
        assert_eq!(
            body(server_error(Provider::Partoo, StatusCode::BAD_GATEWAY)),
            r#"{"error":{"server":"Bad Gateway"}}"#
        );
    }
}
