//! Glob matching and number helpers.
//!
//! - [`glob`]: Redis's `stringmatchlen` (KEYS, SCAN MATCH, PSUBSCRIBE).
//! - [`num`]: Redis's strict integer parsing and its double parsing and formatting.
//! - [`longdouble`]: INCRBYFLOAT's 80-bit extended arithmetic, in software.

pub mod glob;
pub mod longdouble;
pub mod num;
