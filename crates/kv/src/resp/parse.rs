//! Request parser (temporary minimal multibulk parser; replaced by the full one).
#![allow(missing_docs)]
use std::ops::Range;

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_bulk_len: i64,
    pub authenticated: bool,
}
impl Default for Limits {
    fn default() -> Self {
        Limits { max_bulk_len: 512 << 20, authenticated: true }
    }
}
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProtocolError(pub String);

#[derive(Debug, Default)]
pub struct RequestParser {
    args: Vec<Range<usize>>,
}

fn line(buf: &[u8], from: usize) -> Option<usize> {
    buf[from..].windows(2).position(|w| w == b"\r\n").map(|p| from + p)
}

impl RequestParser {
    pub fn args(&self) -> &[Range<usize>] {
        &self.args
    }
    pub fn pending_bulk(&self) -> Option<usize> {
        None
    }
    pub fn parse(&mut self, buf: &mut [u8], _limits: &Limits) -> Result<Option<usize>, ProtocolError> {
        self.args.clear();
        if buf.is_empty() {
            return Ok(None);
        }
        if buf[0] != b'*' {
            let Some(end) = buf.iter().position(|&b| b == b'\n') else { return Ok(None) };
            let mut i = 0;
            let stop = if end > 0 && buf[end - 1] == b'\r' { end - 1 } else { end };
            while i < stop {
                while i < stop && buf[i] == b' ' {
                    i += 1;
                }
                let s = i;
                while i < stop && buf[i] != b' ' {
                    i += 1;
                }
                if i > s {
                    self.args.push(s..i);
                }
            }
            return Ok(Some(end + 1));
        }
        let Some(e) = line(buf, 1) else { return Ok(None) };
        let n: i64 = std::str::from_utf8(&buf[1..e])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| ProtocolError("Protocol error: invalid multibulk length".into()))?;
        let mut pos = e + 2;
        for _ in 0..n.max(0) {
            if pos >= buf.len() {
                self.args.clear();
                return Ok(None);
            }
            if buf[pos] != b'$' {
                return Err(ProtocolError(format!(
                    "Protocol error: expected '$', got '{}'",
                    buf[pos] as char
                )));
            }
            let Some(e) = line(buf, pos) else {
                self.args.clear();
                return Ok(None);
            };
            let len: usize = std::str::from_utf8(&buf[pos + 1..e])
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| ProtocolError("Protocol error: invalid bulk length".into()))?;
            let start = e + 2;
            if buf.len() < start + len + 2 {
                self.args.clear();
                return Ok(None);
            }
            self.args.push(start..start + len);
            pos = start + len + 2;
        }
        Ok(Some(pos))
    }
}
