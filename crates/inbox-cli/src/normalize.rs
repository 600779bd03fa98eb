//! `inbox normalize`: provider JSON in, unified JSON Lines out, offline.

use std::io::{self, Read, Write};
use std::path::Path;

use inbox::Message;
use inbox::partoo::{List, Rejected};

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
    match result.and_then(|bad| out.flush().map(|()| bad)) {
        Ok(0) => Outcome::Done,
        Ok(_) => Outcome::Partial,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Outcome::Done,
        Err(e) => Outcome::Usage(format!("cannot write the output: {e}")),
    }
}

/// Normalizes `input` (a page, or JSON Lines of messages) to `out`, one line per message in
/// input order; each input that is not a message gets a line on `err`. Returns how many.
pub(crate) fn normalize(
    input: &[u8],
    provider: ProviderArg,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<usize> {
    if page_key(input, provider) {
        page(out, err, input, provider)
    } else {
        lines(out, err, input, provider)
    }
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

/// Whether the input is one JSON object holding the provider's page key.
fn page_key(input: &[u8], provider: ProviderArg) -> bool {
    let key = match provider {
        ProviderArg::Partoo => "messages",
        ProviderArg::Bird => "results",
    };
    match serde_json::from_slice::<serde_json::Value>(input) {
        Ok(serde_json::Value::Object(map)) => map.contains_key(key),
        _ => false,
    }
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
        let decoded = match provider {
            ProviderArg::Partoo => inbox::partoo::Message::from_slice(line).map(Message::from),
            ProviderArg::Bird => inbox::bird::Message::from_slice(line).map(Message::from),
        };
        match decoded {
            Ok(message) => crate::output::json_line(out, &message)?,
            Err(e) => {
                bad += 1;
                let provider = match provider {
                    ProviderArg::Partoo => "Partoo",
                    ProviderArg::Bird => "Bird",
                };
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

    fn run(input: &[u8], provider: ProviderArg) -> (usize, usize, usize) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let bad = normalize(input, provider, &mut out, &mut err).unwrap_or(usize::MAX);
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
        let bad = normalize(&input, ProviderArg::Partoo, &mut out, &mut err).ok();
        assert_eq!(bad, Some(1));
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
