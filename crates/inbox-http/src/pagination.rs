//! Cursor pagination as a lazy stream of pages.

use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::future::Future;
use std::hash::{Hash, Hasher};

use futures_util::Stream;
use futures_util::stream::try_unfold;

use crate::error::Error;

/// Longest cursor excerpt put in a [`PagingError::Loop`].
const CURSOR_EXCERPT: usize = 80;

/// Why a walk of pages stopped early: the one paging error of the workspace (a client's
/// [`Error::Paging`], and the aggregator's too).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PagingError {
    /// The server handed back a cursor it had already given: paging would never end.
    #[error("pagination loop: cursor `{cursor}` came back after {pages} pages")]
    Loop {
        /// The repeated cursor (its start, if long).
        cursor: String,
        /// Pages fetched before the repeat was seen.
        pages: usize,
    },
    /// The page cap was reached with more pages left.
    #[error("stopped at the cap of {pages} pages with more pages left")]
    Cap {
        /// The cap.
        pages: usize,
    },
}

/// A lazy stream of pages: `fetch(cursor)` returns a page and the next cursor.
///
/// Nothing is fetched before the stream is polled, and one request is in flight at a time.
/// The stream ends after a page whose next cursor is missing or empty; it fails with
/// [`PagingError::Loop`] when the server hands back a cursor it already gave (after
/// yielding the page that carried it, so no data is lost), and with [`PagingError::Cap`]
/// when `max_pages` pages were fetched and more remain (both through
/// `E: From<PagingError>`; a client's [`Error::Paging`]).
/// After an error it ends.
pub fn pages<P, E, F, Fut>(max_pages: Option<usize>, fetch: F) -> impl Stream<Item = Result<P, E>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(P, Option<String>), E>>,
    E: From<PagingError>,
{
    struct State<F> {
        fetch: F,
        /// `None` once the last page was seen; `Some(cursor)` for the next request.
        next: Option<Option<String>>,
        guard: CursorGuard,
    }
    let state = State {
        fetch,
        next: Some(None),
        guard: CursorGuard::new(max_pages),
    };
    try_unfold(state, move |mut state: State<F>| async move {
        let Some(cursor) = state.next.take() else {
            return Ok(None);
        };
        if let Some(cursor) = &cursor {
            state.guard.follow(cursor)?;
        }
        let (page, next) = (state.fetch)(cursor).await?;
        state.guard.fetched();
        state.next = next.filter(|c| !c.is_empty()).map(Some);
        Ok::<_, E>(Some((page, state)))
    })
}

/// The cursors of one walk: refuses a cursor it has already followed (a loop) and a page past
/// the cap. [`pages`] uses it; so can any other pager.
#[derive(Debug, Clone)]
pub struct CursorGuard {
    seen: HashSet<u64>,
    pages: usize,
    max_pages: Option<usize>,
}

impl CursorGuard {
    /// A walk of at most `max_pages` pages (`None`: no cap).
    pub fn new(max_pages: Option<usize>) -> Self {
        Self {
            seen: HashSet::new(),
            pages: 0,
            max_pages,
        }
    }

    /// Records that one more page was fetched.
    pub fn fetched(&mut self) {
        self.pages += 1;
    }

    /// Pages fetched so far.
    pub fn pages(&self) -> usize {
        self.pages
    }

    /// Checks that `cursor` may be followed, and remembers it.
    pub fn follow(&mut self, cursor: &str) -> Result<(), PagingError> {
        if self.max_pages.is_some_and(|max| self.pages >= max) {
            return Err(PagingError::Cap { pages: self.pages });
        }
        if !self.seen.insert(fingerprint(cursor)) {
            return Err(PagingError::Loop {
                cursor: excerpt(cursor),
                pages: self.pages,
            });
        }
        Ok(())
    }
}

/// The items of a page in the order the server sent them: decoded ones as `Ok`, rejected
/// ones as [`Error::InvalidItem`] (so an item stream reports them without stopping).
pub fn in_order<T, B>(list: inbox_wire::List<T>) -> impl Iterator<Item = Result<T, Error<B>>> {
    let (items, rejected) = list.into_parts();
    let mut items = items.into_iter();
    let mut rejected = rejected.into_iter().peekable();
    let mut index = 0usize;
    std::iter::from_fn(move || {
        let next = match rejected.peek() {
            Some(r) if r.index <= index => rejected
                .next()
                .map(|r| Err(Error::InvalidItem(Box::new(r)))),
            _ => items.next().map(Ok).or_else(|| {
                rejected
                    .next()
                    .map(|r| Err(Error::InvalidItem(Box::new(r))))
            }),
        };
        index += 1;
        next
    })
}

/// The items of a stream of pages, in order: each page's `items(page)` list flattened, with
/// rejected items as [`Error::InvalidItem`] in their place (the stream goes on after them).
pub fn items<P, T, B>(
    pages: impl Stream<Item = Result<P, Error<B>>> + Send + 'static,
    items: fn(P) -> inbox_wire::List<T>,
) -> impl Stream<Item = Result<T, Error<B>>> + Send + 'static
where
    P: Send + 'static,
    T: Send + 'static,
    B: Send + 'static,
{
    use futures_util::TryStreamExt;
    pages
        .map_ok(move |page| futures_util::stream::iter(in_order(items(page))))
        .try_flatten()
}

/// Cursors can be kilobytes long (Bird allows 8000 characters): remember a hash, not the text.
fn fingerprint(cursor: &str) -> u64 {
    let mut h = DefaultHasher::new();
    cursor.hash(&mut h);
    h.finish()
}

fn excerpt(cursor: &str) -> String {
    match cursor.char_indices().nth(CURSOR_EXCERPT) {
        Some((end, _)) => format!("{}…", &cursor[..end]),
        None => cursor.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::TryStreamExt;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    type E = Error<()>;

    /// A fake server: page `i` holds `i`, and `next(i)` gives the cursor after it.
    async fn run(
        max_pages: Option<usize>,
        next: fn(usize) -> Option<String>,
    ) -> (Vec<usize>, Option<E>, usize) {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let stream = pages(max_pages, move |cursor: Option<String>| {
            let c = c.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                let i = cursor.map_or(0, |s| s.trim_start_matches('c').parse().unwrap_or(99));
                Ok::<_, E>((i, next(i)))
            }
        });
        futures_util::pin_mut!(stream);
        let mut got = Vec::new();
        loop {
            match stream.try_next().await {
                Ok(Some(p)) => got.push(p),
                Ok(None) => return (got, None, calls.load(Ordering::SeqCst)),
                Err(e) => return (got, Some(e), calls.load(Ordering::SeqCst)),
            }
        }
    }

    #[tokio::test]
    async fn walks_until_the_cursor_is_missing_or_empty() {
        let (got, err, calls) = run(None, |i| (i < 4).then(|| format!("c{}", i + 1))).await;
        assert_eq!((got, err.is_none(), calls), (vec![0, 1, 2, 3, 4], true, 5));
        let (got, err, _) = run(None, |i| {
            Some(if i < 2 {
                format!("c{}", i + 1)
            } else {
                String::new()
            })
        })
        .await;
        assert_eq!((got, err.is_none()), (vec![0, 1, 2], true));
    }

    #[tokio::test]
    async fn a_repeated_cursor_is_an_error_after_its_page() {
        let (got, err, calls) = run(None, |i| Some(format!("c{}", (i + 1).min(2)))).await;
        assert_eq!(got, vec![0, 1, 2]);
        assert!(
            matches!(err, Some(Error::Paging(PagingError::Loop { ref cursor, pages: 3 })) if cursor == "c2"),
            "{err:?}"
        );
        assert_eq!(calls, 3);
        // A cycle across pages: 0 -> 1 -> 2 -> 1.
        let (got, err, _) = run(None, |i| {
            Some(format!("c{}", if i == 2 { 1 } else { i + 1 }))
        })
        .await;
        assert_eq!(got, vec![0, 1, 2]);
        assert!(matches!(err, Some(Error::Paging(PagingError::Loop { .. }))));
    }

    #[tokio::test]
    async fn the_page_cap_stops_endless_pages_with_an_error() {
        let (got, err, calls) = run(Some(3), |i| Some(format!("c{}", i + 1))).await;
        assert_eq!((got, calls), (vec![0, 1, 2], 3));
        assert!(
            matches!(err, Some(Error::Paging(PagingError::Cap { pages: 3 }))),
            "{err:?}"
        );
        // Reaching the cap exactly on the last page is not an error.
        let (got, err, _) = run(Some(3), |i| (i < 2).then(|| format!("c{}", i + 1))).await;
        assert_eq!((got, err.is_none()), (vec![0, 1, 2], true));
    }

    #[tokio::test]
    async fn nothing_is_fetched_before_polling() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let stream = pages(None, move |_| {
            c.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, E>(((), None)) }
        });
        tokio::task::yield_now().await;
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        drop(stream);
    }

    #[test]
    fn in_order_interleaves_rejected_items_where_they_were() {
        let list: inbox_wire::List<u32> =
            serde_json::from_str(r#"["a", 1, 2, "b", 3, "c"]"#).unwrap();
        let got: Vec<String> = in_order::<u32, ()>(list)
            .map(|r| match r {
                Ok(n) => n.to_string(),
                Err(Error::InvalidItem(r)) => format!("!{}", r.index),
                Err(e) => format!("?{e:?}"),
            })
            .collect();
        assert_eq!(got, ["!0", "1", "2", "!3", "3", "!5"]);
    }

    #[test]
    fn long_cursors_are_shortened_in_errors() {
        let long = "x".repeat(8000);
        assert_eq!(excerpt(&long).chars().count(), CURSOR_EXCERPT + 1);
        assert_eq!(excerpt("abc"), "abc");
    }
}
