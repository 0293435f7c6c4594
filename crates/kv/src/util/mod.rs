//! Glob matching and number helpers.
pub mod longdouble;
pub mod num;
