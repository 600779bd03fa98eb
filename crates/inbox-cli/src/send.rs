//! `inbox send`, `inbox retry` and `inbox outbox`: replies through the store's outbox.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use inbox::model::ConversationId;
use inbox::store::{Outbox, OutboxEntry, OutboxError, OutboxOptions, OutboxStatus, Store};
use inbox::{Draft, Inbox, MediaDraft, SendError};
use serde_json::json;

use crate::Outcome;
use crate::args::{OutboxArgs, OutboxFormat, RetryArgs, SendArgs, SendSources};
use crate::{Wanted, sources};

/// The inbox of a command that sends: the accounts of the file, or the single account of
/// the flags (for the providers `wanted`, or those with credentials).
fn inbox(s: &SendSources, wanted: Option<Wanted>) -> Result<Inbox, String> {
    let builder = match &s.accounts {
        Some(path) => crate::accounts::load(path, 4, true)?.inbox,
        None => {
            let wanted = match wanted {
                Some(wanted) => wanted,
                None => crate::providers(&s.connection, &[])?,
            };
            sources(&s.connection, wanted, 4, true)?.inbox
        }
    };
    builder.build().map_err(|e| e.to_string())
}

/// The source a send goes through: `--source` with an accounts file, else the provider's.
fn source_of(s: &SendSources, named: &Option<String>, provider: &str) -> Result<String, String> {
    match (&s.accounts, named) {
        (Some(_), Some(name)) => Ok(name.clone()),
        (Some(_), None) => Err("with --accounts, name the account that sends with --source".into()),
        (None, Some(name)) if name != provider => Err(format!(
            "--source {name}: without --accounts, the source is `{provider}`"
        )),
        (None, _) => Ok(provider.to_owned()),
    }
}

fn draft(args: &SendArgs) -> Draft {
    let media = |url: &String| MediaDraft {
        url: url.clone(),
        size: args.size,
        file_name: args.file_name.clone(),
        mime: args.mime.clone(),
    };
    if let Some(url) = &args.image {
        Draft::Image(media(url))
    } else if let Some(url) = &args.video {
        Draft::Video(media(url))
    } else if let Some(url) = &args.audio {
        Draft::Audio(media(url))
    } else if let Some(url) = &args.file {
        Draft::Document(media(url))
    } else {
        Draft::text(args.text.clone().unwrap_or_default())
    }
}

async fn open(db: &crate::args::DbArgs) -> Result<Store, Outcome> {
    let options = inbox::store::OpenOptions::default().lock_timeout(db.lock_timeout);
    Store::open_with(&db.db, options)
        .await
        .map_err(|e| Outcome::Usage(e.to_string()))
}

pub(crate) async fn send(args: &SendArgs) -> Outcome {
    let (conversation, provider) = match (&args.partoo_conversation, &args.bird_conversation) {
        (Some(id), _) => (ConversationId::Partoo(*id), "partoo"),
        (None, Some(id)) => (ConversationId::Bird(id.into()), "bird"),
        (None, None) => {
            return Outcome::Usage(
                "give --partoo-conversation ID or --bird-conversation ID".into(),
            );
        }
    };
    let source = match source_of(&args.sources, &args.source, provider) {
        Ok(source) => source,
        Err(message) => return Outcome::Usage(message),
    };
    let wanted = Wanted {
        partoo: provider == "partoo",
        bird: provider == "bird",
    };
    let inbox = match inbox(&args.sources, Some(wanted)) {
        Ok(inbox) => inbox,
        Err(message) => return Outcome::Usage(message),
    };
    let store = match open(&args.db).await {
        Ok(store) => store,
        Err(outcome) => return outcome,
    };
    let outbox = Outbox::new(store.clone(), inbox);
    let outcome = send_on(args, &outbox, &source, &conversation).await;
    store.close().await;
    outcome
}

async fn send_on(
    args: &SendArgs,
    outbox: &Outbox,
    source: &str,
    conversation: &ConversationId,
) -> Outcome {
    let id = match outbox.send(source, conversation, draft(args)).await {
        Ok(id) => id,
        Err(OutboxError::Invalid(e)) => return Outcome::Usage(e.to_string()),
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    if args.no_wait {
        return say(&format!("queued {id}"), Outcome::Done);
    }
    // Send what is due (this one among them) until this one settles.
    let deadline = Instant::now() + args.timeout;
    loop {
        let entry = match outbox.store().outbox_entry(&id).await {
            Ok(Some(entry)) => entry,
            Ok(None) => return Outcome::Failed(format!("outbox row {id} vanished")),
            Err(e) => return Outcome::Failed(e.to_string()),
        };
        match entry.status {
            OutboxStatus::Sent => {
                let line = format!(
                    "sent {} (outbox {id})",
                    entry.message_id.as_deref().unwrap_or("?")
                );
                return say(&line, Outcome::Done);
            }
            OutboxStatus::Failed => {
                return Outcome::Failed(format!(
                    "not sent (outbox {id}): {}",
                    entry.last_error.as_deref().unwrap_or("failed")
                ));
            }
            OutboxStatus::Pending | OutboxStatus::Sending => {}
        }
        if Instant::now() >= deadline {
            let queued = say(&format!("queued {id}"), Outcome::Partial);
            eprintln!(
                "inbox: not sent yet within {:?} ({}); it stays in the outbox: `inbox outbox --send` (or `inbox serve`, `inbox worker`) on this database sends it",
                args.timeout,
                entry
                    .last_error
                    .as_deref()
                    .unwrap_or("waiting for its turn")
            );
            return queued;
        }
        match outbox.send_due().await {
            Ok(round) if round.leased == 0 => tokio::time::sleep(Duration::from_millis(100)).await,
            Ok(_) => {}
            Err(e) => return Outcome::Failed(e.to_string()),
        }
    }
}

/// One line on standard output, then `then` (or the write's failure).
fn say(line: &str, then: Outcome) -> Outcome {
    let mut out = io::stdout().lock();
    Outcome::of_write(writeln!(out, "{line}").and_then(|()| out.flush()), then)
}

pub(crate) async fn retry(args: &RetryArgs) -> Outcome {
    let source = match source_of(&args.sources, &args.source, "partoo") {
        Ok(source) => source,
        Err(message) => return Outcome::Usage(message),
    };
    let wanted = Wanted {
        partoo: true,
        bird: false,
    };
    let inbox = match inbox(&args.sources, Some(wanted)) {
        Ok(inbox) => inbox,
        Err(message) => return Outcome::Usage(message),
    };
    match inbox
        .retry_failed(&source, &args.partoo_message.to_string())
        .await
    {
        Ok(()) => say(&format!("retrying {}", args.partoo_message), Outcome::Done),
        Err(e @ SendError::Invalid(_)) => Outcome::Usage(e.to_string()),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

pub(crate) async fn outbox(args: &OutboxArgs) -> Outcome {
    let store = match open(&args.db).await {
        Ok(store) => store,
        Err(outcome) => return outcome,
    };
    let outcome = outbox_on(args, &store).await;
    store.close().await;
    outcome
}

async fn outbox_on(args: &OutboxArgs, store: &Store) -> Outcome {
    let mut failed_now = 0;
    if args.send {
        let inbox = match inbox(&args.sources, None) {
            Ok(inbox) => inbox,
            Err(message) => return Outcome::Usage(message),
        };
        let options = OutboxOptions::default()
            .lease(args.lease)
            .max_attempts(args.max_attempts)
            .backoff(args.backoff)
            .lookup_delay(args.lookup_delay);
        let outbox = Outbox::new(store.clone(), inbox).with_options(options);
        let stop = crate::serve::shutdown();
        tokio::pin!(stop);
        loop {
            let round = tokio::select! {
                round = outbox.send_due() => round,
                () = &mut stop => break,
            };
            match round {
                Ok(round) => {
                    failed_now += round.failed;
                    if round.leased == 0 {
                        match outbox.unsettled().await {
                            Ok(0) => break,
                            Ok(_) => {}
                            Err(e) => return Outcome::Failed(e.to_string()),
                        }
                        tokio::select! {
                            () = tokio::time::sleep(Duration::from_millis(100)) => {}
                            () = &mut stop => break,
                        }
                    }
                }
                Err(e) => return Outcome::Failed(e.to_string()),
            }
        }
    }
    let statuses: &[OutboxStatus] = if args.all {
        &[]
    } else {
        &[
            OutboxStatus::Pending,
            OutboxStatus::Sending,
            OutboxStatus::Failed,
        ]
    };
    let entries = match store.outbox_entries(statuses, usize::MAX).await {
        Ok(entries) => entries,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let out = io::stdout();
    let mut out = io::BufWriter::new(out.lock());
    let written = match args.format {
        OutboxFormat::Json => {
            let rows: Vec<_> = entries.iter().map(entry_json).collect();
            serde_json::to_writer_pretty(&mut out, &rows)
                .map_err(io::Error::from)
                .and_then(|()| writeln!(out))
        }
        OutboxFormat::Table => table(&mut out, &entries),
    };
    let verdict = if failed_now > 0 {
        Outcome::Partial
    } else {
        Outcome::Done
    };
    Outcome::of_write(written.and_then(|()| out.flush()), verdict)
}

fn time(nanos: i64) -> String {
    inbox::Timestamp::from_unix_nanos(i128::from(nanos))
        .map(|t| t.to_rfc3339_utc())
        .unwrap_or_default()
}

fn entry_json(e: &OutboxEntry) -> serde_json::Value {
    json!({
        "id": e.id,
        "source": e.source,
        "provider": e.provider,
        "conversation_id": e.conversation_id,
        "draft": match &e.draft {
            Some(draft) => json!(draft),
            None => json!({ "raw": e.raw_draft }),
        },
        "status": e.status.as_str(),
        "attempts": e.attempts,
        "next_attempt_at": time(e.next_attempt_at),
        "uncertain": e.uncertain,
        "last_error": e.last_error,
        "refusal": e.refusal,
        "message_id": e.message_id,
        "created_at": time(e.created_at),
        "sent_at": e.sent_at.map(time),
    })
}

fn table(out: &mut impl Write, entries: &[OutboxEntry]) -> io::Result<()> {
    if entries.is_empty() {
        return writeln!(out, "the outbox is empty");
    }
    writeln!(
        out,
        "{:36}  {:8}  {:8}  {:>8}  {:20}  MESSAGE / LAST ERROR",
        "ID", "SOURCE", "STATUS", "ATTEMPTS", "CONVERSATION"
    )?;
    for e in entries {
        let tail = match (&e.message_id, &e.last_error) {
            (Some(id), _) => id.clone(),
            (None, Some(error)) => error.clone(),
            (None, None) => match &e.draft {
                Some(draft) => format!("{} {}", draft.kind(), draft.content()),
                None => format!("(a draft this version cannot read) {}", e.raw_draft),
            },
        };
        writeln!(
            out,
            "{:36}  {:8}  {:8}  {:>8}  {:20}  {tail}",
            e.id,
            e.source,
            e.status.as_str(),
            e.attempts,
            e.conversation_id,
        )?;
    }
    Ok(())
}
