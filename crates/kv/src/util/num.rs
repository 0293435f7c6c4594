//! Numbers (temporary; replaced by the helper's module).
#![allow(missing_docs)]
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 || s[0] == b'+' || (s.len() > 1 && s[0] == b'0') || s == b"-0" {
        return None;
    }
    if s.len() > 1 && s[0] == b'-' && s[1] == b'0' {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    let v: f64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    (!v.is_nan()).then_some(v)
}
pub fn format_double(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    format!("{d}")
}
