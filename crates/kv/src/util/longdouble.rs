//! INCRBYFLOAT arithmetic (temporary f64 version).
#![allow(missing_docs)]
pub fn incr_by_float(current: &[u8], incr: &[u8]) -> Result<Vec<u8>, String> {
    let a = super::num::parse_f64(current).ok_or("value is not a valid float")?;
    let b = super::num::parse_f64(incr).ok_or("value is not a valid float")?;
    let r = a + b;
    if !r.is_finite() {
        return Err("increment would produce NaN or Infinity".into());
    }
    Ok(format!("{r}").into_bytes())
}
