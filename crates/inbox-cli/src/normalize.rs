//! `inbox normalize`: provider JSON in, unified JSON Lines out, offline.

use std::io::{self, Read, Write};
use std::path::Path;

use inbox::Message;
use inbox::partoo::{DecodeError, List, Rejected};

use crate::Outcome;
use crate::args::{NormalizeArgs, ProviderArg};

pub(crate) fn run(args: &NormalizeArgs) -> Outcome {
    let input = match read(args.input.as_deref()) {
        Ok(input) => input,
        Err(e) => return Outcome::Usage(e),
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = normalize(&input, args.provider, &mut out, &mut io::stderr().lock());
    let verdict = result.and_then(|verdict| out.flush().map(|()| verdict));
    match verdict {
        Ok(Verdict::Normalized { bad: 0 }) => Outcome::Done,
        Ok(Verdict::Normalized { .. }) => Outcome::Partial,
        Ok(Verdict::Refused(message)) => Outcome::Usage(message),
        Err(e) => Outcome::of_write(Err(e), Outcome::Done),
    }
}

/// What became of an input.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Every message went out, but `bad` inputs, each named on stderr.
    Normalized {
        /// Inputs that were not a message (or not JSON), one error line each.
        bad: usize,
    },
    /// The input is the other provider's: nothing was written.
    Refused(String),
}

fn name(provider: ProviderArg) -> &'static str {
    match provider {
        ProviderArg::Partoo => "Partoo",
        ProviderArg::Bird => "Bird",
    }
}

fn other(provider: ProviderArg) -> ProviderArg {
    match provider {
        ProviderArg::Partoo => ProviderArg::Bird,
        ProviderArg::Bird => ProviderArg::Partoo,
    }
}

fn page_field(provider: ProviderArg) -> &'static str {
    match provider {
        ProviderArg::Partoo => "messages",
        ProviderArg::Bird => "results",
    }
}

/// Normalizes `input` to `out`, one line per message in input order; each input that is
/// not a message gets one line on `err`. The input is one JSON document (a list-messages
/// page, or one message) or JSON Lines of messages; a document with a syntax error is one
/// error with its line and column, and the other provider's page or messages are refused in
/// one line.
pub(crate) fn normalize(
    input: &[u8],
    provider: ProviderArg,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<Verdict> {
    let document = serde_json::from_slice::<serde_json::Value>(input);
    let Ok(document) = document else {
        let first = input
            .split(|&b| b == b'\n')
            .find(|line| !line.iter().all(u8::is_ascii_whitespace));
        let Some(first) = first else {
            return Ok(Verdict::Normalized { bad: 0 });
        };
        if serde_json::from_slice::<serde_json::Value>(first).is_err() {
            // Not JSON Lines either: one document, broken. One error, where it breaks.
            if let Err(e) = serde_json::from_slice::<serde_json::Value>(input) {
                writeln!(err, "inbox: the input is not valid JSON: {e}")?;
            }
            return Ok(Verdict::Normalized { bad: 1 });
        }
        if let Some(refusal) = foreign_message(first, provider) {
            return Ok(Verdict::Refused(refusal));
        }
        return lines(out, err, input, provider).map(|bad| Verdict::Normalized { bad });
    };
    let ours = page_field(provider);
    let theirs = page_field(other(provider));
    match &document {
        serde_json::Value::Object(map) if map.contains_key(ours) => {
            page(out, err, input, provider).map(|bad| Verdict::Normalized { bad })
        }
        serde_json::Value::Object(map) if map.contains_key(theirs) => {
            Ok(Verdict::Refused(format!(
                "this looks like a {} page (it has `{theirs}`, a {} page has `{ours}`): use --provider {}",
                name(other(provider)),
                name(provider),
                name(other(provider)).to_lowercase()
            )))
        }
        serde_json::Value::Object(_) => {
            if let Some(refusal) = foreign_message(input, provider) {
                return Ok(Verdict::Refused(refusal));
            }
            single(out, err, input, provider).map(|bad| Verdict::Normalized { bad })
        }
        _ => {
            writeln!(
                err,
                "inbox: the input is not a {} list-messages page, message or JSON Lines of messages",
                name(provider)
            )?;
            Ok(Verdict::Normalized { bad: 1 })
        }
    }
}

/// A refusal when `message` is not a message of `provider` but is one of the other's.
fn foreign_message(message: &[u8], provider: ProviderArg) -> Option<String> {
    let decodes = |p: ProviderArg| match p {
        ProviderArg::Partoo => inbox::partoo::Message::from_slice(message).is_ok(),
        ProviderArg::Bird => inbox::bird::Message::from_slice(message).is_ok(),
    };
    (!decodes(provider) && decodes(other(provider))).then(|| {
        format!(
            "this looks like a {} message, not a {} one: use --provider {}",
            name(other(provider)),
            name(provider),
            name(other(provider)).to_lowercase()
        )
    })
}

fn read(path: Option<&Path>) -> Result<Vec<u8>, String> {
    let mut input = Vec::new();
    match path {
        None => io::stdin().read_to_end(&mut input).map(|_| input),
        Some(p) if p.as_os_str() == "-" => io::stdin().read_to_end(&mut input).map(|_| input),
        Some(p) => std::fs::read(p),
    }
    .map_err(|e| {
        let name = path.map_or_else(|| "standard input".into(), |p| p.display().to_string());
        format!("cannot read {name}: {e}")
    })
}

/// A list-messages page: every message in order; undecodable ones named on stderr.
fn page(
    out: &mut impl Write,
    err: &mut impl Write,
    input: &[u8],
    provider: ProviderArg,
) -> io::Result<usize> {
    let decoded = match provider {
        ProviderArg::Partoo => inbox::partoo::MessagesPage::from_slice(input)
            .map(|p| in_order(p.messages, Message::from)),
        ProviderArg::Bird => {
            inbox::bird::MessagesPage::from_slice(input).map(|p| in_order(p.results, Message::from))
        }
    };
    let items = match decoded {
        Ok(items) => items,
        Err(e) => {
            writeln!(err, "inbox: the input is not a list-messages page: {e}")?;
            return Ok(1);
        }
    };
    let mut bad = 0;
    for item in items {
        match item {
            Ok(message) => crate::output::json_line(out, &message)?,
            Err(r) => {
                bad += 1;
                writeln!(
                    err,
                    "inbox: message {} of the page is not a message: at `{}`: {}",
                    r.index + 1,
                    r.path,
                    r.message
                )?;
            }
        }
    }
    Ok(bad)
}

fn in_order<T>(list: List<T>, map: fn(T) -> Message) -> Vec<Result<Message, Rejected>> {
    let (items, rejected) = list.into_parts();
    let mut items = items.into_iter();
    let mut rejected = rejected.into_iter().peekable();
    let total = items.len() + rejected.len();
    (0..total)
        .filter_map(|index| match rejected.peek() {
            Some(r) if r.index <= index => rejected.next().map(Err),
            _ => items.next().map(|m| Ok(map(m))),
        })
        .collect()
}

/// One wire message (a whole document, however many lines it spans).
fn single(
    out: &mut impl Write,
    err: &mut impl Write,
    input: &[u8],
    provider: ProviderArg,
) -> io::Result<usize> {
    match decode_message(input, provider) {
        Ok(message) => crate::output::json_line(out, &message).map(|()| 0),
        Err(e) => {
            writeln!(
                err,
                "inbox: the input is not a {} message: {e}",
                name(provider)
            )?;
            Ok(1)
        }
    }
}

fn decode_message(input: &[u8], provider: ProviderArg) -> Result<Message, DecodeError> {
    match provider {
        ProviderArg::Partoo => inbox::partoo::Message::from_slice(input).map(Message::from),
        ProviderArg::Bird => inbox::bird::Message::from_slice(input).map(Message::from),
    }
}

/// JSON Lines of wire messages: one output line per input line; bad lines named on stderr.
fn lines(
    out: &mut impl Write,
    err: &mut impl Write,
    input: &[u8],
    provider: ProviderArg,
) -> io::Result<usize> {
    let mut bad = 0;
    for (n, line) in input.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match decode_message(line, provider) {
            Ok(message) => crate::output::json_line(out, &message)?,
            Err(e) => {
                bad += 1;
                let provider = name(provider);
                writeln!(err, "inbox: line {}: not a {provider} message: {e}", n + 1)?;
            }
        }
    }
    Ok(bad)
}

#[cfg(test)]
mod hostile {
    //! The normalize path under hostile input: never a panic; one output line per message
    //! and one error line per input that is not one. `cargo xtask fuzz` runs it longer.

    use proptest::prelude::*;

    use super::*;

    fn fixture(rel: &str) -> Vec<u8> {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
        std::fs::read(root.join(rel)).unwrap_or_default()
    }

    /// Whether the input is one JSON object holding the provider's page key.
    fn page_key(input: &[u8], provider: ProviderArg) -> bool {
        match serde_json::from_slice::<serde_json::Value>(input) {
            Ok(serde_json::Value::Object(map)) => map.contains_key(page_field(provider)),
            _ => false,
        }
    }

    fn run(input: &[u8], provider: ProviderArg) -> (usize, usize, usize) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let bad = match normalize(input, provider, &mut out, &mut err) {
            Ok(Verdict::Normalized { bad }) => bad,
            // A refusal writes nothing and counts as one bad input, told in one line.
            Ok(Verdict::Refused(message)) => {
                assert!(out.is_empty() && err.is_empty(), "{message}");
                err.extend_from_slice(message.as_bytes());
                1
            }
            Err(_) => usize::MAX,
        };
        let lines = |b: &[u8]| b.split(|&c| c == b'\n').filter(|l| !l.is_empty()).count();
        for line in out.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
            assert!(
                serde_json::from_slice::<serde_json::Value>(line).is_ok(),
                "every output line is JSON"
            );
        }
        (bad, lines(&out), lines(&err))
    }

    const FIXTURES: [(&str, ProviderArg); 4] = [
        ("partoo/messages-page-1.json", ProviderArg::Partoo),
        ("bird/messages/page-1.json", ProviderArg::Bird),
        ("partoo/drift/content-mismatch.json", ProviderArg::Partoo),
        ("bird/drift/misfits.json", ProviderArg::Bird),
    ];

    fn page_array(input: &[u8], provider: ProviderArg) -> Vec<serde_json::Value> {
        let key = match provider {
            ProviderArg::Partoo => "messages",
            ProviderArg::Bird => "results",
        };
        let page: serde_json::Value = serde_json::from_slice(input).unwrap_or_default();
        page[key].as_array().cloned().unwrap_or_default()
    }

    fn flip(input: &mut [u8], flips: &[(prop::sample::Index, u8)]) {
        for (at, bit) in flips {
            let i = at.index(input.len());
            input[i] ^= 1 << bit;
        }
    }

    #[test]
    fn every_fixture_page_is_one_json_line_per_message() {
        // `bird/drift/misfits.json` is pretty-printed and keeps misfit bodies raw: their line
        // breaks must not split a message over several lines.
        for (file, provider) in FIXTURES {
            let input = fixture(file);
            let want = page_array(&input, provider).len();
            assert!(want > 0, "{file} is a page");
            assert_eq!(run(&input, provider), (0, want, 0), "{file}");
        }
    }

    #[test]
    fn a_bad_message_of_a_page_is_named_on_err() {
        let mut page: serde_json::Value =
            serde_json::from_slice(&fixture(FIXTURES[0].0)).unwrap_or_default();
        let total = page["messages"].as_array().map_or(0, Vec::len);
        assert!(total > 1, "the fixture is a page");
        page["messages"][1] = serde_json::json!({"not": "a message"});
        let input = serde_json::to_vec(&page).unwrap_or_default();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let verdict = normalize(&input, ProviderArg::Partoo, &mut out, &mut err).ok();
        assert_eq!(verdict, Some(Verdict::Normalized { bad: 1 }));
        let err = String::from_utf8_lossy(&err);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("inbox: message 2 of the page is not a message"),
            "{err}"
        );
        assert_eq!(
            out.split(|&c| c == b'\n').filter(|l| !l.is_empty()).count(),
            total - 1
        );
    }

    #[test]
    fn a_broken_document_is_one_error_with_its_line_and_column() {
        // The Bird seed's example as printed: a trailing comma after `platformAddress`.
        let broken = b"{\n  \"results\": [\n    {\n      \"id\": \"m1\",\n      \"sender\": {\"contact\": {\"platformAddress\": \"+31\",}}\n    }\n  ]\n}\n";
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let verdict = normalize(broken, ProviderArg::Bird, &mut out, &mut err).ok();
        assert_eq!(verdict, Some(Verdict::Normalized { bad: 1 }));
        let err = String::from_utf8_lossy(&err);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("line 5 column"), "{err}");
        assert!(out.is_empty());
    }

    #[test]
    fn the_other_providers_page_or_messages_are_refused_in_one_line() {
        for (file, provider) in [FIXTURES[0], FIXTURES[1]] {
            let input = fixture(file);
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let verdict = normalize(&input, other(provider), &mut out, &mut err).ok();
            let Some(Verdict::Refused(message)) = verdict else {
                panic!("{file}: {verdict:?}");
            };
            assert!(message.starts_with("this looks like a"), "{message}");
            assert!(
                message.ends_with(&format!("use --provider {}", name(provider).to_lowercase())),
                "{message}"
            );
            assert!(out.is_empty() && err.is_empty());
            // One of its messages alone, or as JSON Lines, is refused the same way.
            let one = page_array(&input, provider)[0].to_string();
            for text in [one.clone(), format!("{one}\n{one}\n")] {
                let verdict = normalize(text.as_bytes(), other(provider), &mut out, &mut err).ok();
                assert!(matches!(verdict, Some(Verdict::Refused(_))), "{verdict:?}");
            }
        }
    }

    proptest! {
        // No `cases` here: proptest reads PROPTEST_CASES (256 when unset), so
        // `cargo xtask fuzz` can run these at scale.
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        /// Bit flips, then a cut anywhere: mostly not a page any more, so mostly JSON Lines.
        #[test]
        fn flipped_and_cut(
            pick in 0usize..FIXTURES.len(),
            cut in any::<prop::sample::Index>(),
            flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 0..4),
        ) {
            let (file, provider) = FIXTURES[pick];
            let mut input = fixture(file);
            prop_assume!(!input.is_empty());
            flip(&mut input, &flips);
            let cut_input = &input[..cut.index(input.len() + 1)];
            let (bad, _, err) = run(cut_input, provider);
            prop_assert!(bad == err, "one error line per bad input: {bad} {err}");
        }

        /// Bit flips without a cut: many inputs stay pages, and page mode must name every
        /// message it cannot decode on `err`, one line each, and print every other one.
        #[test]
        fn flipped_pages(
            pick in 0usize..FIXTURES.len(),
            flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 0..4),
        ) {
            let (file, provider) = FIXTURES[pick];
            let mut input = fixture(file);
            prop_assume!(!input.is_empty());
            flip(&mut input, &flips);
            let (bad, out, err) = run(&input, provider);
            prop_assert!(bad == err, "one error line per bad input: {bad} {err}");
            if page_key(&input, provider) && out > 0 {
                // Decoded as a page: one line, out or err, per element of the page.
                prop_assert_eq!(out + bad, page_array(&input, provider).len());
            }
        }

        /// As JSON Lines: every message of the page on its own line, plus a junk line.
        #[test]
        fn json_lines_with_junk(pick in 0usize..FIXTURES.len(), junk in ".{0,40}") {
            let (file, provider) = FIXTURES[pick];
            let messages = page_array(&fixture(file), provider);
            prop_assume!(!messages.is_empty());
            let mut lines = String::new();
            for m in &messages {
                lines.push_str(&m.to_string());
                lines.push('\n');
            }
            let junk = junk.replace('\n', " ");
            lines.push_str(&junk);
            lines.push('\n');
            let (bad, out, err) = run(lines.as_bytes(), provider);
            prop_assert_eq!(bad, err);
            // Blank as `lines` skips it: ASCII whitespace only (not `str::trim`'s Unicode
            // whitespace: a line holding a vertical tab is not blank, and is bad).
            let blank = junk.bytes().all(|b| b.is_ascii_whitespace());
            prop_assert_eq!(out + bad, messages.len() + usize::from(!blank));
        }
    }
}
