//! The hash type.
