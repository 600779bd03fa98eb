//! Lists where one bad item never costs the others.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use serde::de::{DeserializeOwned, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

thread_local! {
    static STRICT: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current decode is the optimistic first pass of [`crate::from_slice`].
///
/// In that pass, containers decode their items directly (one pass over the bytes, no
/// buffering) and any failure aborts; [`crate::from_slice`] then decodes again tolerantly.
/// Hand-written `Deserialize` impls may use it to skip buffering they only need for
/// tolerance.
pub fn is_strict_pass() -> bool {
    STRICT.with(Cell::get)
}

/// Sets the strict flag for the life of the guard, restoring the previous value after.
pub(crate) struct StrictPass {
    previous: bool,
}

impl StrictPass {
    pub(crate) fn enter(strict: bool) -> Self {
        Self {
            previous: STRICT.with(|s| s.replace(strict)),
        }
    }
}

impl Drop for StrictPass {
    fn drop(&mut self) {
        STRICT.with(|s| s.set(self.previous));
    }
}

/// An item of a [`List`] that did not decode, kept as the provider sent it.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// Position of the item in the list as sent.
    pub index: usize,
    /// JSON path inside the item where decoding failed (`.` for the item itself).
    pub path: String,
    /// What was wrong there.
    pub message: String,
    /// The item's JSON, byte for byte.
    pub raw: Box<RawValue>,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "item {} at `{}`: {}",
            self.index, self.path, self.message
        )
    }
}

impl PartialEq for Rejected {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index
            && self.path == other.path
            && self.message == other.message
            && self.raw.get() == other.raw.get()
    }
}

/// A JSON array of `T` decoded item by item: items that decode are in the list (it derefs to
/// `[T]`), items that do not are kept in [`List::rejected`] with their raw JSON and a
/// message naming the path, and encoding writes both back in their original order.
///
/// ```
/// use inbox_wire::List;
///
/// let list: List<u8> = serde_json::from_str(r#"[1, "two", 3]"#).unwrap();
/// assert_eq!(&list[..], &[1, 3]);
/// assert_eq!(list.rejected()[0].index, 1);
/// assert_eq!(serde_json::to_string(&list).unwrap(), r#"[1,"two",3]"#);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct List<T> {
    items: Vec<T>,
    rejected: Vec<Rejected>,
}

impl<T> Default for List<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            rejected: Vec::new(),
        }
    }
}

impl<T> List<T> {
    /// A list of items that all decoded.
    pub fn new(items: Vec<T>) -> Self {
        Self {
            items,
            rejected: Vec::new(),
        }
    }

    /// A list from decoded items and rejected ones (each at its original index).
    pub fn from_parts(items: Vec<T>, mut rejected: Vec<Rejected>) -> Self {
        rejected.sort_by_key(|r| r.index);
        Self { items, rejected }
    }

    /// The items that did not decode, in order.
    pub fn rejected(&self) -> &[Rejected] {
        &self.rejected
    }

    /// The decoded items and the rejected ones.
    pub fn into_parts(self) -> (Vec<T>, Vec<Rejected>) {
        (self.items, self.rejected)
    }

    /// How many items the provider sent, decoded or not.
    pub fn total_len(&self) -> usize {
        self.items.len() + self.rejected.len()
    }

    /// The decoded items, mutably.
    pub fn items_mut(&mut self) -> &mut Vec<T> {
        &mut self.items
    }
}

impl<T> Deref for List<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.items
    }
}

impl<T> IntoIterator for List<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a, T> IntoIterator for &'a List<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<T> From<Vec<T>> for List<T> {
    fn from(items: Vec<T>) -> Self {
        Self::new(items)
    }
}

impl<T: Serialize> Serialize for List<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.total_len()))?;
        let mut items = self.items.iter();
        let mut rejected = self.rejected.iter().peekable();
        for index in 0..self.total_len() {
            match rejected.peek() {
                Some(r) if r.index <= index => {
                    seq.serialize_element(&r.raw)?;
                    rejected.next();
                }
                _ => {
                    if let Some(item) = items.next() {
                        seq.serialize_element(item)?;
                    }
                }
            }
        }
        seq.end()
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: DeserializeOwned> Visitor<'de> for V<T> {
            type Value = List<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List<T>, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                let mut rejected = Vec::new();
                if is_strict_pass() {
                    while let Some(item) = seq.next_element::<T>()? {
                        items.push(item);
                    }
                    return Ok(List { items, rejected });
                }
                let mut index = 0;
                while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
                    match decode_item::<T>(&raw) {
                        Ok(item) => items.push(item),
                        Err((path, message)) => rejected.push(Rejected {
                            index,
                            path,
                            message,
                            raw,
                        }),
                    }
                    index += 1;
                }
                Ok(List { items, rejected })
            }
        }
        deserializer.deserialize_seq(V(PhantomData))
    }
}

/// Decodes one item; on failure decodes it again with path tracking to say where.
fn decode_item<T: DeserializeOwned>(raw: &RawValue) -> Result<T, (String, String)> {
    match serde_json::from_str::<T>(raw.get()) {
        Ok(item) => Ok(item),
        Err(plain) => {
            let mut de = serde_json::Deserializer::from_str(raw.get());
            match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Ok(_) => Err((".".to_owned(), plain.to_string())),
                Err(e) => Err((e.path().to_string(), e.into_inner().to_string())),
            }
        }
    }
}
