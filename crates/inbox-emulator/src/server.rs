//! The HTTP/1.1 server, on hyper: one accept loop per listener, one task per connection
//! (keep-alive and pipelining are hyper's), and the faults, as real transport behaviour:
//! a dropped connection is a service error (hyper closes the connection without writing),
//! a body cut short is a streamed body that fails half way, a hang is an answer that never
//! comes, a trickle is a body streamed one byte at a time.
//!
//! Every wait is a tokio timer (so that a paused clock drives them all), and none is armed
//! on the normal path except the configured latency: hyper gets no timer, so no idle or
//! header timeout jumps a paused clock.
//!
//! A request's body is read whole (up to 64 KiB) before anything else, then its fault is
//! decided. The faults that answer instead of the API (429, 5xx, a dropped connection, a
//! hang) come before handling: a send they meet is not accepted. Those that change how the
//! answer travels (slow, cut short, trickled) come after: the send is accepted, then its
//! answer is slowed, cut or trickled. A send's own fault (an answer withheld after it was
//! accepted) comes last, and is a hang.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited, StreamBody};
use hyper::body::{Body as _, Bytes, Frame, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::State;
use crate::api::{self, Reply};
use crate::dataset::Provider;
use crate::fault::Fault;

/// The largest request head accepted (request line and headers); hyper answers a larger
/// one with 431 and closes.
pub(crate) const MAX_HEAD_BYTES: usize = 16 * 1024;
/// The most header lines accepted (hyper answers more with 431).
const MAX_HEADERS: usize = 100;
/// The largest request body read (a GET's is read and ignored). A larger one is a 413.
const MAX_BODY_BYTES: u64 = 64 * 1024;
/// How long a client may take to send a request body it announced.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a body cut short waits, after its first half, before it fails: long enough for
/// hyper to flush the head and the half to the client before the connection closes.
const CUT_GRACE: Duration = Duration::from_millis(20);

/// A response body: whole, or streamed by a fault.
type Body = UnsyncBoxBody<Bytes, Cut>;

/// The error a body cut short ends with (hyper then closes the connection).
#[derive(Debug)]
pub(crate) struct Cut;

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the emulator cut this response body short")
    }
}

impl std::error::Error for Cut {}

/// The service error of a dropped connection: hyper closes it without an answer.
#[derive(Debug)]
pub(crate) struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the emulator dropped this connection")
    }
}

impl std::error::Error for Dropped {}

/// Accepts connections until aborted; aborting drops the `JoinSet`, which aborts every
/// connection task (and so every hanging request).
pub(crate) async fn accept(listener: TcpListener, state: Arc<State>, provider: Provider) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    state.count_connection(provider);
                    connections.spawn(serve(stream, Arc::clone(&state), provider));
                }
                // Out of file descriptors, or a connection reset before it was accepted:
                // wait a little and go on.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Serves one connection until the client closes it, asks to, or a fault ends it.
async fn serve(stream: TcpStream, state: Arc<State>, provider: Provider) {
    let _ = stream.set_nodelay(true);
    let service_state = Arc::clone(&state);
    let service = service_fn(move |request| respond(Arc::clone(&service_state), provider, request));
    let connection = http1::Builder::new()
        .max_header_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS)
        // As the old hand-written server wrote them, and as curl users expect to read them.
        .title_case_headers(true)
        // No wall clock in what is served: the same requests get the same bytes.
        .auto_date_header(false)
        .serve_connection(TokioIo::new(stream), service);
    if let Err(error) = connection.await {
        // hyper answered a malformed request itself (400, 431): it is a request too.
        if error.is_parse() || error.is_parse_too_large() {
            state.count_request(provider);
        }
    }
}

/// Answers one request: reads its body, decides its fault, builds the answer, and sends it
/// `latency` after the request arrived.
async fn respond(
    state: Arc<State>,
    provider: Provider,
    request: Request<Incoming>,
) -> Result<Response<Body>, Dropped> {
    let arrived = tokio::time::Instant::now();
    let (parts, body) = request.into_parts();
    state.count_request(provider);
    let _in_flight = state.in_flight(provider);
    // The account the key opens is counted from arrival too, whatever answers it.
    let tenant = state.tenant_for(provider, &parts.headers);
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(status) => {
            let why = match status {
                StatusCode::PAYLOAD_TOO_LARGE => "the request body is too large",
                StatusCode::REQUEST_TIMEOUT => "the request body took too long",
                _ => "the request body could not be read",
            };
            if api::is_send(provider, &parts.method, parts.uri.path()) {
                state.count_send(crate::send::Outcome::Refused);
            }
            let reply = api::error(provider, status, why);
            return Ok(response(reply, Delivery::Close));
        }
    };
    let fault = state.decide_fault();
    let faults = &state.config.faults;
    let mut delay = state.config.latency;
    if fault == Fault::Slow {
        delay += faults.slow_delay;
    }
    // The answer is built first and leaves `delay` after the request arrived: the latency
    // is what the client sees, whatever building the answer cost.
    let reply = match fault {
        Fault::Drop | Fault::Hang => None,
        Fault::RateLimited => Some(api::rate_limited(provider, faults.retry_after_secs)),
        Fault::ServerError(status) => Some(api::server_error(
            provider,
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        )),
        Fault::None | Fault::Slow | Fault::CutBody | Fault::Trickle => {
            let request = api::Request {
                method: &parts.method,
                path: parts.uri.path(),
                query: parts.uri.query().unwrap_or(""),
                body: &body,
            };
            Some(api::handle(
                &state,
                tenant.as_ref().map(|(t, _)| *t),
                provider,
                &request,
            ))
        }
    };
    if !delay.is_zero() {
        tokio::time::sleep_until(arrived + delay).await;
    }
    let withheld = reply.as_ref().is_some_and(|r| r.withheld);
    let delivery = match fault {
        _ if withheld => {
            // Accepted, then no answer ever: as a hang.
            std::future::pending::<()>().await;
            return Err(Dropped);
        }
        Fault::Hang => {
            // No head, ever: the connection stays open until the client gives up (hyper
            // then drops this future) or the emulator shuts down (which aborts it).
            std::future::pending::<()>().await;
            return Err(Dropped);
        }
        Fault::Drop => return Err(Dropped),
        Fault::CutBody => Delivery::Cut,
        Fault::Trickle => Delivery::Trickle(faults.trickle_interval),
        _ => Delivery::Whole,
    };
    let Some(reply) = reply else {
        return Err(Dropped);
    };
    Ok(response(reply, delivery))
}

/// Reads a request body whole; `Err` with the status to answer when it is too large (413),
/// does not arrive in time (408) or breaks off (400: a bad chunk, a connection closed half
/// way).
async fn read_body(body: Incoming) -> Result<Bytes, StatusCode> {
    if body.is_end_stream() {
        return Ok(Bytes::new());
    }
    if body.size_hint().lower() > MAX_BODY_BYTES {
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    match tokio::time::timeout(
        BODY_TIMEOUT,
        Limited::new(body, MAX_BODY_BYTES as usize).collect(),
    )
    .await
    {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(error)) if error.downcast_ref::<LengthLimitError>().is_some() => {
            Err(StatusCode::PAYLOAD_TOO_LARGE)
        }
        Ok(Err(_)) => Err(StatusCode::BAD_REQUEST),
        Err(_) => Err(StatusCode::REQUEST_TIMEOUT),
    }
}

/// How a response's body goes out.
#[derive(Clone, Copy)]
enum Delivery {
    /// Whole; the connection stays open.
    Whole,
    /// Whole, then the connection closes.
    Close,
    /// Its first half, then the body fails and the connection closes.
    Cut,
    /// One byte every interval.
    Trickle(Duration),
}

fn response(reply: Reply, delivery: Delivery) -> Response<Body> {
    let Reply {
        status,
        body,
        retry_after,
        allow,
        withheld: _,
    } = reply;
    let bytes = Bytes::from(body);
    let length = bytes.len();
    let body: Body = match delivery {
        Delivery::Whole | Delivery::Close => Full::new(bytes)
            .map_err(|never: Infallible| match never {})
            .boxed_unsync(),
        Delivery::Cut => {
            let half = bytes.slice(..length / 2);
            let frames = futures_util::stream::once(async move { Ok(Frame::data(half)) }).chain(
                futures_util::stream::once(async {
                    tokio::time::sleep(CUT_GRACE).await;
                    Err(Cut)
                }),
            );
            StreamBody::new(frames).boxed_unsync()
        }
        Delivery::Trickle(interval) => {
            let frames = futures_util::stream::unfold(0, move |at| {
                let bytes = bytes.clone();
                async move {
                    if at >= bytes.len() {
                        return None;
                    }
                    tokio::time::sleep(interval).await;
                    Some((Ok(Frame::data(bytes.slice(at..at + 1))), at + 1))
                }
            });
            StreamBody::new(frames).boxed_unsync()
        }
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // Announced whole even when the body is cut short or trickled.
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if let Some(secs) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if let Some(allow) = allow {
        headers.insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    if matches!(delivery, Delivery::Close | Delivery::Cut) {
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
