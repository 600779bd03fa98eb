//! ISO 8601 / RFC 3339 timestamps that remember how they were spelled.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, Serializer};

/// A point in time as a provider sent it.
///
/// Parsing accepts RFC 3339 and the common ISO 8601 spellings seen in the wild:
/// `T`, `t` or a space between date and time (`2023-01-31 16:22:17.327878+00:00`), 0 to 9
/// fraction digits after `.` or `,`, and an offset written `Z`, `z`, `+hh:mm`, `+hhmm`, `+hh`,
/// or no offset at all (read as UTC). The value exposes the UTC instant, and encodes back to
/// exactly the string that came in, so a decode/encode round trip changes nothing: the
/// offset's sign included (`-00:00` stays `-00:00`).
///
/// Equality, ordering and hashing are by instant: two spellings of the same instant are equal.
///
/// ```
/// use inbox_wire::Timestamp;
///
/// let a = Timestamp::parse("2023-01-31 16:22:17.327878+00:00").unwrap();
/// let b = Timestamp::parse("2023-01-31T18:22:17.327878+02:00").unwrap();
/// assert_eq!(a, b);
/// assert_eq!(a.to_string(), "2023-01-31 16:22:17.327878+00:00");
/// assert_eq!(a.to_rfc3339_utc(), "2023-01-31T16:22:17.327878Z");
/// assert_eq!(a.unix_seconds(), 1_675_182_137);
/// ```
#[derive(Clone, Copy)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
    offset_secs: i32,
    style: Style,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Style {
    sep: u8,
    frac_sep: u8,
    frac_digits: u8,
    offset: OffsetStyle,
    /// The offset was written with `-`: kept apart from the offset's value so that `-00:00`
    /// (RFC 3339's "local offset unknown") encodes back as `-00:00`, not `+00:00`.
    negative: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OffsetStyle {
    /// No offset written: read as UTC.
    None,
    /// `Z`
    UpperZ,
    /// `z`
    LowerZ,
    /// `+hh:mm`
    Colon,
    /// `+hhmm`
    Compact,
    /// `+hh`
    Hours,
}

/// Why a string is not a timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampError {
    input: String,
    reason: &'static str,
}

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 64;
        let shown: String = self.input.chars().take(MAX).collect();
        let more = if self.input.chars().count() > MAX {
            "…"
        } else {
            ""
        };
        write!(f, "invalid timestamp `{shown}{more}`: {}", self.reason)
    }
}

impl std::error::Error for TimestampError {}

const NANOS_PER_SEC: i128 = 1_000_000_000;

impl Timestamp {
    /// Parses a timestamp; see the type's documentation for the accepted spellings.
    pub fn parse(input: &str) -> Result<Self, TimestampError> {
        parse(input.as_bytes()).map_err(|reason| TimestampError {
            input: input.to_owned(),
            reason,
        })
    }

    /// The instant `secs` seconds (and `nanos` nanoseconds) after the Unix epoch, spelled as
    /// RFC 3339 in UTC (`…Z`) with as many fraction digits as it needs (0, 3, 6 or 9).
    ///
    /// Returns `None` when `nanos` is 1e9 or more, or the year falls outside 0..=9999.
    pub fn from_unix(secs: i64, nanos: u32) -> Option<Self> {
        if nanos >= 1_000_000_000 {
            return None;
        }
        let (year, ..) = civil_from_days(secs.div_euclid(86_400));
        if !(0..=9999).contains(&year) {
            return None;
        }
        let frac_digits = if nanos == 0 {
            0
        } else if nanos.is_multiple_of(1_000_000) {
            3
        } else if nanos.is_multiple_of(1_000) {
            6
        } else {
            9
        };
        Some(Self {
            secs,
            nanos,
            offset_secs: 0,
            style: Style {
                sep: b'T',
                frac_sep: b'.',
                frac_digits,
                offset: OffsetStyle::UpperZ,
                negative: false,
            },
        })
    }

    /// Like [`Timestamp::from_unix`], from nanoseconds since the Unix epoch.
    pub fn from_unix_nanos(nanos: i128) -> Option<Self> {
        let secs = i64::try_from(nanos.div_euclid(NANOS_PER_SEC)).ok()?;
        let sub = u32::try_from(nanos.rem_euclid(NANOS_PER_SEC)).ok()?;
        Self::from_unix(secs, sub)
    }

    /// Whole seconds since the Unix epoch (UTC); negative before 1970.
    pub fn unix_seconds(&self) -> i64 {
        self.secs
    }

    /// The nanoseconds past [`Timestamp::unix_seconds`], below one billion.
    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// Nanoseconds since the Unix epoch (UTC).
    pub fn unix_nanos(&self) -> i128 {
        i128::from(self.secs) * NANOS_PER_SEC + i128::from(self.nanos)
    }

    /// The UTC offset the string was written with, in seconds east of UTC (0 when none).
    pub fn offset_seconds(&self) -> i32 {
        self.offset_secs
    }

    /// The instant as RFC 3339 in UTC ending in `Z`, with 0, 3, 6 or 9 fraction digits: as
    /// many as the instant needs, so no precision is lost.
    pub fn to_rfc3339_utc(&self) -> String {
        let utc = Self::from_unix(self.secs, self.nanos).unwrap_or(*self);
        utc.to_string()
    }

    fn write_to(&self, out: &mut Buf) {
        let local = self.secs + i64::from(self.offset_secs);
        let days = local.div_euclid(86_400);
        let sod = local.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        out.digits(y, 4);
        out.byte(b'-');
        out.digits(i64::from(m), 2);
        out.byte(b'-');
        out.digits(i64::from(d), 2);
        out.byte(self.style.sep);
        out.digits(sod / 3600, 2);
        out.byte(b':');
        out.digits(sod / 60 % 60, 2);
        out.byte(b':');
        out.digits(sod % 60, 2);
        if self.style.frac_digits > 0 {
            out.byte(self.style.frac_sep);
            let digits = u32::from(self.style.frac_digits);
            let scaled = self.nanos / 10u32.pow(9 - digits);
            out.digits(i64::from(scaled), digits as usize);
        }
        let off = self.offset_secs;
        let sign = if self.style.negative { b'-' } else { b'+' };
        let (oh, om) = (i64::from(off.abs() / 3600), i64::from(off.abs() / 60 % 60));
        match self.style.offset {
            OffsetStyle::None => {}
            OffsetStyle::UpperZ => out.byte(b'Z'),
            OffsetStyle::LowerZ => out.byte(b'z'),
            OffsetStyle::Colon => {
                out.byte(sign);
                out.digits(oh, 2);
                out.byte(b':');
                out.digits(om, 2);
            }
            OffsetStyle::Compact => {
                out.byte(sign);
                out.digits(oh, 2);
                out.digits(om, 2);
            }
            OffsetStyle::Hours => {
                out.byte(sign);
                out.digits(oh, 2);
            }
        }
    }
}

/// A fixed buffer long enough for any timestamp this type writes (at most 35 bytes).
struct Buf {
    bytes: [u8; 40],
    len: usize,
}

impl Buf {
    fn new() -> Self {
        Self {
            bytes: [0; 40],
            len: 0,
        }
    }
    fn byte(&mut self, b: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }
    fn digits(&mut self, value: i64, width: usize) {
        let mut tmp = [b'0'; 20];
        let mut v = value.unsigned_abs();
        let mut i = tmp.len();
        while v > 0 && i > 0 {
            i -= 1;
            tmp[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        let start = i.min(tmp.len() - width.min(tmp.len()));
        for &b in &tmp[start..] {
            self.byte(b);
        }
    }
    fn as_str(&self) -> &str {
        // Only ASCII is ever written.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

impl fmt::Display for Timestamp {
    /// The timestamp exactly as it was spelled when parsed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = Buf::new();
        self.write_to(&mut buf);
        f.write_str(buf.as_str())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        (self.secs, self.nanos) == (other.secs, other.nanos)
    }
}

impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.secs, self.nanos).cmp(&(other.secs, other.nanos))
    }
}

impl Hash for Timestamp {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.secs, self.nanos).hash(state);
    }
}

impl std::str::FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = Buf::new();
        self.write_to(&mut buf);
        serializer.serialize_str(buf.as_str())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO 8601 timestamp string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(V)
    }
}

fn parse(s: &[u8]) -> Result<Timestamp, &'static str> {
    let mut p = Cursor { s, i: 0 };
    let year = p.num(4).ok_or("expected a 4-digit year")?;
    p.expect(b'-').ok_or("expected `-` after the year")?;
    let month = p.num(2).ok_or("expected a 2-digit month")?;
    p.expect(b'-').ok_or("expected `-` after the month")?;
    let day = p.num(2).ok_or("expected a 2-digit day")?;
    let sep = match p.next() {
        Some(c @ (b'T' | b't' | b' ')) => c,
        _ => return Err("expected `T` or a space between date and time"),
    };
    let hour = p.num(2).ok_or("expected a 2-digit hour")?;
    p.expect(b':').ok_or("expected `:` after the hour")?;
    let minute = p.num(2).ok_or("expected 2-digit minutes")?;
    p.expect(b':').ok_or("expected `:` after the minutes")?;
    let second = p.num(2).ok_or("expected 2-digit seconds")?;

    if !(1..=12).contains(&month) {
        return Err("month out of range");
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err("day out of range");
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err("time of day out of range");
    }

    let (mut frac_sep, mut frac_digits, mut nanos) = (b'.', 0u8, 0u32);
    if let Some(c @ (b'.' | b',')) = p.peek() {
        p.i += 1;
        frac_sep = c;
        while let Some(d @ b'0'..=b'9') = p.peek() {
            if frac_digits == 9 {
                return Err("more than 9 fraction digits");
            }
            nanos = nanos * 10 + u32::from(d - b'0');
            frac_digits += 1;
            p.i += 1;
        }
        if frac_digits == 0 {
            return Err("expected digits after the decimal mark");
        }
        nanos *= 10u32.pow(9 - u32::from(frac_digits));
    }

    let (offset, offset_secs, negative) = match p.next() {
        None => (OffsetStyle::None, 0, false),
        Some(b'Z') => (OffsetStyle::UpperZ, 0, false),
        Some(b'z') => (OffsetStyle::LowerZ, 0, false),
        Some(sign @ (b'+' | b'-')) => {
            let oh = p.num(2).ok_or("expected a 2-digit offset hour")?;
            let (style, om) = match p.peek() {
                Some(b':') => {
                    p.i += 1;
                    (
                        OffsetStyle::Colon,
                        p.num(2).ok_or("expected 2-digit offset minutes")?,
                    )
                }
                Some(b'0'..=b'9') => (
                    OffsetStyle::Compact,
                    p.num(2).ok_or("expected 2-digit offset minutes")?,
                ),
                _ => (OffsetStyle::Hours, 0),
            };
            if oh > 23 || om > 59 {
                return Err("offset out of range");
            }
            let secs = i32::try_from(oh * 3600 + om * 60).map_err(|_| "offset out of range")?;
            let negative = sign == b'-';
            (style, if negative { -secs } else { secs }, negative)
        }
        Some(_) => return Err("expected an offset (`Z` or `+hh:mm`) after the time"),
    };
    if p.i != s.len() {
        return Err("unexpected characters after the timestamp");
    }

    let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Ok(Timestamp {
        secs: local - i64::from(offset_secs),
        nanos,
        offset_secs,
        style: Style {
            sep,
            frac_sep,
            frac_digits,
            offset,
            negative,
        },
    })
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }
    fn expect(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }
    fn num(&mut self, width: usize) -> Option<i64> {
        let digits = self.s.get(self.i..self.i + width)?;
        let mut v = 0i64;
        for &d in digits {
            if !d.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(d - b'0');
        }
        self.i += width;
        Some(v)
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day number since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn spellings_parse_to_the_same_instant_and_round_trip() {
        let want = 1_675_182_137_327_878_000i128;
        for s in [
            "2023-01-31 16:22:17.327878+00:00",
            "2023-01-31T16:22:17.327878Z",
            "2023-01-31t16:22:17.327878z",
            "2023-01-31T16:22:17.327878",
            "2023-01-31T17:22:17.327878+01:00",
            "2023-01-31T17:22:17,327878+0100",
            "2023-01-31T11:22:17.327878000-05",
            "2023-01-31T10:52:17.327878-05:30",
            "2023-01-31T16:22:17.327878-00:00",
            "2023-01-31T16:22:17.327878-0000",
            "2023-01-31T16:22:17.327878-00",
        ] {
            let t = ts(s);
            assert_eq!(t.unix_nanos(), want, "{s}");
            assert_eq!(t.to_string(), s, "round trip of {s}");
            assert_eq!(t.to_rfc3339_utc(), "2023-01-31T16:22:17.327878Z", "{s}");
        }
    }

    #[test]
    fn no_fraction_and_nanoseconds() {
        assert_eq!(ts("2024-02-29T00:00:00Z").unix_seconds(), 1_709_164_800);
        let t = ts("2024-02-29T00:00:00.000000001+00:00");
        assert_eq!(t.subsec_nanos(), 1);
        assert_eq!(t.to_rfc3339_utc(), "2024-02-29T00:00:00.000000001Z");
        assert_eq!(ts("1969-12-31T23:59:59.5Z").unix_nanos(), -500_000_000);
        assert_eq!(
            ts("1969-12-31T23:59:59.5Z").to_string(),
            "1969-12-31T23:59:59.5Z"
        );
    }

    #[test]
    fn offsets_shift_across_day_and_year_boundaries() {
        let t = ts("2024-01-01T01:30:00+02:00");
        assert_eq!(t.to_rfc3339_utc(), "2023-12-31T23:30:00Z");
        assert_eq!(t.offset_seconds(), 7200);
        assert_eq!(t.to_string(), "2024-01-01T01:30:00+02:00");
    }

    #[test]
    fn rejects_what_is_not_a_timestamp() {
        for s in [
            "",
            "2023-01-31",
            "2023-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2023-01-31T24:00:00Z",
            "2023-01-31T10:00:00.Z",
            "2023-01-31T10:00:00.1234567891Z",
            "2023-01-31T10:00:00+25:00",
            "2023-01-31T10:00:00Zjunk",
            "2023-01-31X10:00:00Z",
            "２023-01-31T10:00:00Z",
        ] {
            assert!(Timestamp::parse(s).is_err(), "{s} should not parse");
        }
        let err = Timestamp::parse("2023-01-31T10:00")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("2023-01-31T10:00") && err.contains("`:`"),
            "{err}"
        );
    }

    #[test]
    fn from_unix_picks_the_shortest_exact_fraction() {
        let t = Timestamp::from_unix(0, 0).unwrap();
        assert_eq!(t.to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::from_unix(0, 120_000_000).unwrap().to_string(),
            "1970-01-01T00:00:00.120Z"
        );
        assert_eq!(
            Timestamp::from_unix(0, 1_000).unwrap().to_string(),
            "1970-01-01T00:00:00.000001Z"
        );
        assert!(Timestamp::from_unix(0, 1_000_000_000).is_none());
        assert!(Timestamp::from_unix(i64::MAX / 2, 0).is_none());
        let n = ts("2023-01-31 16:22:17.327878+00:00").unix_nanos();
        assert_eq!(Timestamp::from_unix_nanos(n).unwrap().unix_nanos(), n);
    }

    #[test]
    fn civil_round_trip_over_four_centuries() {
        for days in (-200_000..200_000).step_by(7) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(d)), days);
        }
    }

    #[test]
    fn serde_round_trip() {
        let t: Timestamp = serde_json::from_str("\"2023-01-31 16:22:17.327878+00:00\"").unwrap();
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2023-01-31 16:22:17.327878+00:00\""
        );
        let e = serde_json::from_str::<Timestamp>("\"yesterday\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("invalid timestamp `yesterday`"), "{e}");
        assert!(serde_json::from_str::<Timestamp>("12").is_err());
    }
}
