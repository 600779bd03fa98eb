//! The one-line preview of a message.

use crate::model::{Content, Event, InteractiveKind, Media, Str};

/// The one-line plain-text preview of `content`: its text with white space folded, or a
/// placeholder in brackets (`[Image]`, `[Conversation solved]`, `[Unhandled content]`...).
/// Never empty. A text already on one line is shared with the content, not copied.
pub fn preview(content: &Content) -> Str {
    let line = match content {
        Content::Text {
            text, attachments, ..
        } => with_count(one_line(text), attachments.len(), "attachment"),
        Content::Html { html, text, .. } => text
            .as_ref()
            .map(one_line)
            .filter(|t| !t.is_empty())
            .or_else(|| html.as_deref().map(|h| one_line_of(&strip_tags(h))))
            .unwrap_or_default(),
        Content::Image {
            images, caption, ..
        } => captioned(caption, &plural(images.len(), "Image")),
        Content::Video { caption, .. } => captioned(caption, "[Video]"),
        Content::Audio { caption, .. } => captioned(caption, "[Audio]"),
        Content::File { files, caption, .. } => {
            let placeholder = match files.as_slice() {
                [
                    Media {
                        file_name: Some(name),
                        ..
                    },
                ] => format!("[File: {}]", one_line(name)),
                _ => plural(files.len(), "File"),
            };
            captioned(caption, &placeholder)
        }
        Content::Gif { caption, .. } => captioned(caption, "[GIF]"),
        Content::Location { label, address, .. } => {
            let place = [label, address]
                .into_iter()
                .flatten()
                .map(one_line)
                .find(|s| !s.is_empty());
            place.map_or_else(
                || Str::from_static("[Location]"),
                |p| format!("[Location: {p}]").into(),
            )
        }
        Content::StoryReply { text, .. } => match text.as_ref().map(one_line) {
            Some(t) if !t.is_empty() => format!("[Story reply] {t}").into(),
            _ => Str::from_static("[Story reply]"),
        },
        Content::StoryMention { .. } => Str::from_static("[Story mention]"),
        Content::Interactive {
            interactive,
            title,
            text,
            ..
        } => [text, title]
            .into_iter()
            .flatten()
            .map(one_line)
            .find(|s| !s.is_empty())
            .unwrap_or_else(|| Str::from_static(interactive_placeholder(*interactive))),
        Content::Template { name, .. } => match name.as_ref().map(one_line) {
            Some(n) if !n.is_empty() => format!("[Template: {n}]").into(),
            _ => Str::from_static("[Template]"),
        },
        Content::Event { event } => Str::from_static(match event {
            Event::ConversationSolved => "[Conversation solved]",
            Event::ConversationReopened => "[Conversation reopened]",
        }),
        Content::Unsupported { .. } => Str::from_static("[Unsupported content]"),
        Content::Unknown { .. } => Str::from_static("[Unhandled content]"),
    };
    if line.is_empty() {
        Str::from_static("[Empty message]")
    } else {
        line
    }
}

fn interactive_placeholder(kind: InteractiveKind) -> &'static str {
    match kind {
        InteractiveKind::Carousel => "[Carousel]",
        InteractiveKind::List => "[List]",
        InteractiveKind::Section => "[Section]",
        InteractiveKind::Buttons => "[Buttons]",
        InteractiveKind::Authentication => "[Authentication code]",
        InteractiveKind::PermissionRequest => "[Permission request]",
    }
}

fn captioned(caption: &Option<Str>, placeholder: &str) -> Str {
    match caption.as_ref().map(one_line) {
        Some(c) if !c.is_empty() => format!("{placeholder} {c}").into(),
        _ => placeholder.into(),
    }
}

fn plural(n: usize, what: &str) -> String {
    if n > 1 {
        format!("[{n} {}s]", what.to_lowercase())
    } else {
        format!("[{what}]")
    }
}

fn with_count(text: Str, n: usize, what: &str) -> Str {
    match n {
        0 => text,
        1 if text.is_empty() => format!("[1 {what}]").into(),
        1 => format!("{text} [+1 {what}]").into(),
        n if text.is_empty() => format!("[{n} {what}s]").into(),
        n => format!("{text} [+{n} {what}s]").into(),
    }
}

/// Text on one line: every run of white space (newlines included) becomes one space. A text
/// already on one line is shared, not copied.
pub(crate) fn one_line(text: &Str) -> Str {
    if is_one_line(text) {
        text.clone()
    } else {
        folded(text).into()
    }
}

/// [`one_line`] of a text that is not a [`Str`] yet.
fn one_line_of(text: &str) -> Str {
    if is_one_line(text) {
        text.into()
    } else {
        folded(text).into()
    }
}

/// Every run of white space made one space, none at either end.
fn folded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Whether `text` is already what [`one_line`] makes of it: no white space but single
/// spaces between words. Told by bytes: Unicode's other white space characters all start
/// with one of four lead bytes (U+0085 and U+00A0 with `C2`, U+1680 with `E1`, U+2000 to
/// U+205F with `E2`, U+3000 with `E3`), so only characters starting with those are decoded.
fn is_one_line(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.first() == Some(&b' ') || bytes.last() == Some(&b' ') {
        return false;
    }
    let mut after_space = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b' ' if after_space => return false,
            b' ' => after_space = true,
            // The rest of ASCII's white space (tab, line feed, vertical tab, form feed,
            // carriage return).
            0x09..=0x0d => return false,
            0xc2 | 0xe1 | 0xe2 | 0xe3 => {
                // A lead byte, so `i` is a character boundary.
                if text
                    .get(i..)
                    .and_then(|rest| rest.chars().next())
                    .is_none_or(char::is_whitespace)
                {
                    return false;
                }
                after_space = false;
            }
            _ => after_space = false,
        }
    }
    true
}

/// The text of an HTML fragment, roughly: tags dropped, common entities decoded.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn media(url: &str) -> Media {
        Media {
            url: url.into(),
            ..Media::default()
        }
    }

    #[test]
    fn text_is_folded_onto_one_line() {
        let c = Content::Text {
            text: "  Bonjour\n\n  à  tous\t!".into(),
            attachments: vec![],
            actions: vec![],
        };
        assert_eq!(preview(&c), "Bonjour à tous !");
        let c = Content::Text {
            text: " \n ".into(),
            attachments: vec![],
            actions: vec![],
        };
        assert_eq!(preview(&c), "[Empty message]");
        let c = Content::Text {
            text: "see".into(),
            attachments: vec![media("u"), media("v")],
            actions: vec![],
        };
        assert_eq!(preview(&c), "see [+2 attachments]");
    }

    #[test]
    fn the_fast_path_folds_as_the_general_one_does() {
        let slow = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        // ASCII's white space, every other Unicode white space character, and characters
        // that are not white space but share their lead bytes (é, ¢, ᚁ, ‐, ⁠, 、).
        let alphabet = [
            " ", "\t", "\n", "\r", "\u{b}", "\u{c}", "a", "é", "\u{a2}", "\u{85}", "\u{a0}",
            "\u{1680}", "\u{1681}", "\u{2000}", "\u{200a}", "\u{2010}", "\u{2028}", "\u{2029}",
            "\u{202f}", "\u{205f}", "\u{2060}", "\u{3000}", "\u{3001}",
        ];
        let white: Vec<char> = (0..=0x10ffff_u32)
            .filter_map(char::from_u32)
            .filter(|c| c.is_whitespace())
            .collect();
        for c in white {
            assert!(
                c.is_ascii()
                    || alphabet.contains(&c.to_string().as_str())
                    || ('\u{2000}'..='\u{200a}').contains(&c),
                "{c:?} is white space and not in the alphabet"
            );
        }
        // Every string of up to 4 symbols of the alphabet (23^4: about 290 000).
        let mut strings = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = strings
                .iter()
                .flat_map(|s| alphabet.iter().map(move |a| format!("{s}{a}")))
                .collect();
            strings.extend(longer);
            strings.dedup();
        }
        for text in &strings {
            assert_eq!(one_line_of(text), slow(text), "{text:?}");
            assert_eq!(one_line(&Str::from(text)), slow(text), "{text:?}");
        }
    }

    #[test]
    fn placeholders_name_the_kind() {
        let cases = [
            (
                Content::Image {
                    images: vec![media("a")],
                    caption: None,
                    actions: vec![],
                },
                "[Image]",
            ),
            (
                Content::Image {
                    images: vec![media("a"), media("b")],
                    caption: Some("Menu".into()),
                    actions: vec![],
                },
                "[2 images] Menu",
            ),
            (
                Content::Unknown {
                    declared: Some("Sticker".into()),
                    raw: json!({}),
                },
                "[Unhandled content]",
            ),
            (
                Content::Event {
                    event: Event::ConversationSolved,
                },
                "[Conversation solved]",
            ),
            (
                Content::Event {
                    event: Event::ConversationReopened,
                },
                "[Conversation reopened]",
            ),
            (
                Content::Unsupported { detail: None },
                "[Unsupported content]",
            ),
            (
                Content::StoryMention {
                    story_url: "u".into(),
                },
                "[Story mention]",
            ),
            (
                Content::File {
                    files: vec![Media {
                        file_name: Some("devis.pdf".into()),
                        ..media("u")
                    }],
                    caption: None,
                    actions: vec![],
                },
                "[File: devis.pdf]",
            ),
            (
                Content::Location {
                    latitude: Some(1.0),
                    longitude: None,
                    label: None,
                    address: None,
                },
                "[Location]",
            ),
            (
                Content::Template {
                    name: Some("order_ready".into()),
                    locale: None,
                    parameters: vec![],
                    attachments: vec![],
                },
                "[Template: order_ready]",
            ),
        ];
        for (content, want) in cases {
            assert_eq!(preview(&content), want, "{content:?}");
        }
    }

    #[test]
    fn html_falls_back_to_its_stripped_markup() {
        let c = Content::Html {
            html: Some("<p>Hello&nbsp;<b>there</b></p>".into()),
            text: None,
            attachments: vec![],
            actions: vec![],
        };
        assert_eq!(preview(&c), "Hello there");
        let c = Content::Html {
            html: Some("<br>".into()),
            text: Some(" ".into()),
            attachments: vec![],
            actions: vec![],
        };
        assert_eq!(preview(&c), "[Empty message]");
    }
}
