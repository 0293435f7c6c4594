//! COMMAND DOCS: each command's summary, version, complexity, history and
//! argument tree, as redis-server 7 describes it.
//!
//! redis-cli builds its interactive hints and `HELP <command>` from this
//! reply, so a placeholder would show up on a user's screen. The entries
//! are Redis's own, taken from a live redis-server 7 by
//! `crates/kv/tools/gen_command_meta.py` (only for commands we implement)
//! and kept as the RESP3 frames it sent: `command_docs.resp` holds, for
//! each command, its name as a bulk string and then its docs map. A RESP3
//! client gets the bytes as they are; for RESP2, maps become flat arrays
//! of twice the length and sets become arrays, as Redis itself downgrades
//! them.

use crate::resp::reply::Reply;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Name, docs map; name, docs map; ... (RESP3).
static DOCS: &[u8] = include_bytes!("command_docs.resp");

/// Name to the byte range of its docs map in [`DOCS`].
fn index() -> &'static HashMap<&'static str, &'static [u8]> {
    static INDEX: OnceLock<HashMap<&'static str, &'static [u8]>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut map = HashMap::new();
        let mut at = 0;
        while at < DOCS.len() {
            let name_end = frame_end(DOCS, at);
            let name = bulk_payload(&DOCS[at..name_end]);
            let docs_end = frame_end(DOCS, name_end);
            map.insert(name, &DOCS[name_end..docs_end]);
            at = docs_end;
        }
        map
    })
}

/// Whether Redis's docs for the command `name` are known (a subcommand is
/// described inside its container's entry).
pub fn has(name: &str) -> bool {
    index().contains_key(name)
}

/// Writes the docs map for `name`, in the client's protocol. Returns false
/// (writing nothing) when there are none.
pub fn write(r: &mut Reply<'_>, name: &str) -> bool {
    let Some(frame) = index().get(name) else { return false };
    if r.is_resp3() {
        r.raw(frame);
    } else {
        let mut at = 0;
        downgrade(frame, &mut at, r.buffer());
    }
    true
}

/// The header line at `at`: its type byte, its number, and where the
/// line after it starts.
fn header(buf: &[u8], at: usize) -> (u8, i64, usize) {
    let eol = at + buf[at..].windows(2).position(|w| w == b"\r\n").expect("a complete frame");
    let n = std::str::from_utf8(&buf[at + 1..eol]).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    (buf[at], n, eol + 2)
}

/// Where the frame starting at `at` ends.
fn frame_end(buf: &[u8], at: usize) -> usize {
    let (kind, n, mut next) = header(buf, at);
    match kind {
        b'$' | b'=' => next + n as usize + 2,
        b'*' | b'~' | b'%' => {
            let items = if kind == b'%' { 2 * n } else { n };
            for _ in 0..items {
                next = frame_end(buf, next);
            }
            next
        }
        _ => next,
    }
}

/// The payload of a bulk-string frame.
fn bulk_payload(frame: &'static [u8]) -> &'static str {
    let (_, n, start) = header(frame, 0);
    std::str::from_utf8(&frame[start..start + n as usize]).expect("command names are ASCII")
}

/// Copies the frame at `*at` to `out` with maps and sets written as RESP2
/// arrays, advancing `*at` past it.
fn downgrade(buf: &[u8], at: &mut usize, out: &mut Vec<u8>) {
    let (kind, n, next) = header(buf, *at);
    match kind {
        b'*' | b'~' | b'%' => {
            let items = if kind == b'%' { 2 * n } else { n };
            out.extend_from_slice(format!("*{items}\r\n").as_bytes());
            *at = next;
            for _ in 0..items {
                downgrade(buf, at, out);
            }
        }
        _ => {
            let end = frame_end(buf, *at);
            out.extend_from_slice(&buf[*at..end]);
            *at = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blob_indexes_into_complete_maps() {
        assert!(index().len() > 150, "{} entries", index().len());
        for (name, frame) in index() {
            assert!(frame.starts_with(b"%"), "{name}: docs are a map");
            assert_eq!(frame_end(frame, 0), frame.len(), "{name}: one frame");
        }
        // Subcommands are described inside their container's entry.
        assert!(has("set") && has("client") && !has("client|list") && !has("nosuch"));
    }

    #[test]
    fn resp2_turns_maps_and_sets_into_arrays_of_the_same_items() {
        let mut out = Vec::new();
        let mut r = Reply::new(&mut out, 2);
        assert!(write(&mut r, "get"));
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("*"), "{text}");
        assert!(!text.contains("\r\n%") && !text.contains("\r\n~"), "{text}");
        assert!(text.contains("$7\r\nsummary\r\n"), "{text}");
        let mut out3 = Vec::new();
        assert!(write(&mut Reply::new(&mut out3, 3), "get"));
        // The same number of frames: only headers change.
        let frames = |b: &[u8]| b.split(|&c| c == b'\n').count();
        assert_eq!(frames(&out3), frames(text.as_bytes()));
        assert!(!write(&mut Reply::new(&mut Vec::new(), 2), "nosuch"));
    }
}
