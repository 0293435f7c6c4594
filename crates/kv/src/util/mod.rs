//! Glob matching and number helpers.
pub mod glob;
pub mod longdouble;
pub mod num;
