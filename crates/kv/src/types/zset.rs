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
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        std::iter::empty()
    }
    pub fn from_pairs<I, T>(pairs: I, _cfg: &crate::types::EncodingConfig) -> ZSetValue
    where
        I: IntoIterator<Item = (T, f64)>,
        T: AsRef<[u8]>,
    {
        drop(pairs.into_iter());
        ZSetValue
    }
}
