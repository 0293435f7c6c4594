//! RDB serialization.
