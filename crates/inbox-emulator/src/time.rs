//! Timestamps: parsing the ISO 8601 spellings both providers use (for fixtures and Bird's
//! `dateFrom`), and formatting each provider's own spelling. Kept independent of the
//! library's parser on purpose: the emulator is what that parser is tested against.

use std::fmt::Write as _;

/// An instant: seconds since the Unix epoch and nanoseconds within the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Instant {
    secs: i64,
    nanos: u32,
}

impl Instant {
    /// The earliest instant (what an unparseable fixture date sorts as).
    pub(crate) const MIN: Instant = Instant {
        secs: i64::MIN,
        nanos: 0,
    };

    /// The instant `micros` microseconds after the epoch.
    pub(crate) fn from_micros(micros: i64) -> Self {
        Instant {
            secs: micros.div_euclid(1_000_000),
            nanos: (micros.rem_euclid(1_000_000) * 1000) as u32,
        }
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian; Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses `YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]](Z|±HH[:MM])`: RFC 3339, and the ISO 8601
/// variants Partoo sends (a space separator, `+00:00`). `None` when it is not one.
pub(crate) fn parse(text: &str) -> Option<Instant> {
    let mut p = Cursor {
        bytes: text.as_bytes(),
        at: 0,
    };
    let year = i64::from(p.digits(4)?);
    p.expect(b'-')?;
    let month = p.digits(2)?;
    p.expect(b'-')?;
    let day = p.digits(2)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    match p.next()? {
        b'T' | b't' | b' ' => {}
        _ => return None,
    }
    let hour = p.digits(2)?;
    p.expect(b':')?;
    let minute = p.digits(2)?;
    let mut second = 0;
    let mut nanos = 0u32;
    if p.peek() == Some(b':') {
        p.at += 1;
        second = p.digits(2)?;
        if matches!(p.peek(), Some(b'.' | b',')) {
            p.at += 1;
            let mut scale = 100_000_000u32;
            let mut any = false;
            while let Some(d @ b'0'..=b'9') = p.peek() {
                p.at += 1;
                any = true;
                nanos += u32::from(d - b'0') * scale;
                scale /= 10;
            }
            if !any {
                return None;
            }
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // A leap second is read as the last nanosecond of the minute.
    if second == 60 {
        second = 59;
        nanos = 999_999_999;
    }
    let offset_secs: i64 = match p.next()? {
        b'Z' | b'z' => 0,
        sign @ (b'+' | b'-') => {
            let hours = i64::from(p.digits(2)?);
            let minutes = match p.peek() {
                Some(b':') => {
                    p.at += 1;
                    i64::from(p.digits(2)?)
                }
                Some(b'0'..=b'9') => i64::from(p.digits(2)?),
                _ => 0,
            };
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 3600 + minutes * 60;
            if sign == b'-' { -offset } else { offset }
        }
        _ => return None,
    };
    if p.at != p.bytes.len() {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second)
        - offset_secs;
    Some(Instant { secs, nanos })
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn expect(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    fn digits(&mut self, n: usize) -> Option<u32> {
        let mut value = 0u32;
        for _ in 0..n {
            match self.next()? {
                d @ b'0'..=b'9' => value = value * 10 + u32::from(d - b'0'),
                _ => return None,
            }
        }
        Some(value)
    }
}

/// Splits microseconds since the epoch into a civil date and time of day.
fn split(micros: i64) -> (i64, u32, u32, i64, i64, i64, i64) {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    (
        year,
        month,
        day,
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        frac,
    )
}

/// Partoo's spelling: `2023-01-31 16:22:17.327878+00:00`.
pub(crate) fn partoo_date(micros: i64) -> String {
    let (y, mo, d, h, mi, s, frac) = split(micros);
    let mut out = String::with_capacity(32);
    let _ = write!(
        out,
        "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{frac:06}+00:00"
    );
    out
}

/// Bird's spelling: `2024-11-25T20:01:00.000Z` (milliseconds).
pub(crate) fn bird_date(micros: i64) -> String {
    let (y, mo, d, h, mi, s, frac) = split(micros);
    let mut out = String::with_capacity(24);
    let _ = write!(
        out,
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
        frac / 1000
    );
    out
}

/// Microseconds since the epoch of a civil date and time (UTC), for the generator.
pub(crate) fn micros_of(year: i64, month: u32, day: u32, hour: i64, minute: i64) -> i64 {
    (days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60) * 1_000_000
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
            parse(&partoo_date(micros)),
            Some(Instant::from_micros(micros))
        );
        assert_eq!(
            parse("2024-02-29T23:59:59Z"),
            Some(Instant::from_micros(
                micros_of(2024, 2, 29, 23, 59) + 59_000_000
            ))
        );
        assert_eq!(
            parse("2024-11-25T21:12:10.514+01:00"),
            parse("2024-11-25T20:12:10.514Z")
        );
        assert_eq!(
            parse("1969-12-31T23:59:59.5Z"),
            Some(Instant::from_micros(-500_000))
        );
        assert!(parse("2024-11-25T20:12:10.123456789Z").is_some());
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
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000, -1, 0, 1, 19_000, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
