//! Printing timelines, summaries and conversation lists.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

use inbox::{Direction, Message, Provider, Timeline};

use crate::args::Format;

const TEXT_WIDTH: usize = 60;
const SENDER_WIDTH: usize = 18;

/// Writes `messages` in `format`.
pub(crate) fn messages(
    out: &mut impl Write,
    format: Format,
    messages: &[Message],
) -> io::Result<()> {
    match format {
        Format::Jsonl => {
            for message in messages {
                serde_json::to_writer(&mut *out, message)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, messages)?;
            out.write_all(b"\n")?;
        }
        Format::Table => {
            writeln!(
                out,
                "{:<19}  {:<6}  {:<36}  {:<3}  {:<SENDER_WIDTH$}  {:<13}  TEXT",
                "TIME (UTC)", "FROM", "CONVERSATION", "DIR", "SENDER", "KIND"
            )?;
            for m in messages {
                writeln!(
                    out,
                    "{:<19}  {:<6}  {:<36}  {:<3}  {:<SENDER_WIDTH$}  {:<13}  {}",
                    table_time(m),
                    m.provider.to_string(),
                    m.conversation_id.to_string(),
                    direction(m.direction),
                    cut(&sender(m), SENDER_WIDTH),
                    kind(m),
                    cut(&m.text, TEXT_WIDTH),
                )?;
            }
        }
    }
    Ok(())
}

/// `2024-05-01 10:01:00` from the UTC RFC 3339 form.
fn table_time(m: &Message) -> String {
    let utc = m.timestamp.to_rfc3339_utc();
    utc.get(..19).unwrap_or(&utc).replace('T', " ")
}

fn direction(d: Direction) -> &'static str {
    match d {
        Direction::Inbound => "in",
        Direction::Outbound => "out",
        Direction::System => "sys",
    }
}

fn sender(m: &Message) -> String {
    m.sender
        .display_name
        .clone()
        .unwrap_or_else(|| m.sender.role.as_str().to_owned())
}

/// The `kind` of the content, as in the JSON.
pub(crate) fn kind(m: &Message) -> String {
    serde_json::to_value(&m.content)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

/// At most `width` characters, with `…` when cut.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The summary after a timeline.
pub(crate) fn summary(out: &mut impl Write, timeline: &Timeline, took: Duration) -> io::Result<()> {
    let p = timeline.progress;
    let mut per_provider: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_kind: BTreeMap<String, usize> = BTreeMap::new();
    for m in &timeline.messages {
        *per_provider.entry(m.provider.to_string()).or_default() += 1;
        *per_kind.entry(kind(m)).or_default() += 1;
    }
    for provider in [Provider::Partoo, Provider::Bird] {
        per_provider.entry(provider.to_string()).or_default();
    }
    let join = |map: &BTreeMap<String, usize>| {
        map.iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    writeln!(out)?;
    writeln!(
        out,
        "conversations: {} ({} failed)",
        p.conversations_total, p.conversations_failed
    )?;
    writeln!(
        out,
        "messages: {} ({})",
        timeline.messages.len(),
        join(&per_provider)
    )?;
    writeln!(out, "by kind: {}", join(&per_kind))?;
    if !timeline.failures.is_empty() {
        writeln!(out, "not delivered: {}", timeline.failures.len())?;
    }
    writeln!(
        out,
        "requests: {}, time: {:.2}s",
        p.requests,
        took.as_secs_f64()
    )
}
