//! Glob matching and number helpers.
