//! Glob matching and number helpers.
//!
//! - [`glob`]: Redis's `stringmatchlen` (KEYS, SCAN MATCH, PSUBSCRIBE).
//! - [`until_nul`]: what C sees of a byte string.
//! - [`num`]: Redis's strict integer parsing and its double parsing and formatting.
//! - [`longdouble`]: INCRBYFLOAT's 80-bit extended arithmetic, in software.

pub mod glob;
pub mod longdouble;
pub mod num;

/// A byte string as C's string functions see it: up to its first NUL.
/// Redis compares option names with `strcasecmp`, converts numbers with
/// `strtod` and prints arguments with `%s`, all of which stop there.
pub fn until_nul(b: &[u8]) -> &[u8] {
    b.iter().position(|&x| x == 0).map_or(b, |i| &b[..i])
}
