//! Printing timelines, summaries and conversation lists.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

use inbox::store::StoredMessage;
use inbox::{ConversationSummary, Direction, Message, Progress, Provider};

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
                json_line(out, message)?;
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
                    cell(&m.conversation_id.to_string()),
                    direction(m.direction),
                    cut(&cell(sender(m)), SENDER_WIDTH),
                    kind(m),
                    cut(&cell(&m.text), TEXT_WIDTH),
                )?;
            }
        }
    }
    Ok(())
}

/// Writes `message` as one line of JSON Lines.
///
/// A message can carry a provider's JSON verbatim (a body the decoder kept raw), line breaks
/// between its tokens included, and serde writes it as it came. In valid JSON a raw CR or LF
/// can only be such whitespace (inside strings they are escaped), so each becomes a space:
/// the same JSON, on one line.
pub(crate) fn json_line(out: &mut impl Write, message: &Message) -> io::Result<()> {
    let mut line = serde_json::to_vec(message)?;
    for byte in &mut line {
        if matches!(*byte, b'\n' | b'\r') {
            *byte = b' ';
        }
    }
    line.push(b'\n');
    out.write_all(&line)
}

/// Writes JSON as one line (see [`json_line`]: raw CR and LF can only be white space
/// between tokens, and become spaces).
pub(crate) fn one_line(out: &mut impl Write, json: &[u8]) -> io::Result<()> {
    let mut line = json.to_vec();
    for byte in &mut line {
        if matches!(*byte, b'\n' | b'\r') {
            *byte = b' ';
        }
    }
    line.push(b'\n');
    out.write_all(&line)
}

/// The header of a table of stored messages.
pub(crate) fn stored_table_header(out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "{:<19}  {:<6}  {:<36}  {:<3}  {:<13}  {:<13}  TEXT",
        "TIME (UTC)", "FROM", "CONVERSATION", "DIR", "ROLE", "KIND"
    )
}

/// One stored message as a table row.
pub(crate) fn stored_row(out: &mut impl Write, m: &StoredMessage) -> io::Result<()> {
    let time = m
        .timestamp()
        .map(|t| {
            let utc = t.to_rfc3339_utc();
            utc.get(..19).unwrap_or(&utc).replace('T', " ")
        })
        .unwrap_or_default();
    let direction = match m.direction.as_str() {
        "inbound" => "in",
        "outbound" => "out",
        _ => "sys",
    };
    writeln!(
        out,
        "{:<19}  {:<6}  {:<36}  {:<3}  {:<13}  {:<13}  {}",
        time,
        m.provider,
        cell(&m.conversation_id),
        direction,
        cell(&m.role),
        cell(&m.kind),
        cut(&cell(&m.text), TEXT_WIDTH),
    )
}

/// Stored messages as a table.
pub(crate) fn stored_table(out: &mut impl Write, messages: &[&StoredMessage]) -> io::Result<()> {
    stored_table_header(out)?;
    for m in messages {
        stored_row(out, m)?;
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

fn sender(m: &Message) -> &str {
    m.sender
        .display_name
        .as_deref()
        .unwrap_or_else(|| m.sender.role.as_str())
}

/// The `kind` of the content, as in the JSON.
pub(crate) fn kind(m: &Message) -> &'static str {
    m.content.kind()
}

/// Provider text made safe for a terminal table cell: every control character
/// (`char::is_control`: C0 including ESC, newline and tab, DEL, C1) becomes U+FFFD `�`.
/// One character stays one character, so widths and `cut` still hold, and an escape sequence
/// from a sender's name or a message can neither restyle the terminal nor break the row.
/// Only the table goes through this: JSON and JSON Lines keep the text exact (serde escapes
/// control characters there).
pub(crate) fn cell(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
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

/// Writes conversation summaries in `format`: a table (provider, id, status, channel,
/// contact, last activity), or their unified JSON (one array, or one object a line).
pub(crate) fn conversations(
    out: &mut impl Write,
    format: Format,
    summaries: &[ConversationSummary],
) -> io::Result<()> {
    match format {
        Format::Jsonl => {
            for summary in summaries {
                let mut line = serde_json::to_vec(summary)?;
                // As for messages: raw provider JSON may carry line breaks between tokens.
                for byte in &mut line {
                    if matches!(*byte, b'\n' | b'\r') {
                        *byte = b' ';
                    }
                }
                line.push(b'\n');
                out.write_all(&line)?;
            }
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, summaries)?;
            out.write_all(b"\n")?;
        }
        Format::Table => {
            writeln!(
                out,
                "{:<8}  {:<36}  {:<7}  {:<9}  {:<24}  LAST ACTIVITY (UTC)",
                "PROVIDER", "CONVERSATION", "STATUS", "CHANNEL", "CONTACT"
            )?;
            for c in summaries {
                let contact = c
                    .contact
                    .as_ref()
                    .and_then(|c| c.name.clone().or_else(|| c.address.clone()))
                    .unwrap_or_default();
                let last = c
                    .last_activity
                    .message_at
                    .or(c.last_activity.updated_at)
                    .map(|t| {
                        let utc = t.to_rfc3339_utc();
                        utc.get(..19).unwrap_or(&utc).replace('T', " ")
                    })
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{:<8}  {:<36}  {:<7}  {:<9}  {:<24}  {last}",
                    c.provider.to_string(),
                    cell(&c.id.to_string()),
                    c.status.as_ref().map_or("", |s| s.as_str()),
                    c.channel.as_ref().map_or("", |s| s.as_str()),
                    cut(&cell(&contact), 24),
                )?;
            }
        }
    }
    Ok(())
}

/// What a run did besides its messages, for the summary.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Run {
    pub(crate) conversations_total: usize,
    pub(crate) conversations_failed: usize,
    pub(crate) requests: usize,
}

impl From<&Progress> for Run {
    fn from(p: &Progress) -> Self {
        Run {
            conversations_total: p.conversations_total,
            conversations_failed: p.conversations_failed,
            requests: p.requests,
        }
    }
}

/// Counts of the messages delivered, for the summary.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    per_provider: BTreeMap<String, usize>,
    per_kind: BTreeMap<String, usize>,
    messages: usize,
}

impl Tally {
    /// Counts one message.
    pub(crate) fn add(&mut self, m: &Message) {
        self.add_parts(m.provider, m.content.kind());
    }

    /// Counts one message of `provider` and content `kind`.
    pub(crate) fn add_parts(&mut self, provider: Provider, kind: &str) {
        self.messages += 1;
        *self.per_provider.entry(provider.to_string()).or_default() += 1;
        *self.per_kind.entry(kind.to_owned()).or_default() += 1;
    }

    /// Messages counted.
    pub(crate) fn messages(&self) -> usize {
        self.messages
    }

    /// The summary after a run: conversations, messages per provider and per kind, what was
    /// not delivered, requests and time.
    pub(crate) fn summary(
        &self,
        out: &mut impl Write,
        p: &Run,
        not_delivered: usize,
        took: Duration,
    ) -> io::Result<()> {
        let mut per_provider = self.per_provider.clone();
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
        writeln!(out, "messages: {} ({})", self.messages, join(&per_provider))?;
        writeln!(out, "by kind: {}", join(&self.per_kind))?;
        if not_delivered > 0 {
            writeln!(out, "not delivered: {not_delivered}")?;
        }
        writeln!(
            out,
            "requests: {}, time: {:.2}s",
            p.requests,
            took.as_secs_f64()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_carry_no_control_characters() {
        let hostile = "a\u{1b}[31mred\u{1b}[0m\r\n\tb\u{7}\u{0}\u{7f}\u{9b}2J";
        let safe = cell(hostile);
        assert!(!safe.chars().any(char::is_control), "{safe:?}");
        assert_eq!(
            safe,
            "a\u{FFFD}[31mred\u{FFFD}[0m\u{FFFD}\u{FFFD}\u{FFFD}b\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}2J"
        );
        assert_eq!(safe.chars().count(), hostile.chars().count(), "one for one");
        assert_eq!(
            cell("Zoë: ça va ? 👋"),
            "Zoë: ça va ? 👋",
            "printable text unchanged"
        );
    }

    #[test]
    fn the_table_escapes_provider_text_and_json_keeps_it_exact() {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
        let page = std::fs::read(root.join("bird/messages/page-1.json")).unwrap_or_default();
        let page: serde_json::Value = serde_json::from_slice(&page).unwrap_or_default();
        let mut wire = page["results"][0].clone();
        wire["conversationId"] = "conv\u{1b}]0;pwned\u{7}".into();
        wire["sender"]["displayName"] = "Ana\u{1b}[2J".into();
        wire["body"]["text"]["text"] = "hi\u{1b}[31m\nthere\u{9b}".into();
        let wire = serde_json::to_vec(&wire).unwrap_or_default();
        let message = inbox::bird::Message::from_slice(&wire).map(Message::from);
        assert!(message.is_ok(), "the fixture message decodes");
        let Ok(message) = message else { return };
        let messages = [message];

        let mut table = Vec::new();
        assert!(super::messages(&mut table, Format::Table, &messages).is_ok());
        let table = String::from_utf8_lossy(&table);
        let row = table.lines().nth(1).unwrap_or_default();
        assert!(
            !table.chars().any(|c| c.is_control() && c != '\n'),
            "{table:?}"
        );
        assert_eq!(table.lines().count(), 2, "one header, one row: {table:?}");
        for shown in [
            "conv\u{FFFD}]0;pwned\u{FFFD}",
            "Ana\u{FFFD}[2J",
            "hi\u{FFFD}[31m",
            "there\u{FFFD}",
        ] {
            assert!(row.contains(shown), "{shown:?} in {row:?}");
        }

        let mut jsonl = Vec::new();
        assert!(super::messages(&mut jsonl, Format::Jsonl, &messages).is_ok());
        let back: serde_json::Value = serde_json::from_slice(&jsonl).unwrap_or_default();
        assert_eq!(back["conversation_id"], "conv\u{1b}]0;pwned\u{7}");
        assert_eq!(back["text"], messages[0].text.as_str());
        assert!(messages[0].text.contains("hi\u{1b}[31m"));
        assert!(!jsonl.contains(&0x1b), "serde escapes ESC as \\u001b");
    }
}
