//! The two APIs: routing, authentication, query checks, pagination, and each provider's
//! error bodies.

use std::sync::Arc;

use crate::State;
use crate::dataset::{Conv, Messages, Provider};
use crate::http::{Request, Response};
use crate::json::{self, Obj};
use crate::time;
use crate::token::{self, Scope};

/// Partoo's default page size.
const PARTOO_DEFAULT_PER_PAGE: usize = 30;
/// Bird's default page size.
const BIRD_DEFAULT_LIMIT: usize = 10;
/// The largest page either API returns.
const MAX_PAGE: usize = 100;

/// Answers a request that got no fault.
pub(crate) fn handle(state: &State, provider: Provider, request: &Request) -> Response {
    if request.method != "GET" {
        return error(provider, 405, "only GET is supported");
    }
    match provider {
        Provider::Partoo => partoo(state, request),
        Provider::Bird => bird(state, request),
    }
}

/// A provider-shaped error body for `status` (used for HTTP-level errors too).
pub(crate) fn error(provider: Provider, status: u16, message: &str) -> Response {
    match provider {
        Provider::Partoo => partoo_error(status, |e| {
            e.str("json", message);
        }),
        Provider::Bird => bird_error(status, bird_code(status), message),
    }
}

/// A 429 with `Retry-After` and the provider's body.
pub(crate) fn rate_limited(provider: Provider, retry_after_secs: u64) -> Response {
    let mut response = match provider {
        Provider::Partoo => partoo_error(429, |e| {
            e.str(
                "rate_limit",
                "Too many requests: 300 requests per minute per organisation",
            );
        }),
        Provider::Bird => bird_error(429, "TooManyRequests", "Too many requests"),
    };
    response.retry_after = Some(retry_after_secs);
    response
}

/// A 5xx with the provider's body.
pub(crate) fn server_error(provider: Provider, status: u16) -> Response {
    let message = match status {
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
    match provider {
        Provider::Partoo => partoo_error(status, |e| {
            e.str("server", message);
        }),
        Provider::Bird => bird_error(status, bird_code(status), message),
    }
}

fn bird_code(status: u16) -> &'static str {
    match status {
        400 => "InvalidParameter",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        429 => "TooManyRequests",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        s if s >= 500 => "InternalServerError",
        _ => "BadRequest",
    }
}

fn partoo_error(status: u16, detail: impl FnOnce(&mut Obj<'_>)) -> Response {
    let mut body = Vec::with_capacity(96);
    json::object(&mut body, |o| {
        o.obj("error", detail);
    });
    Response::json(status, body)
}

fn bird_error(status: u16, code: &str, message: &str) -> Response {
    let mut body = Vec::with_capacity(96);
    json::object(&mut body, |o| {
        o.str("code", code).str("message", message);
    });
    Response::json(status, body)
}

// ---------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------

/// Decodes `%XX` escapes (and `+` as a space in a query); `None` when malformed or not
/// UTF-8.
fn percent_decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// A query string, decoded.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: &str) -> Option<Query> {
        let mut pairs = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((percent_decode(name, true)?, percent_decode(value, true)?));
        }
        Some(Query(pairs))
    }

    /// The first value of `name`.
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, unless absent or empty.
    fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }
}

/// The path's segments, decoded, without the empty one a trailing slash leaves.
fn segments(path: &str) -> Option<Vec<String>> {
    let mut segments = path
        .split('/')
        .skip(1)
        .map(|s| percent_decode(s, false))
        .collect::<Option<Vec<_>>>()?;
    if segments.last().is_some_and(String::is_empty) {
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

/// One page of a list: the positions to serve and the token of the next page.
struct Page {
    start: usize,
    end: usize,
    next: Option<String>,
}

/// Pages `len` items from the token's offset; a looping scope always hands back the token
/// of its second page.
fn page(
    scope: &Scope<'_>,
    token: Option<&str>,
    size: usize,
    len: usize,
    looping: bool,
) -> Option<Page> {
    let start = match token {
        Some(token) => token::read(scope, token, len)?,
        None => 0,
    };
    let end = start.saturating_add(size).min(len);
    let next = if looping {
        Some(token::make(scope, size.min(len)))
    } else {
        (end < len).then(|| token::make(scope, end))
    };
    Some(Page { start, end, next })
}

// ---------------------------------------------------------------------------------------
// Partoo
// ---------------------------------------------------------------------------------------

fn partoo_bad_request(fields: &[(&str, &str)]) -> Response {
    partoo_error(400, |e| {
        e.obj("json", |j| {
            for (field, message) in fields {
                j.arr(field, |a| {
                    a.str(message);
                });
            }
        });
    })
}

fn partoo_not_found() -> Response {
    partoo_error(404, |e| {
        e.str("json", "Resource not found");
    })
}

fn partoo(state: &State, request: &Request) -> Response {
    if request.header("x-apikey") != Some(state.config.partoo_key.as_str()) {
        return partoo_error(401, |e| {
            e.str("authentication", "User not authenticated");
        });
    }
    let Some(segments) = segments(&request.path) else {
        return partoo_not_found();
    };
    let Some(query) = Query::parse(&request.query) else {
        return partoo_bad_request(&[("query", "Invalid query string.")]);
    };
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segments.as_slice() {
        ["v2", "messages"] => partoo_messages(state, &query),
        ["v2", "conversations"] => partoo_conversations(state, &query),
        ["v2", "conversations", id] => match state.data.find(Provider::Partoo, id) {
            Some(i) => {
                let conv = &state.data.conversations(Provider::Partoo)[i];
                Response::json(200, conv.listing.to_vec())
            }
            None => partoo_not_found(),
        },
        _ => partoo_not_found(),
    }
}

fn partoo_per_page(query: &Query, errors: &mut Vec<(&'static str, &'static str)>) -> usize {
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

fn partoo_messages(state: &State, query: &Query) -> Response {
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
    let Some(index) = state.data.find(Provider::Partoo, &key) else {
        return partoo_not_found();
    };
    let conv = &state.data.conversations(Provider::Partoo)[index];
    let scope = Scope::Messages(&key);
    let Some(page) = page(
        &scope,
        query.non_empty("cursor"),
        per_page,
        conv.len(),
        conv.looping,
    ) else {
        return partoo_bad_request(&[("cursor", "Invalid cursor.")]);
    };
    let messages = state.data.messages(Provider::Partoo, index);
    let mut body = Vec::with_capacity(64 + page_bytes(&messages, page.start, page.end));
    json::object(&mut body, |o| {
        o.arr("messages", |a| {
            for i in page.start..page.end {
                a.raw(messages.get(i));
            }
        })
        .int("count", conv.len() as i64)
        .opt_str("next_cursor", page.next.as_deref());
    });
    Response::json(200, body)
}

fn page_bytes(messages: &Messages, start: usize, end: usize) -> usize {
    (start..end).map(|i| messages.get(i).len() + 1).sum()
}

fn partoo_conversations(state: &State, query: &Query) -> Response {
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
    if let Some(ids) = &businesses {
        if !ids.iter().all(|id| state.data.business_visible(id)) {
            return partoo_error(403, |e| {
                e.str("authorization", "Operation not allowed");
            });
        }
    }
    let listed: Vec<&Conv> = state
        .data
        .conversations(Provider::Partoo)
        .iter()
        .filter(|c| match &businesses {
            Some(ids) => c.business.as_deref().is_some_and(|b| ids.contains(&b)),
            None => true,
        })
        .collect();
    let Some(page) = page(
        &Scope::Conversations,
        query.non_empty("cursor"),
        per_page,
        listed.len(),
        false,
    ) else {
        return partoo_bad_request(&[("cursor", "Invalid cursor.")]);
    };
    let mut body = Vec::new();
    json::object(&mut body, |o| {
        o.arr("conversations", |a| {
            for conv in &listed[page.start..page.end] {
                a.raw(&conv.listing);
            }
        })
        .int("count", listed.len() as i64)
        .opt_str("next_cursor", page.next.as_deref());
    });
    Response::json(200, body)
}

// ---------------------------------------------------------------------------------------
// Bird
// ---------------------------------------------------------------------------------------

fn bird_bad_request(message: &str) -> Response {
    bird_error(400, "InvalidParameter", message)
}

fn bird_not_found(message: &str) -> Response {
    bird_error(404, "NotFound", message)
}

fn bird(state: &State, request: &Request) -> Response {
    let key = request.header("authorization").and_then(|value| {
        let (scheme, key) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("AccessKey").then(|| key.trim())
    });
    if key != Some(state.config.bird_key.as_str()) {
        return bird_error(
            401,
            "Unauthorized",
            "The access key is missing or not valid",
        );
    }
    let Some(segments) = segments(&request.path) else {
        return bird_not_found("Resource not found");
    };
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let (workspace, rest) = match segments.as_slice() {
        ["workspaces", workspace, rest @ ..] => (*workspace, rest),
        _ => return bird_not_found("Resource not found"),
    };
    if workspace != state.config.bird_workspace {
        return bird_error(403, "Forbidden", "You do not have access to this resource");
    }
    let Some(query) = Query::parse(&request.query) else {
        return bird_bad_request("the query string is not valid");
    };
    match rest {
        ["conversations"] => bird_conversations(state, &query),
        ["conversations", id] => match state.data.find(Provider::Bird, id) {
            Some(i) => {
                let conv = &state.data.conversations(Provider::Bird)[i];
                Response::json(200, conv.listing.to_vec())
            }
            None => bird_not_found("Conversation not found"),
        },
        ["conversations", id, "messages"] => bird_messages(state, &query, id),
        _ => bird_not_found("Resource not found"),
    }
}

/// Bird's `limit` and `reverse`, checked.
fn bird_paging(query: &Query) -> Result<(usize, bool), Response> {
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

fn bird_messages(state: &State, query: &Query, id: &str) -> Response {
    let (limit, reverse) = match bird_paging(query) {
        Ok(paging) => paging,
        Err(response) => return response,
    };
    let date_from = match query.non_empty("dateFrom") {
        None => None,
        Some(text) => match time::parse(text) {
            Some(at) => Some(at),
            None => return bird_bad_request("dateFrom must be an RFC 3339 date-time"),
        },
    };
    let Some(index) = state.data.find(Provider::Bird, id) else {
        return bird_not_found("Conversation not found");
    };
    let conv = &state.data.conversations(Provider::Bird)[index];
    let messages: Arc<Messages> = state.data.messages(Provider::Bird, index);
    let first = date_from.map_or(0, |at| messages.first_after(at));
    let visible = messages.len().saturating_sub(first);
    let scope = Scope::Messages(id);
    let Some(page) = page(
        &scope,
        query.non_empty("pageToken"),
        limit,
        visible,
        conv.looping,
    ) else {
        return bird_bad_request("pageToken is not valid");
    };
    // Position p of the visible messages: oldest first when reversed, newest first else.
    let at = |p: usize| {
        if reverse {
            first + p
        } else {
            messages.len() - 1 - p
        }
    };
    let mut body =
        Vec::with_capacity(96 + page_bytes(&messages, first + page.start, first + page.end));
    json::object(&mut body, |o| {
        o.arr("results", |a| {
            for p in page.start..page.end {
                a.raw(messages.get(at(p)));
            }
        });
        if let Some(next) = &page.next {
            o.str("nextPageToken", next);
        }
        o.int("total", visible as i64).str("totalType", "equal");
    });
    Response::json(200, body)
}

fn bird_conversations(state: &State, query: &Query) -> Response {
    let (limit, reverse) = match bird_paging(query) {
        Ok(paging) => paging,
        Err(response) => return response,
    };
    let convs = state.data.conversations(Provider::Bird);
    let Some(page) = page(
        &Scope::Conversations,
        query.non_empty("pageToken"),
        limit,
        convs.len(),
        false,
    ) else {
        return bird_bad_request("pageToken is not valid");
    };
    let mut body = Vec::new();
    json::object(&mut body, |o| {
        o.arr("results", |a| {
            for p in page.start..page.end {
                let i = if reverse { convs.len() - 1 - p } else { p };
                a.raw(&convs[i].listing);
            }
        });
        if let Some(next) = &page.next {
            o.str("nextPageToken", next);
        }
    });
    Response::json(200, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_queries() {
        let q = Query::parse("a=1&b=x%20y+z&c&=v&a=2&d=%E2%82%AC").unwrap();
        assert_eq!(q.get("a"), Some("1"));
        assert_eq!(q.get("b"), Some("x y z"));
        assert_eq!(q.get("c"), Some(""));
        assert_eq!(q.non_empty("c"), None);
        assert_eq!(q.get("d"), Some("€"));
        assert!(Query::parse("a=%zz").is_none());
        assert!(Query::parse("a=%e2").is_none());
        assert!(Query::parse("a=%").is_none());
        assert_eq!(
            segments("/workspaces/a%2Fb/conversations/").unwrap(),
            ["workspaces", "a/b", "conversations"]
        );
        assert_eq!(segments("/").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn pages_and_loops() {
        let scope = Scope::Messages("1");
        let p = page(&scope, None, 30, 70, false).unwrap();
        assert_eq!((p.start, p.end), (0, 30));
        let p2 = page(&scope, p.next.as_deref(), 30, 70, false).unwrap();
        assert_eq!((p2.start, p2.end), (30, 60));
        let p3 = page(&scope, p2.next.as_deref(), 30, 70, false).unwrap();
        assert_eq!((p3.start, p3.end, p3.next), (60, 70, None));
        let l1 = page(&scope, None, 30, 10, true).unwrap();
        let l2 = page(&scope, l1.next.as_deref(), 30, 10, true).unwrap();
        assert_eq!(l1.next, l2.next);
        assert!(page(&scope, Some("garbage"), 30, 70, false).is_none());
        let p = page(&scope, None, 30, 0, false).unwrap();
        assert_eq!((p.start, p.end, p.next), (0, 0, None));
    }
}
