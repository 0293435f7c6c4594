//! The RESP wire protocol.
