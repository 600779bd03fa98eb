//! Timestamps, on jiff: parsing the ISO 8601 spellings both providers use (for fixtures and
//! Bird's `dateFrom`), and formatting each provider's own spelling. Kept independent of the
//! library's parser on purpose: the emulator is what that parser is tested against.

use jiff::Timestamp;
use jiff::fmt::temporal::DateTimePrinter;
use jiff::tz::Offset;

/// An instant. Orders as time does; [`Instant::MIN`] sorts first.
pub(crate) type Instant = Timestamp;

/// Partoo's spelling: a space separator, microseconds, `+00:00`.
const PARTOO: DateTimePrinter = DateTimePrinter::new().separator(b' ').precision(Some(6));
/// Bird's spelling: RFC 3339 with milliseconds and `Z`.
const BIRD: DateTimePrinter = DateTimePrinter::new().precision(Some(3));

/// The most fraction digits jiff reads (nanoseconds); further digits are dropped.
const MAX_FRACTION: usize = 9;

/// The instant `micros` microseconds after the epoch (clamped into jiff's range, which
/// spans years -9999 to 9999: far beyond any generated date).
pub(crate) fn from_micros(micros: i64) -> Instant {
    // jiff's largest instant in whole microseconds is its largest second.
    let clamped = micros.clamp(
        Timestamp::MIN.as_microsecond(),
        Timestamp::MAX.as_second() * 1_000_000,
    );
    Timestamp::from_microsecond(clamped).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Microseconds since the epoch of an instant.
pub(crate) fn micros(at: Instant) -> i64 {
    at.as_microsecond()
}

/// Parses a date-time as RFC 3339 writes it, with the variants Partoo sends: `YYYY-MM-DD`,
/// then `T`, `t` or a space, `HH:MM:SS`, an optional fraction of any length (`.` or `,`;
/// digits past nanoseconds are dropped), then `Z`, `z` or `±HH:MM`. `None` otherwise.
///
/// jiff checks the values (month lengths, leap years, offsets) and does the arithmetic; the
/// shape is checked here first because jiff also reads wider ISO 8601 and RFC 9557 forms
/// (basic format, hour-only times, bracketed time zones, six-digit years) that neither
/// provider sends, and an oracle should refuse them.
pub(crate) fn parse(text: &str) -> Option<Instant> {
    let fraction = rfc3339_shape(text.as_bytes())?;
    if fraction.len() <= MAX_FRACTION {
        return text.parse().ok();
    }
    let (start, end) = (fraction.start, fraction.end);
    let trimmed = format!("{}{}", text.get(..start + MAX_FRACTION)?, text.get(end..)?);
    trimmed.parse().ok()
}

/// Where the fraction digits are (an empty range when there are none), when `b` has the
/// shape of an RFC 3339 date-time (a space allowed as the separator).
fn rfc3339_shape(b: &[u8]) -> Option<std::ops::Range<usize>> {
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|d| !d.is_empty() && d.iter().all(u8::is_ascii_digit))
    };
    let at = |i: usize, allowed: &[u8]| b.get(i).is_some_and(|c| allowed.contains(c));
    let date_time = digits(0..4)
        && at(4, b"-")
        && digits(5..7)
        && at(7, b"-")
        && digits(8..10)
        && at(10, b"Tt ")
        && digits(11..13)
        && at(13, b":")
        && digits(14..16)
        && at(16, b":")
        && digits(17..19);
    if !date_time {
        return None;
    }
    let mut i = 19;
    let mut fraction = i..i;
    if at(i, b".,") {
        let start = i + 1;
        let len = b
            .get(start..)?
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if len == 0 {
            return None;
        }
        fraction = start..start + len;
        i = start + len;
    }
    let offset = match b.get(i..)? {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            [*h1, *h2, *m1, *m2].iter().all(u8::is_ascii_digit)
                && (*h1 < b'2' || (*h1 == b'2' && *h2 <= b'3'))
                && *m1 <= b'5'
        }
        _ => false,
    };
    offset.then_some(fraction)
}

/// Partoo's spelling: `2023-01-31 16:22:17.327878+00:00`.
pub(crate) fn partoo_date(micros: i64) -> String {
    let mut out = String::with_capacity(32);
    // Writing into a `String` cannot fail.
    let _ = PARTOO.print_timestamp_with_offset(&from_micros(micros), Offset::UTC, &mut out);
    out
}

/// Bird's spelling: `2024-11-25T20:01:00.000Z` (milliseconds).
pub(crate) fn bird_date(micros: i64) -> String {
    BIRD.timestamp_to_string(&from_micros(micros))
}

/// Microseconds since the epoch of a civil date and time (UTC), for the generator; the
/// epoch when the date does not exist.
pub(crate) fn micros_of(year: i16, month: i8, day: i8, hour: i8, minute: i8) -> i64 {
    jiff::civil::DateTime::new(year, month, day, hour, minute, 0, 0)
        .and_then(|dt| Offset::UTC.to_timestamp(dt))
        .map_or(0, Timestamp::as_microsecond)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_back() {
        let micros = micros_of(2023, 1, 31, 16, 22) + 17_327_878;
        assert_eq!(partoo_date(micros), "2023-01-31 16:22:17.327878+00:00");
        assert_eq!(bird_date(micros), "2023-01-31T16:22:17.327Z");
        assert_eq!(
            bird_date(micros_of(2024, 11, 25, 20, 1)),
            "2024-11-25T20:01:00.000Z"
        );
        assert_eq!(
            partoo_date(micros_of(2024, 1, 1, 0, 0)),
            "2024-01-01 00:00:00.000000+00:00"
        );
        assert_eq!(parse(&partoo_date(micros)), Some(from_micros(micros)));
        assert_eq!(
            parse("2024-02-29T23:59:59Z"),
            Some(from_micros(micros_of(2024, 2, 29, 23, 59) + 59_000_000))
        );
        assert_eq!(
            parse("2024-11-25T21:12:10.514+01:00"),
            parse("2024-11-25T20:12:10.514Z")
        );
        assert_eq!(
            parse("2024-11-25 20:12:10.514-00:00"),
            parse("2024-11-25t20:12:10.514z")
        );
        assert_eq!(parse("1969-12-31T23:59:59.5Z"), Some(from_micros(-500_000)));
        assert_eq!(
            parse("2024-11-25T20:12:10.123456789123Z"),
            parse("2024-11-25T20:12:10.123456789Z")
        );
        assert!(parse("2024-11-25T20:12:10.123456789Z").is_some());
        assert!(parse("2024-11-25T20:12:10,5Z").is_some());
        for bad in [
            "",
            "yesterday",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00Zjunk",
            "2024-01-01",
            "2024-01-01T00:00:00+25:00",
            "2024-01-01T00:00:00+01",
            "2024-01-01T00:00:00+0100",
            "2024-01-01T00:00Z",
            "20240101T000000Z",
            "+002024-01-01T00:00:00Z",
            "2024-01-01T00:00:00Z[Europe/Paris]",
            "2024-01-01T00:00:00+01:60",
            "２０２４-01-01T00:00:00Z",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn out_of_range_instants_clamp() {
        assert!(from_micros(i64::MAX) > from_micros(micros_of(9999, 1, 1, 0, 0)));
        assert!(from_micros(i64::MIN) < from_micros(micros_of(-9999, 1, 2, 0, 0)));
        assert_eq!(micros_of(2023, 2, 29, 0, 0), 0);
    }
}
