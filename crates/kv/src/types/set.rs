//! The set type.
