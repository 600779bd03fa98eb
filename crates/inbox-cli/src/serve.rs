//! `inbox serve`: the webhook endpoints. Verified on the raw bytes, normalized like a sync,
//! committed before they are acknowledged; Bird's conversation events trigger a debounced
//! incremental read of that conversation; an optional scheduled sync catches what webhooks
//! missed.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use inbox::model::{ConversationId, Provider};
use inbox::store::{Delivery, Ingest, Ingested, OpenOptions, Store, WebhookRejection};
use inbox::webhook::{
    BirdEvent, BirdHeaders, BirdVerifier, ConversationEventKind, MessageEventKind, PartooEvent,
    PartooVerifier, Undecodable,
};
use inbox::{Account, Inbox, SyncOptions, Target};
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use crate::Outcome;
use crate::args::ServeArgs;
use crate::{Wanted, sources};

/// What the endpoints did, for the summary at shutdown.
#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    duplicates: AtomicU64,
    refused: AtomicU64,
    rejected: AtomicU64,
    ignored: AtomicU64,
    unavailable: AtomicU64,
    triggered: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn summary(&self) -> String {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "{} events stored, {} duplicates, {} refused (signature), {} kept raw (undecodable), {} ignored, {} answered 503, {} conversation reads",
            n(&self.accepted),
            n(&self.duplicates),
            n(&self.refused),
            n(&self.rejected),
            n(&self.ignored),
            n(&self.unavailable),
            n(&self.triggered),
        )
    }
}

/// Bird's side: its verifier, the workspace its events belong to, the trigger queue.
struct BirdSide {
    verifier: BirdVerifier,
    account: Account,
    trigger: mpsc::UnboundedSender<ConversationId>,
}

/// One write and who waits for it.
struct Job {
    write: Ingest,
    reply: oneshot::Sender<Result<Ingested, String>>,
}

/// The most writes one transaction takes.
const BATCH: usize = 256;

/// The longest the committer keeps the store's writing connection while events keep coming
/// (it gives it back at once when another writer of this process waits for it: a scheduled
/// sync, the Bird reader, the outbox).
const HOLD: Duration = Duration::from_millis(100);

/// How long the committer keeps the connection waiting for the next event before giving it
/// back: longer than the gap between the commits of a busy stream.
const IDLE: Duration = Duration::from_millis(5);

/// Commits what the handlers hand it: whatever is queued when it gets to it, up to
/// [`BATCH`], in one transaction (one commit for many events: group commit), then answers
/// each handler. While events keep coming it holds the store's writing connection (up to
/// [`HOLD`], and not while another writer waits for it), so a commit costs its
/// transaction only.
async fn committer(store: Store, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut writer = match store.writer().await {
            Ok(writer) => writer,
            Err(e) => {
                answer(batch(first, &mut jobs).1, Err(e.to_string()));
                continue;
            }
        };
        let held = Instant::now();
        let mut next = Some(first);
        while let Some(first) = next.take() {
            let (writes, replies) = batch(first, &mut jobs);
            let failed = match writer.ingest(&writes).await {
                Ok(done) => {
                    for (reply, done) in replies.into_iter().zip(done) {
                        let _ = reply.send(Ok(done));
                    }
                    false
                }
                Err(e) => {
                    answer(replies, Err(e.to_string()));
                    true
                }
            };
            if failed || held.elapsed() >= HOLD || writer.others_waiting() {
                break;
            }
            next = tokio::time::timeout(IDLE, jobs.recv()).await.ok().flatten();
        }
    }
}

/// `first` and whatever else is queued, up to [`BATCH`]: the writes and who waits for each.
type Batch = (Vec<Ingest>, Vec<oneshot::Sender<Result<Ingested, String>>>);

fn batch(first: Job, jobs: &mut mpsc::Receiver<Job>) -> Batch {
    let mut batch = vec![first];
    while batch.len() < BATCH {
        match jobs.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    batch.into_iter().map(|j| (j.write, j.reply)).unzip()
}

/// Gives every handler of a batch the same answer.
fn answer(
    replies: Vec<oneshot::Sender<Result<Ingested, String>>>,
    result: Result<Ingested, String>,
) {
    for reply in replies {
        let _ = reply.send(result.clone());
    }
}

struct App {
    store: Store,
    writer: mpsc::Sender<Job>,
    partoo: Option<PartooVerifier>,
    bird: Option<BirdSide>,
    counters: Counters,
}

type Shared = Arc<App>;

impl App {
    /// Commits `write` (batched with whatever else is being written) and says what it did.
    async fn write(&self, write: Ingest) -> Result<Ingested, String> {
        let (reply, done) = oneshot::channel();
        self.writer
            .send(Job { write, reply })
            .await
            .map_err(|_| "the store's writer stopped".to_owned())?;
        done.await
            .map_err(|_| "the store's writer stopped".to_owned())?
    }
}

/// A key given as itself or as `@FILE`.
fn key_text(value: &str, flag: &str) -> Result<String, String> {
    match value.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map(|text| text.trim().to_owned())
            .map_err(|e| format!("{flag} @{path}: {e}")),
        None => Ok(value.trim().to_owned()),
    }
}

pub(crate) async fn run(args: &ServeArgs) -> Outcome {
    init_tracing();
    let partoo = match &args.partoo_public_key {
        Some(value) => match key_text(value, "--partoo-public-key")
            .and_then(|text| PartooVerifier::from_key(&text).map_err(|e| e.to_string()))
        {
            Ok(verifier) => Some(verifier),
            Err(message) => return Outcome::Usage(message),
        },
        None => None,
    };
    let bird_key = match &args.bird_signing_key {
        Some(value) => match key_text(value, "--bird-signing-key") {
            Ok(key) if !key.is_empty() => Some(key),
            Ok(_) => return Outcome::Usage("--bird-signing-key is empty".into()),
            Err(message) => return Outcome::Usage(message),
        },
        None => None,
    };
    if partoo.is_none() && bird_key.is_none() {
        return Outcome::Usage(
            "nothing to serve: give --partoo-public-key and/or --bird-signing-key".into(),
        );
    }
    if bird_key.is_some() && args.bird_public_url.is_none() {
        return Outcome::Usage(
            "--bird-signing-key needs --bird-public-url: the URL Bird calls, which its signature covers".into(),
        );
    }
    // Bird's events are triggers: reading the conversation needs Bird's API. A scheduled
    // sync needs every provider served.
    let wanted = Wanted {
        partoo: partoo.is_some() && args.sync_every.is_some(),
        bird: bird_key.is_some(),
    };
    let inbox = if wanted.partoo || wanted.bird {
        match sources(&args.connection, wanted, 16, true).and_then(|s| {
            s.inbox
                .build()
                .map_err(|e| format!("cannot build the inbox: {e}"))
        }) {
            Ok(inbox) => Some(Arc::new(inbox)),
            Err(message) => return Outcome::Usage(message),
        }
    } else {
        None
    };
    // A long-running writer: the log is checkpointed beside the commits, not inside one.
    let options = OpenOptions::default()
        .lock_timeout(args.db.lock_timeout)
        .checkpoint_every(Some(Duration::from_millis(250)));
    let store = match Store::open_with(&args.db.db, options).await {
        Ok(store) => store,
        Err(e) => return Outcome::Usage(e.to_string()),
    };
    let (trigger, triggered) = mpsc::unbounded_channel();
    let bird = match (&bird_key, &args.bird_public_url, &inbox) {
        (Some(key), Some(url), Some(inbox)) => {
            let account = match inbox.account("bird").await {
                Ok(account) => account,
                Err(failure) => return Outcome::NothingFetched(failure.to_string()),
            };
            Some(BirdSide {
                verifier: BirdVerifier::new(key.as_str(), url.as_str()),
                account,
                trigger,
            })
        }
        _ => None,
    };
    let (writer, jobs) = mpsc::channel(4 * BATCH);
    let mut background = tokio::task::JoinSet::new();
    background.spawn(committer(store.clone(), jobs));
    let app = Arc::new(App {
        store,
        writer,
        partoo,
        bird,
        counters: Counters::default(),
    });
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(listener) => listener,
        Err(e) => return Outcome::Failed(format!("cannot listen on {}: {e}", args.listen)),
    };
    let local = listener.local_addr().unwrap_or(args.listen);
    let mut router = Router::new().route("/healthz", get(healthz));
    if app.partoo.is_some() {
        router = router.route("/webhooks/partoo", post(partoo_webhook));
    }
    if app.bird.is_some() {
        router = router.route("/webhooks/bird", post(bird_webhook));
    }
    let router = router
        .layer(DefaultBodyLimit::max(args.max_body))
        .with_state(app.clone());
    if let Some(inbox) = &inbox
        && app.bird.is_some()
    {
        background.spawn(reader(
            app.clone(),
            inbox.clone(),
            triggered,
            args.debounce,
            args.overlap,
        ));
    }
    if let (Some(every), Some(inbox)) = (args.sync_every, &inbox) {
        let mut targets = Vec::new();
        if wanted.partoo {
            targets.push(Target::all("partoo"));
        }
        if wanted.bird {
            targets.push(Target::all("bird"));
        }
        background.spawn(scheduled(
            app.clone(),
            inbox.clone(),
            targets,
            every,
            args.overlap,
        ));
    }
    if let Some(inbox) = &inbox {
        // The outbox's sender: what `inbox send --no-wait` (or a send cut short) left.
        let outbox = inbox::store::Outbox::new(app.store.clone(), Inbox::clone(inbox));
        background.spawn(async move {
            if let Err(error) = outbox.run(shutdown()).await {
                tracing::warn!(%error, "the outbox sender stopped");
            }
        });
    }
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let written = writeln!(out, "listening on http://{local}").and_then(|()| out.flush());
        if let Err(e) = written {
            return Outcome::Failed(format!("cannot write to standard output: {e}"));
        }
    }
    let routes: Vec<&str> = [
        app.partoo.is_some().then_some("POST /webhooks/partoo"),
        app.bird.is_some().then_some("POST /webhooks/bird"),
        Some("GET /healthz"),
    ]
    .into_iter()
    .flatten()
    .collect();
    eprintln!("serving {}", routes.join(", "));
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown())
        .await;
    background.abort_all();
    while background.join_next().await.is_some() {}
    eprintln!("{}", app.counters.summary());
    app.store.clone().close().await;
    match served {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::Failed(format!("the server stopped: {e}")),
    }
}

/// Resolves on ctrl-c or SIGTERM: the server then stops accepting and finishes what is in
/// flight.
pub(crate) async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Logs to stderr at the level `INBOX_LOG` names (`info` by default; `off` for none).
pub(crate) fn init_tracing() {
    let level = std::env::var("INBOX_LOG")
        .ok()
        .and_then(|v| v.parse::<tracing_subscriber::filter::LevelFilter>().ok())
        .unwrap_or(tracing_subscriber::filter::LevelFilter::INFO);
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

async fn healthz(State(app): State<Shared>) -> (StatusCode, &'static str) {
    // A statement the database answers without reading a table.
    match app.store.ping().await {
        Ok(_) => (StatusCode::OK, "ok\n"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n"),
    }
}

/// What a request came to: its status and the outcome logged with it.
struct Answer {
    status: StatusCode,
    outcome: &'static str,
    event: Option<String>,
}

impl Answer {
    fn new(status: StatusCode, outcome: &'static str, event: Option<String>) -> Self {
        Self {
            status,
            outcome,
            event,
        }
    }
}

/// Runs `handle` in a span naming the provider, then records the event type, the outcome
/// and the latency. Never a key, a signature or a body.
async fn traced<F>(provider: &'static str, handle: F) -> StatusCode
where
    F: std::future::Future<Output = Answer>,
{
    let span = tracing::info_span!(
        "webhook",
        provider,
        event = tracing::field::Empty,
        outcome = tracing::field::Empty,
        latency_us = tracing::field::Empty,
    );
    let started = Instant::now();
    let answer = handle.instrument(span.clone()).await;
    span.record("event", answer.event.as_deref().unwrap_or("-"));
    span.record("outcome", answer.outcome);
    span.record(
        "latency_us",
        u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
    );
    span.in_scope(|| {
        tracing::info!(status = answer.status.as_u16(), "webhook answered");
    });
    answer.status
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A store failure: the provider should retry (Partoo retries 5xx up to 5 times, Bird for
/// hours).
fn unavailable(app: &App, e: &str, event: Option<String>) -> Answer {
    Counters::add(&app.counters.unavailable);
    tracing::warn!(error = %e, "the store refused a webhook's write");
    Answer::new(StatusCode::SERVICE_UNAVAILABLE, "store unavailable", event)
}

/// Keeps an authentic body that did not decode, and acknowledges it: the provider must not
/// retry it forever.
async fn keep_raw(app: &App, provider: &str, body: &[u8], e: Undecodable) -> Answer {
    let rejection = WebhookRejection {
        provider: provider.to_owned(),
        event_type: e.event_type.clone(),
        path: e.path,
        message: e.message,
        raw: String::from_utf8_lossy(body).into_owned(),
    };
    match app.write(Ingest::Rejected(rejection)).await {
        Ok(_) => {
            Counters::add(&app.counters.rejected);
            Answer::new(StatusCode::OK, "kept raw", e.event_type)
        }
        Err(err) => unavailable(app, &err, e.event_type),
    }
}

async fn partoo_webhook(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    traced("partoo", async {
        let Some(verifier) = &app.partoo else {
            return Answer::new(StatusCode::NOT_FOUND, "not served", None);
        };
        if let Err(e) = verifier.verify(&body, header(&headers, inbox::webhook::PARTOO_SIGNATURE)) {
            Counters::add(&app.counters.refused);
            tracing::info!(reason = %e, "refused");
            return Answer::new(StatusCode::UNAUTHORIZED, "refused", None);
        }
        match inbox::webhook::decode_partoo(&body) {
            Ok(PartooEvent::Message {
                kind,
                org_id,
                message,
            }) => {
                let account = Account::new(Provider::Partoo, org_id);
                let event = Some(kind.as_str().to_owned());
                let written = app
                    .write(Ingest::Messages {
                        account,
                        messages: vec![*message],
                        only_new: matches!(kind, MessageEventKind::Created),
                        delivery: None,
                    })
                    .await;
                match written {
                    Ok(_) => {
                        Counters::add(&app.counters.accepted);
                        Answer::new(StatusCode::OK, "stored", event)
                    }
                    Err(e) => unavailable(&app, &e, event),
                }
            }
            Ok(PartooEvent::Other { event_type }) => {
                Counters::add(&app.counters.ignored);
                Answer::new(StatusCode::OK, "ignored", Some(event_type))
            }
            Ok(_) => {
                Counters::add(&app.counters.ignored);
                Answer::new(StatusCode::OK, "ignored", None)
            }
            Err(e) => keep_raw(&app, "partoo", &body, e).await,
        }
    })
    .await
}

async fn bird_webhook(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    traced("bird", async {
        let Some(bird) = &app.bird else {
            return Answer::new(StatusCode::NOT_FOUND, "not served", None);
        };
        let signed = BirdHeaders {
            signature: header(&headers, inbox::webhook::BIRD_SIGNATURE),
            timestamp: header(&headers, inbox::webhook::BIRD_TIMESTAMP),
            request_id: header(&headers, inbox::webhook::BIRD_REQUEST_ID),
        };
        let delivery = match bird.verifier.verify(&body, signed, SystemTime::now()) {
            Ok(delivery) => delivery,
            Err(e) => {
                Counters::add(&app.counters.refused);
                tracing::info!(reason = %e, "refused");
                return Answer::new(StatusCode::UNAUTHORIZED, "refused", None);
            }
        };
        match inbox::webhook::decode_bird(&body) {
            Ok(BirdEvent::Conversation { kind, conversation }) => {
                let event = Some(kind.as_str().to_owned());
                let id = conversation.id.clone();
                let seen = Delivery {
                    provider: "bird".into(),
                    id: delivery.request_id,
                    event_type: event.clone(),
                };
                let deleted = matches!(kind, ConversationEventKind::Deleted);
                let written = app
                    .write(Ingest::Conversation {
                        account: bird.account.clone(),
                        summary: conversation,
                        vanished: deleted,
                        delivery: Some(seen),
                    })
                    .await;
                match written {
                    Ok(Ingested::Applied(_)) => {
                        Counters::add(&app.counters.accepted);
                        if !deleted {
                            let _ = bird.trigger.send(id);
                        }
                        Answer::new(StatusCode::OK, "stored", event)
                    }
                    Ok(_) => {
                        Counters::add(&app.counters.duplicates);
                        Answer::new(StatusCode::OK, "duplicate", event)
                    }
                    Err(e) => unavailable(&app, &e, event),
                }
            }
            Ok(BirdEvent::Other { event }) => {
                Counters::add(&app.counters.ignored);
                Answer::new(StatusCode::OK, "ignored", Some(event))
            }
            Ok(_) => {
                Counters::add(&app.counters.ignored);
                Answer::new(StatusCode::OK, "ignored", None)
            }
            Err(e) => keep_raw(&app, "bird", &body, e).await,
        }
    })
    .await
}

/// Reads the conversations Bird's events name, from their checkpoints: the events of a
/// burst that arrive within `debounce` of its first are one read per conversation.
async fn reader(
    app: Shared,
    inbox: Arc<Inbox>,
    mut triggered: mpsc::UnboundedReceiver<ConversationId>,
    debounce: Duration,
    overlap: Duration,
) {
    let options = SyncOptions::default().overlap(overlap);
    while let Some(first) = triggered.recv().await {
        let mut due = BTreeSet::from([first.to_string()]);
        let mut ids = vec![first];
        let window = tokio::time::sleep(debounce);
        tokio::pin!(window);
        loop {
            tokio::select! {
                () = &mut window => break,
                next = triggered.recv() => match next {
                    Some(id) => {
                        if due.insert(id.to_string()) {
                            ids.push(id);
                        }
                    }
                    None => break,
                },
            }
        }
        let targets: Vec<Target> = ids
            .into_iter()
            .map(|id| Target::conversation("bird", id))
            .collect();
        let count = targets.len() as u64;
        match app.store.sync(&inbox, targets, &options).await {
            Ok(report) => {
                app.counters.triggered.fetch_add(count, Ordering::Relaxed);
                for failure in &report.failures {
                    tracing::warn!(%failure, "a triggered read failed; the next sync reads it");
                }
            }
            Err(e) => tracing::warn!(error = %e, "a triggered read could not be stored"),
        }
    }
}

/// The incremental sync every `every`, so a missed webhook is caught.
async fn scheduled(
    app: Shared,
    inbox: Arc<Inbox>,
    targets: Vec<Target>,
    every: Duration,
    overlap: Duration,
) {
    let options = SyncOptions::default().overlap(overlap);
    loop {
        match app.store.sync(&inbox, targets.clone(), &options).await {
            Ok(report) => {
                let total = report.total();
                tracing::info!(
                    changed = total.changed,
                    skipped = total.skipped,
                    new = total.new,
                    updated = total.updated,
                    failures = report.failures.len(),
                    "scheduled sync"
                );
            }
            Err(e) => tracing::warn!(error = %e, "the scheduled sync could not be stored"),
        }
        tokio::time::sleep(every).await;
    }
}

/// The address `--listen` takes.
pub(crate) fn listen(text: &str) -> Result<SocketAddr, String> {
    text.parse()
        .map_err(|e| format!("{e} (expected an address and port, e.g. 127.0.0.1:8080)"))
}
