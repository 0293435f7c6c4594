//! The list type (temporary stub until the real one lands).
#![allow(missing_docs)]
#[derive(Debug, Default, Clone)]
pub struct ListValue;
impl ListValue {
    pub fn new() -> Self {
        ListValue
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
