//! Score and lexicographic ranges, parsed from Redis's argument syntax.

use std::cmp::Ordering;

/// A range argument that Redis rejects; `Display` is the exact error reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// A score bound is not a float (or is NaN).
    #[error("ERR min or max is not a float")]
    NotFloat,
    /// A lex bound does not start with `[` or `(` and is not `-` or `+`.
    #[error("ERR min or max not valid string range item")]
    NotLexItem,
}

/// Parses one score bound of a range without its `(` (`zslParseRange`):
/// C's `strtod` must read it all and it must not be NaN; nothing else is
/// checked, so `""` is 0, `" 1"` is 1, `0x10` is 16 and `1e400` is `inf`.
pub fn parse_score(s: &[u8]) -> Option<f64> {
    crate::util::num::parse_f64_unchecked(s)
}

/// A ZRANGEBYSCORE-style interval: `min`/`max` with optional exclusion
/// (written `(1.5`), `-inf`/`+inf` for open ends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    /// The lower bound.
    pub min: f64,
    /// The upper bound.
    pub max: f64,
    /// True when `min` itself is excluded.
    pub min_ex: bool,
    /// True when `max` itself is excluded.
    pub max_ex: bool,
}

impl ScoreRange {
    /// Every score, `-inf` to `+inf`.
    pub const ALL: ScoreRange =
        ScoreRange { min: f64::NEG_INFINITY, max: f64::INFINITY, min_ex: false, max_ex: false };

    /// Parses Redis's `min max` arguments (`zslParseRange`).
    pub fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, RangeError> {
        let bound = |b: &[u8]| -> Result<(f64, bool), RangeError> {
            match b.split_first() {
                Some((b'(', rest)) => parse_score(rest).map(|v| (v, true)),
                _ => parse_score(b).map(|v| (v, false)),
            }
            .ok_or(RangeError::NotFloat)
        };
        let (min, min_ex) = bound(min)?;
        let (max, max_ex) = bound(max)?;
        Ok(ScoreRange { min, max, min_ex, max_ex })
    }

    /// True when no score can be inside.
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.min_ex || self.max_ex))
    }

    /// True when `v` is at or past the lower bound.
    pub fn gte_min(&self, v: f64) -> bool {
        if self.min_ex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    /// True when `v` is at or before the upper bound.
    pub fn lte_max(&self, v: f64) -> bool {
        if self.max_ex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    /// True when `v` is inside.
    pub fn contains(&self, v: f64) -> bool {
        self.gte_min(v) && self.lte_max(v)
    }
}

/// One end of a [`LexRange`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: before every member.
    NegInf,
    /// `+`: after every member.
    PosInf,
    /// `[value`: the value itself is included.
    Inclusive(Vec<u8>),
    /// `(value`: the value itself is excluded.
    Exclusive(Vec<u8>),
}

impl LexBound {
    /// Parses one bound (`zslParseLexRangeItem`).
    pub fn parse(item: &[u8]) -> Result<LexBound, RangeError> {
        match item.split_first() {
            Some((b'-', [])) => Ok(LexBound::NegInf),
            Some((b'+', [])) => Ok(LexBound::PosInf),
            Some((b'[', rest)) => Ok(LexBound::Inclusive(rest.to_vec())),
            Some((b'(', rest)) => Ok(LexBound::Exclusive(rest.to_vec())),
            _ => Err(RangeError::NotLexItem),
        }
    }

    /// Orders two bounds by position; infinities compare like Redis's
    /// shared min/max strings.
    fn cmp_pos(&self, other: &LexBound) -> Ordering {
        use LexBound::*;
        match (self, other) {
            (NegInf, NegInf) | (PosInf, PosInf) => Ordering::Equal,
            (NegInf, _) | (_, PosInf) => Ordering::Less,
            (PosInf, _) | (_, NegInf) => Ordering::Greater,
            (Inclusive(a) | Exclusive(a), Inclusive(b) | Exclusive(b)) => a.cmp(b),
        }
    }

    fn exclusive(&self) -> bool {
        !matches!(self, LexBound::Inclusive(_))
    }
}

/// A ZRANGEBYLEX-style interval over member bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexRange {
    /// The lower bound.
    pub min: LexBound,
    /// The upper bound.
    pub max: LexBound,
}

impl LexRange {
    /// Every member, `-` to `+`.
    pub const ALL: LexRange = LexRange { min: LexBound::NegInf, max: LexBound::PosInf };

    /// Parses Redis's `min max` arguments (`zslParseLexRange`).
    pub fn parse(min: &[u8], max: &[u8]) -> Result<LexRange, RangeError> {
        Ok(LexRange { min: LexBound::parse(min)?, max: LexBound::parse(max)? })
    }

    /// True when no member can be inside (the infinities count as
    /// exclusive, as in Redis: `- -` is empty).
    pub fn is_empty(&self) -> bool {
        match self.min.cmp_pos(&self.max) {
            Ordering::Greater => true,
            Ordering::Equal => self.min.exclusive() || self.max.exclusive(),
            Ordering::Less => false,
        }
    }

    /// True when `v` is at or past the lower bound.
    pub fn gte_min(&self, v: &[u8]) -> bool {
        match &self.min {
            LexBound::NegInf => true,
            LexBound::PosInf => false,
            LexBound::Inclusive(m) => v >= &m[..],
            LexBound::Exclusive(m) => v > &m[..],
        }
    }

    /// True when `v` is at or before the upper bound.
    pub fn lte_max(&self, v: &[u8]) -> bool {
        match &self.max {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Inclusive(m) => v <= &m[..],
            LexBound::Exclusive(m) => v < &m[..],
        }
    }

    /// True when `v` is inside.
    pub fn contains(&self, v: &[u8]) -> bool {
        self.gte_min(v) && self.lte_max(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_parse_like_redis() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"1e3"), Some(1000.0));
        assert_eq!(parse_score(b"nan"), None);
        assert_eq!(parse_score(b" 1"), Some(1.0));
        assert_eq!(parse_score(b"1 "), None);
        assert_eq!(parse_score(b" "), None);
        assert_eq!(parse_score(b"abc"), None);
        assert_eq!(parse_score(b""), Some(0.0));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"1e400"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"-1e-400"), Some(-0.0));
        assert_eq!(parse_score(b"2\0junk"), Some(2.0));
    }

    #[test]
    fn score_ranges() {
        let r = ScoreRange::parse(b"(1", b"5").unwrap();
        assert!(r.min_ex && !r.max_ex);
        assert!(!r.contains(1.0) && r.contains(1.1) && r.contains(5.0) && !r.contains(5.1));
        assert_eq!(ScoreRange::parse(b"-inf", b"+inf").unwrap(), ScoreRange::ALL);
        assert_eq!(ScoreRange::parse(b"x", b"1"), Err(RangeError::NotFloat));
        assert_eq!(ScoreRange::parse(b"1", b"(nan"), Err(RangeError::NotFloat));
        assert!(ScoreRange::parse(b"(1", b"1").unwrap().is_empty());
        assert!(ScoreRange::parse(b"2", b"1").unwrap().is_empty());
        assert!(!ScoreRange::parse(b"1", b"1").unwrap().is_empty());
        assert_eq!(RangeError::NotFloat.to_string(), "ERR min or max is not a float");
    }

    #[test]
    fn lex_ranges() {
        let r = LexRange::parse(b"[b", b"(d").unwrap();
        assert!(!r.contains(b"a") && r.contains(b"b") && r.contains(b"c") && !r.contains(b"d"));
        assert!(LexRange::parse(b"-", b"+").unwrap().contains(b""));
        assert_eq!(LexRange::parse(b"b", b"+"), Err(RangeError::NotLexItem));
        assert_eq!(LexRange::parse(b"-x", b"+"), Err(RangeError::NotLexItem));
        assert_eq!(LexRange::parse(b"", b"+"), Err(RangeError::NotLexItem));
        assert!(LexRange::parse(b"-", b"-").unwrap().is_empty());
        assert!(LexRange::parse(b"+", b"-").unwrap().is_empty());
        assert!(LexRange::parse(b"[b", b"(b").unwrap().is_empty());
        assert!(!LexRange::parse(b"[b", b"[b").unwrap().is_empty());
        assert!(LexRange::parse(b"[c", b"[b").unwrap().is_empty());
        assert!(!LexRange::parse(b"-", b"[a").unwrap().is_empty());
        assert_eq!(RangeError::NotLexItem.to_string(), "ERR min or max not valid string range item");
    }
}
