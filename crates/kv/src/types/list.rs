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
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + '_ {
        std::iter::empty()
    }
    pub fn from_items<I, T>(items: I, _cfg: &crate::types::EncodingConfig) -> ListValue
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        drop(items.into_iter());
        ListValue
    }
}
