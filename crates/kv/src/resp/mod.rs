//! The RESP wire protocol.
pub mod parse;
pub mod reply;
