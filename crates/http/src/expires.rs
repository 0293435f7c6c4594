//! nginx's `expires`: `Expires` and `Cache-Control` headers on the
//! answers for files.
//!
//! As nginx's headers filter, they go on 200, 206 and 304 answers and on
//! a directory's 301 redirect; as nginx, a 416 (which nginx's range
//! filter makes out of a 200 that already has them) gets them too, while
//! other errors (404, 403, 412...) do not. `Cache-Control` is
//! `max-age=N`, or `no-cache` when the time is negative or `epoch`.
//!
//! The lines change once a second at most and are formatted then, so an
//! answer copies ready bytes; with `expires` off (the default) nothing
//! here runs.

use std::time::{Duration, UNIX_EPOCH};

/// The `expires` setting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Expires {
    /// No headers (nginx's `expires off`, the default).
    #[default]
    Off,
    /// `Expires` this many seconds after the answer (negative: before it,
    /// with `Cache-Control: no-cache`).
    After(i64),
    /// `expires epoch`: `Expires: Thu, 01 Jan 1970 00:00:01 GMT` and
    /// `Cache-Control: no-cache`.
    Epoch,
    /// `expires max`: `Expires: Thu, 31 Dec 2037 23:55:55 GMT` and
    /// `Cache-Control: max-age=315360000` (ten years).
    Max,
}

/// Parses an `expires` value as nginx writes it: `off`, `epoch`, `max`,
/// or a time with nginx's units (`s`, `m`, `h`, `d`, `w`, `M` for 30 days,
/// `y` for 365 days; several may follow one another, as `1h 30m`; a bare
/// number is seconds), possibly negative.
///
/// ```
/// use spindle_http::expires::{parse, Expires};
/// assert_eq!(parse("1h"), Ok(Expires::After(3600)));
/// assert_eq!(parse("1d 12h"), Ok(Expires::After(129_600)));
/// assert_eq!(parse("-1"), Ok(Expires::After(-1)));
/// assert_eq!(parse("max"), Ok(Expires::Max));
/// assert!(parse("soon").is_err());
/// ```
///
/// # Errors
/// A message saying what is wrong.
pub fn parse(s: &str) -> Result<Expires, String> {
    let s = s.trim();
    match s {
        "off" => return Ok(Expires::Off),
        "epoch" => return Ok(Expires::Epoch),
        "max" => return Ok(Expires::Max),
        _ => {}
    }
    let bad = || format!("'{s}' is not off, epoch, max or a time (like 30s, 1h, 7d, 1M, 1y)");
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r.trim_start()),
        None => (false, s),
    };
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        let n: i64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit = match rest.chars().next() {
            None | Some(' ') => 1,
            Some('s') => 1,
            Some('m') => 60,
            Some('h') => 3600,
            Some('d') => 86_400,
            Some('w') => 7 * 86_400,
            Some('M') => 30 * 86_400,
            Some('y') => 365 * 86_400,
            Some(_) => return Err(bad()),
        };
        if rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            rest = &rest[1..];
        }
        rest = rest.trim_start();
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
    }
    Ok(Expires::After(if neg { -total } else { total }))
}

/// A worker's ready `Expires` and `Cache-Control` lines, remade when the
/// second changes.
#[derive(Debug)]
pub(crate) struct Lines {
    how: Expires,
    sec: u64,
    lines: Vec<u8>,
}

impl Lines {
    /// The lines for `how`; `None` when it is `Off`.
    pub fn new(how: Expires) -> Option<Lines> {
        if how == Expires::Off {
            return None;
        }
        let mut l = Lines { how, sec: u64::MAX, lines: Vec::new() };
        match how {
            Expires::Epoch => {
                l.lines = b"Expires: Thu, 01 Jan 1970 00:00:01 GMT\r\nCache-Control: no-cache\r\n".to_vec()
            }
            Expires::Max => {
                l.lines =
                    b"Expires: Thu, 31 Dec 2037 23:55:55 GMT\r\nCache-Control: max-age=315360000\r\n".to_vec()
            }
            _ => {}
        }
        Some(l)
    }

    /// The header lines for an answer at `now` (Unix seconds).
    pub fn at(&mut self, now: u64) -> &[u8] {
        if let Expires::After(secs) = self.how {
            if self.sec != now {
                self.sec = now;
                let t = now.saturating_add_signed(secs);
                let date = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(t));
                self.lines = if secs < 0 {
                    format!("Expires: {date}\r\nCache-Control: no-cache\r\n")
                } else {
                    format!("Expires: {date}\r\nCache-Control: max-age={secs}\r\n")
                }
                .into_bytes();
            }
        }
        &self.lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_lines() {
        assert_eq!(parse("off"), Ok(Expires::Off));
        assert_eq!(parse("epoch"), Ok(Expires::Epoch));
        assert_eq!(parse("30"), Ok(Expires::After(30)));
        assert_eq!(parse("1M"), Ok(Expires::After(30 * 86_400)));
        assert_eq!(parse("1y"), Ok(Expires::After(365 * 86_400)));
        assert_eq!(parse("1h30m"), Ok(Expires::After(5400)));
        assert_eq!(parse("0"), Ok(Expires::After(0)));
        for bad in ["", "-", "1x", "h", "1h x", "99999999999999999999"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(Lines::new(Expires::Off).is_none());
        let mut l = Lines::new(Expires::After(3600)).unwrap();
        assert_eq!(l.at(0), b"Expires: Thu, 01 Jan 1970 01:00:00 GMT\r\nCache-Control: max-age=3600\r\n");
        let mut l = Lines::new(Expires::After(-60)).unwrap();
        assert_eq!(l.at(3600), b"Expires: Thu, 01 Jan 1970 00:59:00 GMT\r\nCache-Control: no-cache\r\n");
        let mut l = Lines::new(Expires::Max).unwrap();
        assert!(l.at(5).ends_with(b"max-age=315360000\r\n"));
    }
}
