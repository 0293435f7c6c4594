//! The zset type (temporary stub until the real one lands).
#![allow(missing_docs)]
#[derive(Debug, Default, Clone)]
pub struct ZSetValue;
impl ZSetValue {
    pub fn new() -> Self {
        ZSetValue
    }
    pub fn len(&self) -> usize {
        0
    }
    pub fn is_empty(&self) -> bool {
        true
    }
    pub fn encoding(&self) -> &'static str {
        "stub"
    }
}
