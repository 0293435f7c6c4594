//! The zset type.
