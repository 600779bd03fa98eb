//! Opaque cursors and page tokens, and the pages they point at.
//!
//! A token is a keyset: the position, in an append-only list, where the next page starts,
//! with what list it is a position in and which way the list is walked, base64url-encoded
//! (no padding, so it needs no escaping in a query string). Positions never shift: a
//! conversation's messages are only appended (oldest first), and conversations keep their
//! place in the listing. So a token handed out before new messages arrived still points at
//! the same message afterwards: walking oldest first, the new messages come on the last
//! pages; walking newest first (Bird's default), the walk goes on below where it was, and the
//! new messages are on top, for the next walk.

use std::ops::Range;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The longest token accepted (Bird documents page tokens of up to 8000 characters).
const MAX_TOKEN_LEN: usize = 8000;

/// What a token points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope<'a> {
    /// The conversations listing.
    Conversations,
    /// The messages of one conversation.
    Messages(&'a str),
}

/// Which way a list is walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// Lowest position first (oldest first, for messages).
    Ascending,
    /// Highest position first (newest first, for messages).
    Descending,
}

impl Order {
    fn tag(self) -> char {
        match self {
            Order::Ascending => 'a',
            Order::Descending => 'd',
        }
    }
}

fn prefix(scope: Scope<'_>, order: Order) -> String {
    match scope {
        Scope::Conversations => format!("c:{}:", order.tag()),
        Scope::Messages(id) => format!("m:{id}:{}:", order.tag()),
    }
}

/// The token of position `at` in `scope`, walked in `order`.
fn make(scope: Scope<'_>, order: Order, at: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}{at}", prefix(scope, order)))
}

/// The position a token points at, when it is a token of `scope` walked in `order`.
fn read(scope: Scope<'_>, order: Order, token: &str) -> Option<usize> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    // The engine refuses non-canonical trailing bits, so each position has one token.
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let digits = text.strip_prefix(&prefix(scope, order))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// One page of a list: the positions to serve, in order, and the token of the next page.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Page {
    /// The positions, in the order served.
    pub(crate) positions: Vec<usize>,
    /// The next page's token; `None` on the last page.
    pub(crate) next: Option<String>,
}

/// How to page a list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paging<'a> {
    /// What the list is.
    pub(crate) scope: Scope<'a>,
    /// Which way it is walked.
    pub(crate) order: Order,
    /// The page size.
    pub(crate) size: usize,
    /// Whether every page hands back the token of the second page (a pagination loop).
    pub(crate) looping: bool,
}

impl Paging<'_> {
    /// The page `token` points at (the first page without one) among the positions
    /// `visible`; `None` when the token is not one of this list and order, or points
    /// outside what is visible.
    pub(crate) fn page(&self, token: Option<&str>, visible: Range<usize>) -> Option<Page> {
        let Range { start: first, end } = visible;
        let size = self.size.max(1);
        let at = match token {
            Some(token) => {
                let at = read(self.scope, self.order, token)?;
                (first..=end).contains(&at).then_some(at)?
            }
            None => match self.order {
                Order::Ascending => first,
                Order::Descending => end,
            },
        };
        let token = |at| make(self.scope, self.order, at);
        let (positions, next): (Vec<usize>, _) = match self.order {
            Order::Ascending => {
                let stop = at.saturating_add(size).min(end);
                let next = (stop < end).then(|| token(stop));
                ((at..stop).collect(), next)
            }
            Order::Descending => {
                let stop = at.saturating_sub(size).max(first);
                let next = (stop > first).then(|| token(stop));
                ((stop..at).rev().collect(), next)
            }
        };
        let next = if self.looping {
            let second = match self.order {
                Order::Ascending => first.saturating_add(size).min(end),
                Order::Descending => end.saturating_sub(size).max(first),
            };
            Some(token(second))
        } else {
            next
        };
        Some(Page { positions, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(order: Order, size: usize) -> Paging<'static> {
        Paging {
            scope: Scope::Messages("1"),
            order,
            size,
            looping: false,
        }
    }

    #[test]
    fn tokens_are_scoped_and_canonical() {
        let scope = Scope::Messages("4217");
        let token = make(scope, Order::Ascending, 30);
        assert!(!token.contains(['=', '+', '/']));
        assert_eq!(read(scope, Order::Ascending, &token), Some(30));
        assert_eq!(read(scope, Order::Descending, &token), None);
        assert_eq!(
            read(Scope::Messages("4218"), Order::Ascending, &token),
            None
        );
        assert_eq!(read(Scope::Conversations, Order::Ascending, &token), None);
        let c = Scope::Conversations;
        let a = Order::Ascending;
        assert_eq!(read(c, a, &make(c, a, 0)), Some(0));
        for bad in ["bm9wZQ", "Z", "Zm9v!mFy", "Yzph", "Yzphgg"] {
            assert_eq!(read(c, a, bad), None, "{bad}");
        }
        let encode = |text: &str| URL_SAFE_NO_PAD.encode(text);
        assert_eq!(read(c, a, &encode("c:a:")), None);
        assert_eq!(read(c, a, &encode("c:a:+1")), None);
        assert_eq!(read(c, a, &encode("c:a:99999999999999999999999")), None);
        assert_eq!(read(c, a, &"A".repeat(9000)), None);
        // Non-canonical trailing bits ("Zm8" is "fo"; "Zm9" would be too, were they kept).
        assert!(URL_SAFE_NO_PAD.decode("Zm9").is_err());
        assert_eq!(URL_SAFE_NO_PAD.decode("Zm8").ok(), Some(b"fo".to_vec()));
    }

    #[test]
    fn pages_ascending_and_survives_appends() {
        let p = paging(Order::Ascending, 30);
        let one = p.page(None, 0..70).unwrap();
        assert_eq!(one.positions, (0..30).collect::<Vec<_>>());
        let two = p.page(one.next.as_deref(), 0..70).unwrap();
        assert_eq!(two.positions, (30..60).collect::<Vec<_>>());
        // Ten messages arrive before the third page: it goes on where it was.
        let three = p.page(two.next.as_deref(), 0..80).unwrap();
        assert_eq!((three.positions[0], three.positions.len()), (60, 20));
        assert_eq!(three.next, None);
        let empty = p.page(None, 0..0).unwrap();
        assert_eq!((empty.positions.len(), empty.next), (0, None));
        assert!(p.page(Some("garbage"), 0..70).is_none());
        // A token past what is visible is refused.
        let far = make(Scope::Messages("1"), Order::Ascending, 71);
        assert!(p.page(Some(&far), 0..70).is_none());
    }

    #[test]
    fn pages_descending_and_survives_appends() {
        let p = paging(Order::Descending, 4);
        let one = p.page(None, 2..10).unwrap();
        assert_eq!(one.positions, [9, 8, 7, 6]);
        // Three messages arrive: the walk goes on below, the new ones are for the next walk.
        let two = p.page(one.next.as_deref(), 2..13).unwrap();
        assert_eq!(two.positions, [5, 4, 3, 2]);
        assert_eq!(two.next, None);
        let below = make(Scope::Messages("1"), Order::Descending, 1);
        assert!(p.page(Some(&below), 2..10).is_none(), "below dateFrom");
    }

    #[test]
    fn looping_hands_back_the_second_page() {
        for order in [Order::Ascending, Order::Descending] {
            let p = Paging {
                looping: true,
                ..paging(order, 3)
            };
            let one = p.page(None, 0..10).unwrap();
            let two = p.page(one.next.as_deref(), 0..10).unwrap();
            assert_eq!(one.next, two.next);
            let small = p.page(None, 0..2).unwrap();
            assert!(small.next.is_some());
        }
    }
}
