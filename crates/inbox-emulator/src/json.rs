//! A minimal JSON writer: the generator writes messages straight into bytes, in a fixed key
//! order, without building a `serde_json::Value` first (serving thousands of pages must be
//! cheap).

use std::fmt::Write as _;

/// Appends `s` as a JSON string.
pub(crate) fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0x08 => Some(b"\\b"),
            0x0C => Some(b"\\f"),
            0..=0x1F => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        match escape {
            Some(e) => out.extend_from_slice(e),
            None => {
                let mut hex = String::with_capacity(6);
                let _ = write!(hex, "\\u{b:04x}");
                out.extend_from_slice(hex.as_bytes());
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Appends an integer.
fn int(out: &mut Vec<u8>, v: i64) {
    let mut s = String::with_capacity(20);
    let _ = write!(s, "{v}");
    out.extend_from_slice(s.as_bytes());
}

/// Appends a float (shortest round-trip form; `null` when not finite).
fn float(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        let mut s = String::with_capacity(24);
        let _ = write!(s, "{v}");
        out.extend_from_slice(s.as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Writes the object built by `f` into `out`.
pub(crate) fn object(out: &mut Vec<u8>, f: impl FnOnce(&mut Obj<'_>)) {
    out.push(b'{');
    f(&mut Obj { out, first: true });
    out.push(b'}');
}

/// Writes the array built by `f` into `out`.
pub(crate) fn array(out: &mut Vec<u8>, f: impl FnOnce(&mut Arr<'_>)) {
    out.push(b'[');
    f(&mut Arr { out, first: true });
    out.push(b']');
}

/// An object being written.
pub(crate) struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl Obj<'_> {
    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        string(self.out, key);
        self.out.push(b':');
    }

    /// `"key": "value"`.
    pub(crate) fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        string(self.out, value);
        self
    }

    /// `"key": "value"`, or `"key": null`.
    pub(crate) fn opt_str(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.str(key, v),
            None => self.null(key),
        }
    }

    /// `"key": 12`.
    pub(crate) fn int(&mut self, key: &str, value: i64) -> &mut Self {
        self.key(key);
        int(self.out, value);
        self
    }

    /// `"key": 1.5`.
    pub(crate) fn float(&mut self, key: &str, value: f64) -> &mut Self {
        self.key(key);
        float(self.out, value);
        self
    }

    /// `"key": true`.
    pub(crate) fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.key(key);
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
        self
    }

    /// `"key": null`.
    pub(crate) fn null(&mut self, key: &str) -> &mut Self {
        self.key(key);
        self.out.extend_from_slice(b"null");
        self
    }

    /// `"key": <raw JSON>`.
    pub(crate) fn raw(&mut self, key: &str, json: &[u8]) -> &mut Self {
        self.key(key);
        self.out.extend_from_slice(json);
        self
    }

    /// `"key": {...}`.
    pub(crate) fn obj(&mut self, key: &str, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        self.key(key);
        object(self.out, f);
        self
    }

    /// `"type": "kind", "kind": {...}`: a tagged object, tag first, as Bird writes its
    /// bodies and actions.
    pub(crate) fn tagged(&mut self, kind: &str, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        self.str("type", kind).obj(kind, f)
    }

    /// `"key": [...]`.
    pub(crate) fn arr(&mut self, key: &str, f: impl FnOnce(&mut Arr<'_>)) -> &mut Self {
        self.key(key);
        array(self.out, f);
        self
    }
}

/// An array being written.
pub(crate) struct Arr<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl Arr<'_> {
    fn sep(&mut self) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
    }

    /// A string item.
    pub(crate) fn str(&mut self, value: &str) -> &mut Self {
        self.sep();
        string(self.out, value);
        self
    }

    /// A raw JSON item.
    pub(crate) fn raw(&mut self, json: &[u8]) -> &mut Self {
        self.sep();
        self.out.extend_from_slice(json);
        self
    }

    /// An object item.
    pub(crate) fn obj(&mut self, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        self.sep();
        object(self.out, f);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_valid_json() {
        let mut out = Vec::new();
        object(&mut out, |o| {
            o.str(
                "text",
                "Ligne 1\nLigne 2\t\"cité\" \\ fin \u{0}\u{1f} 𝄞 \u{8}\u{c}\r",
            )
            .opt_str("none", None)
            .int("n", -42)
            .float("f", 52.3676)
            .float("g", 4.0)
            .float("nan", f64::NAN)
            .bool("b", true)
            .raw("raw", b"[1,2]")
            .obj("o", |o| {
                o.arr("a", |a| {
                    a.str("x").obj(|o| {
                        o.int("k", 1);
                    });
                });
            })
            .arr("empty", |_| {});
        });
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            value["text"],
            "Ligne 1\nLigne 2\t\"cité\" \\ fin \u{0}\u{1f} 𝄞 \u{8}\u{c}\r"
        );
        assert_eq!(value["none"], serde_json::Value::Null);
        assert_eq!(value["f"], 52.3676);
        assert_eq!(value["g"], 4.0);
        assert_eq!(value["nan"], serde_json::Value::Null);
        assert_eq!(value["o"]["a"][1]["k"], 1);
        assert_eq!(value["empty"], serde_json::json!([]));
    }
}
