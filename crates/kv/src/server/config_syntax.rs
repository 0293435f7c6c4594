//! The lexical syntax of a redis.conf line: Redis's `sdssplitargs` to
//! read one, and the quoting `CONFIG REWRITE` needs to write one back.

/// Redis's `sdssplitargs`: splits a line into arguments, honouring
/// double quotes (with `\n`, `\r`, `\t`, `\b`, `\a`, `\\`, `\"` and `\xHH`
/// escapes) and single quotes (with `\'`). A closing quote must be followed
/// by a space or the end of the line.
///
/// # Errors
/// "Unbalanced quotes in configuration line" on a missing or misplaced quote.
pub fn split_args(line: &str) -> Result<Vec<String>, String> {
    const UNBALANCED: &str = "Unbalanced quotes in configuration line";
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            return Ok(out);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            if inq {
                if i >= b.len() {
                    return Err(UNBALANCED.into());
                }
                if b[i] == b'\\' && i + 3 < b.len() && b[i + 1] == b'x' {
                    let hex = std::str::from_utf8(&b[i + 2..i + 4])
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok());
                    if let Some(h) = hex {
                        cur.push(h);
                        i += 4;
                        continue;
                    }
                }
                if b[i] == b'\\' && i + 1 < b.len() {
                    cur.push(match b[i + 1] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        c => c,
                    });
                    i += 2;
                    continue;
                }
                if b[i] == b'"' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return Err(UNBALANCED.into());
                    }
                    i += 1;
                    break;
                }
                cur.push(b[i]);
                i += 1;
            } else if insq {
                if i >= b.len() {
                    return Err(UNBALANCED.into());
                }
                if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] == b'\'' {
                    cur.push(b'\'');
                    i += 2;
                    continue;
                }
                if b[i] == b'\'' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return Err(UNBALANCED.into());
                    }
                    i += 1;
                    break;
                }
                cur.push(b[i]);
                i += 1;
            } else {
                if i >= b.len() || b[i].is_ascii_whitespace() {
                    break;
                }
                match b[i] {
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
                i += 1;
            }
        }
        out.push(String::from_utf8_lossy(&cur).into_owned());
    }
}

/// A value quoted for a config line when it needs it (empty, spaces,
/// quotes or control bytes).
pub(crate) fn quote(v: &str) -> String {
    if !v.is_empty() && !v.bytes().any(|b| b.is_ascii_whitespace() || b == b'"' || b == b'\'' || b < 32) {
        return v.to_string();
    }
    let mut s = String::from("\"");
    for ch in v.chars() {
        match ch {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if (c as u32) < 32 => s.push_str(&format!("\\x{:02x}", c as u32)),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn split_args_matches_sdssplitargs() {
        assert_eq!(split_args("a  b\tc").unwrap(), v(&["a", "b", "c"]));
        assert_eq!(split_args(r#"save """#).unwrap(), v(&["save", ""]));
        assert_eq!(split_args(r#"x "a b\n\x41" 'it\'s'"#).unwrap(), v(&["x", "a b\nA", "it's"]));
        assert!(split_args(r#"x "abc"#).is_err());
        assert!(split_args(r#"x "abc"d"#).is_err());
        assert!(split_args("x 'abc").is_err());
    }

    #[test]
    fn quote_round_trips_through_split_args() {
        for s in ["", "plain", "a b", "q\"uote", "back\\slash", "nl\nx"] {
            let line = format!("k {}", quote(s));
            assert_eq!(split_args(&line).unwrap(), v(&["k", s]), "{line}");
        }
    }
}
