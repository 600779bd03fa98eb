//! Opaque cursors and page tokens: an offset and what it is an offset into, base64url-encoded
//! (no padding, so they need no escaping in a query string).

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The longest token accepted (Bird documents page tokens of up to 8000 characters).
const MAX_TOKEN_LEN: usize = 8000;

fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn decode(text: &str) -> Option<Vec<u8>> {
    if text.len() > MAX_TOKEN_LEN || text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let v = ALPHABET.iter().position(|&a| a == c)? as u32;
            n |= v << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len() - 1]);
    }
    // Canonical form only: the unused low bits of the last character must be zero.
    (encode(&out) == text).then_some(out)
}

/// What a token points into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope<'a> {
    /// The conversations listing.
    Conversations,
    /// The messages of one conversation.
    Messages(&'a str),
}

impl Scope<'_> {
    fn prefix(&self) -> String {
        match self {
            Scope::Conversations => "c:".to_owned(),
            Scope::Messages(id) => format!("m:{id}:"),
        }
    }
}

/// The token of the page starting at `offset` in `scope`.
pub(crate) fn make(scope: &Scope<'_>, offset: usize) -> String {
    encode(format!("{}{offset}", scope.prefix()).as_bytes())
}

/// The offset a token points at, when it is a token of `scope` within `0..=len`.
pub(crate) fn read(scope: &Scope<'_>, token: &str, len: usize) -> Option<usize> {
    let bytes = decode(token)?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let digits = text.strip_prefix(&scope.prefix())?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let offset: usize = digits.parse().ok()?;
    (offset <= len).then_some(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips() {
        for len in 0..20 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 200) as u8).collect();
            let text = encode(&bytes);
            assert!(!text.contains(['=', '+', '/']));
            assert_eq!(decode(&text), Some(bytes));
        }
        assert_eq!(encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(encode(b"fo"), "Zm8");
        assert_eq!(decode("Zm9"), None, "non-canonical trailing bits");
        assert_eq!(decode("Z"), None);
        assert_eq!(decode("Zm9v!mFy"), None);
    }

    #[test]
    fn tokens_are_scoped_and_bounded() {
        let scope = Scope::Messages("4217");
        let token = make(&scope, 30);
        assert_eq!(read(&scope, &token, 40), Some(30));
        assert_eq!(read(&scope, &token, 29), None);
        assert_eq!(read(&Scope::Messages("4218"), &token, 40), None);
        assert_eq!(read(&Scope::Conversations, &token, 40), None);
        let token = make(&Scope::Conversations, 0);
        assert_eq!(read(&Scope::Conversations, &token, 0), Some(0));
        assert_eq!(read(&Scope::Conversations, "bm9wZQ", 10), None);
        assert_eq!(read(&Scope::Conversations, &encode(b"c:"), 10), None);
        assert_eq!(read(&Scope::Conversations, &encode(b"c:+1"), 10), None);
        assert_eq!(
            read(
                &Scope::Conversations,
                &encode(b"c:99999999999999999999999"),
                10
            ),
            None
        );
        assert_eq!(read(&Scope::Conversations, &"A".repeat(9000), 10), None);
    }
}
