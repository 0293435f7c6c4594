//! The list type.
