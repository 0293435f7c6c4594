//! The RESP wire protocol.
//!
//! - [`parse`]: the incremental, zero-copy request parser (multibulk and inline).
//! - [`reply`]: the reply writer, RESP2 or RESP3 per client.

pub mod parse;
pub mod reply;
