//! Directory listings, as nginx's `ngx_http_autoindex_module` draws them.
//!
//! With `autoindex` on, a request for a directory (its path ending in `/`;
//! one without the slash still gets the 301 first) that has none of the
//! `index` files is answered with a listing instead of 403: nginx 1.22's
//! HTML page byte for byte (names escaped in links and in text, cut to 47
//! bytes and `..>` past 50, dates as `29-Nov-2026 00:13`, sizes exact or
//! rounded by `autoindex_exact_size`, local time by
//! `autoindex_localtime`), or its JSON or XML (whose dates are in UTC
//! whatever `autoindex_localtime` says, as nginx writes them). Entries are sorted as
//! nginx sorts them: directories first, then by name, byte by byte; names
//! starting with `.` are left out, as nginx leaves them out.
//!
//! Where spindle differs from nginx:
//!
//! * a symbolic link is listed only if it leads to something under the
//!   root, as the server serves only those ([`crate::path`]); nginx lists
//!   every link, and a dangling one with its own size. The directory is
//!   opened following no link ([`crate::sys::open_no_symlinks`]) after
//!   its canonical path was checked to lie under the root, and read
//!   through that descriptor (`/proc/self/fd`), so it cannot be swapped
//!   for a link to elsewhere in between;
//! * the answer has a `Content-Length` where nginx's is chunked; a HEAD
//!   gets the head alone, without reading the directory and without a
//!   length, as nginx does;
//! * JSONP (`?callback=`) is not supported.
//!
//! The directory is read and the listing built for every request, as
//! nginx does, so a change on disk shows in the next listing. A directory
//! of 10,000 entries costs its `getdents` and one `statx` per entry (about
//! ten milliseconds with a warm dentry cache, during which the worker
//! serves no one else, as nginx's worker does not either). The body is
//! then sent from its own buffer as the client takes it, shared with the
//! connections sending the same bytes, and within a per-worker budget
//! (see [`shared`]).

mod shared;

pub(crate) use shared::{Listing, Listings};

use crate::config::{Autoindex, AutoindexFormat};
use crate::path::CleanPath;
use crate::response::{content_length, error, finish, start};
use shared::Shared;
use std::ffi::OsString;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::rc::Rc;

/// nginx's `NGX_HTTP_AUTOINDEX_NAME_LEN`: the width of the name column.
const NAME_LEN: usize = 50;

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// What an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Dir,
    File,
    /// A FIFO, a socket, a device: listed as nginx lists them (`other` in
    /// JSON and XML).
    Other,
}

/// One listed entry.
struct Item {
    name: Vec<u8>,
    kind: Kind,
    size: u64,
    mtime: i64,
}

/// Writes the head of the listing of the directory `clean` names under
/// `root` into `out` (after `pre`, the `100 Continue` owed, if any) and
/// puts its body in `body`, to be sent after the head: the status and the
/// body length, or `None` when it cannot be listed (not a directory under
/// the root, one of the `index` names there but refused, an error reading
/// it), and the caller answers 403 as without `autoindex`. A listing the
/// worker's budget cannot take gets a 503 (see [`shared`]). `extra` is
/// header lines to add (`expires`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn serve(
    out: &mut Vec<u8>,
    body: &mut Option<Rc<Listing>>,
    ai: &Autoindex,
    listings: &Listings,
    root: &Path,
    index: &str,
    clean: &CleanPath,
    date: &str,
    pre: &[u8],
    extra: &[u8],
    head_only: bool,
    close: bool,
) -> Option<(u16, u64)> {
    let root = std::fs::canonicalize(root).ok()?;
    let dir = std::fs::canonicalize(root.join(clean.relative())).ok()?;
    if !dir.starts_with(&root) {
        return None;
    }
    // An index name that is there but was refused (a link out of the
    // root, a FIFO) keeps its 403: the listing is for no index at all.
    if index.split_whitespace().any(|n| std::fs::symlink_metadata(dir.join(n)).is_ok()) {
        return None;
    }
    let handle = crate::sys::open_no_symlinks(&dir).ok()?;
    if !handle.metadata().ok()?.is_dir() {
        return None;
    }
    let content_type = match ai.format {
        AutoindexFormat::Html => "text/html",
        AutoindexFormat::Json => "application/json",
        AutoindexFormat::Xml => "text/xml; charset=utf-8",
    };
    let head = |out: &mut Vec<u8>, len: Option<u64>| {
        out.extend_from_slice(pre);
        start(out, 200, date);
        out.extend_from_slice(b"Content-Type: ");
        out.extend_from_slice(content_type.as_bytes());
        out.extend_from_slice(b"\r\n");
        if let Some(n) = len {
            content_length(out, n);
        }
        out.extend_from_slice(extra);
        finish(out, close);
    };
    if head_only {
        head(out, None);
        return Some((200, 0));
    }
    // The directory as opened, by its descriptor: what was checked. Where
    // /proc is not mounted, by its canonical path, checked just above.
    let by_fd = format!("/proc/self/fd/{}", handle.as_raw_fd());
    let items = read(&root, &dir, Path::new(&by_fd)).or_else(|| read(&root, &dir, &dir))?;
    drop(handle);
    let offset = if ai.localtime { crate::sys::local_time(now_secs()).6 } else { 0 };
    let mut page = Vec::new();
    match ai.format {
        AutoindexFormat::Html => html(&mut page, clean, &items, ai.exact_size, offset),
        AutoindexFormat::Json => json(&mut page, &items),
        AutoindexFormat::Xml => xml(&mut page, &items),
    }
    drop(items);
    match listings.share(&clean.path, page) {
        Shared::Send(listing) => {
            let len = listing.bytes().len() as u64;
            head(out, Some(len));
            *body = Some(listing);
            Some((200, len))
        }
        Shared::Refused => Some((503, error(out, date, 503, false, close, b""))),
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// The entries of the directory (canonical `dir`, read through `by`),
/// sorted as nginx sorts them.
fn read(root: &Path, dir: &Path, by: &Path) -> Option<Vec<Item>> {
    let mut items = Vec::new();
    for de in std::fs::read_dir(by).ok()? {
        let Ok(de) = de else { continue };
        let name = de.file_name();
        if name.as_bytes().first() == Some(&b'.') {
            continue;
        }
        let Ok(ft) = de.file_type() else { continue };
        let meta = if ft.is_symlink() {
            // Listed only if it leads under the root (and is not
            // dangling): what the server would serve through it.
            match std::fs::canonicalize(dir.join(&name)) {
                Ok(real) if real.starts_with(root) => match std::fs::metadata(&real) {
                    Ok(m) => m,
                    Err(_) => continue,
                },
                _ => continue,
            }
        } else {
            match de.metadata() {
                Ok(m) => m,
                Err(_) => continue,
            }
        };
        let kind = if meta.is_dir() {
            Kind::Dir
        } else if meta.is_file() {
            Kind::File
        } else {
            Kind::Other
        };
        items.push(Item { name: OsString::into_vec(name), kind, size: meta.size(), mtime: meta.mtime() });
    }
    items
        .sort_unstable_by(|a, b| (b.kind == Kind::Dir).cmp(&(a.kind == Kind::Dir)).then(a.name.cmp(&b.name)));
    Some(items)
}

/// Broken-down UTC time of `secs`: (year, month 1..=12, day, hour, min,
/// sec), by Howard Hinnant's days-to-civil.
fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, (rem / 3600) as u32, (rem % 3600 / 60) as u32, (rem % 60) as u32)
}

/// nginx's `ngx_escape_uri(..., NGX_ESCAPE_URI_COMPONENT)`: all but
/// letters, digits and `-._~` as `%XX`.
fn escape_uri(out: &mut Vec<u8>, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &c in s {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
            out.push(c);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]);
        }
    }
}

/// nginx's `ngx_escape_html`: `<`, `>`, `&` and `"`.
fn escape_html(out: &mut Vec<u8>, s: &[u8]) {
    for &c in s {
        match c {
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'&' => out.extend_from_slice(b"&amp;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            c => out.push(c),
        }
    }
}

/// nginx's `ngx_escape_json`.
fn escape_json(out: &mut Vec<u8>, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &c in s {
        match c {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', c]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            8 => out.extend_from_slice(b"\\b"),
            12 => out.extend_from_slice(b"\\f"),
            c if c < 0x20 => {
                out.extend_from_slice(b"\\u00");
                out.extend_from_slice(&[HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]);
            }
            c => out.push(c),
        }
    }
}

fn html(out: &mut Vec<u8>, clean: &CleanPath, items: &[Item], exact: bool, offset: i64) {
    use std::io::Write as _;
    out.extend_from_slice(b"<html>\r\n<head><title>Index of ");
    escape_html(out, &clean.path);
    out.extend_from_slice(b"</title></head>\r\n<body>\r\n<h1>Index of ");
    escape_html(out, &clean.path);
    out.extend_from_slice(b"</h1><hr><pre><a href=\"../\">../</a>\r\n");
    for it in items {
        let dir = it.kind == Kind::Dir;
        out.extend_from_slice(b"<a href=\"");
        escape_uri(out, &it.name);
        if dir {
            out.push(b'/');
        }
        out.extend_from_slice(b"\">");
        let mut len = it.name.len();
        // nginx counts bytes (no `charset utf-8`): a long name is cut at
        // 47 bytes, whatever characters they end in.
        let shown = if len > NAME_LEN { &it.name[..NAME_LEN - 3] } else { &it.name[..] };
        escape_html(out, shown);
        if len > NAME_LEN {
            out.extend_from_slice(b"..&gt;</a>");
        } else {
            // As nginx: a directory's slash only if the column has room.
            if dir && NAME_LEN > len {
                out.push(b'/');
                len += 1;
            }
            out.extend_from_slice(b"</a>");
        }
        if len < NAME_LEN {
            out.resize(out.len() + NAME_LEN - len, b' ');
        }
        let (y, mo, d, h, mi, _) = civil(it.mtime + offset);
        let _ = write!(out, " {d:02}-{}-{y} {h:02}:{mi:02} ", MONTHS[(mo - 1) as usize]);
        let _ = match (exact, dir) {
            (true, true) => write!(out, "{:>19}", "-"),
            (true, false) => write!(out, "{:>19}", it.size),
            (false, true) => write!(out, "{:>7}", "-"),
            (false, false) => {
                let (size, scale) = rounded(it.size);
                match scale {
                    Some(c) => write!(out, "{size:>6}{c}"),
                    None => write!(out, " {size:>6}"),
                }
            }
        };
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"</pre><hr></body>\r\n</html>\r\n");
}

/// nginx's `autoindex_exact_size off` figures: gigabytes, megabytes or
/// kilobytes, rounded half up, or bytes below 10,000.
fn rounded(n: u64) -> (u64, Option<char>) {
    const G: u64 = 1 << 30;
    const M: u64 = 1 << 20;
    if n > G - 1 {
        (n / G + u64::from(n % G > G / 2 - 1), Some('G'))
    } else if n > M - 1 {
        (n / M + u64::from(n % M > M / 2 - 1), Some('M'))
    } else if n > 9999 {
        (n / 1024 + u64::from(n % 1024 > 511), Some('K'))
    } else {
        (n, None)
    }
}

fn json(out: &mut Vec<u8>, items: &[Item]) {
    use std::io::Write as _;
    out.extend_from_slice(b"[\r\n");
    for (i, it) in items.iter().enumerate() {
        out.extend_from_slice(b"{ \"name\":\"");
        escape_json(out, &it.name);
        let kind = match it.kind {
            Kind::Dir => "directory",
            Kind::File => "file",
            Kind::Other => "other",
        };
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(it.mtime.max(0) as u64);
        let _ = write!(out, "\", \"type\":\"{kind}\", \"mtime\":\"{}\"", httpdate::fmt_http_date(t));
        if it.kind == Kind::File {
            let _ = write!(out, ", \"size\":{}", it.size);
        }
        out.extend_from_slice(if i + 1 < items.len() { b" },\r\n" } else { b" }\r\n" });
    }
    out.push(b']');
}

fn xml(out: &mut Vec<u8>, items: &[Item]) {
    use std::io::Write as _;
    out.extend_from_slice(b"<?xml version=\"1.0\"?>\r\n<list>\r\n");
    for it in items {
        let tag = match it.kind {
            Kind::Dir => "directory",
            Kind::File => "file",
            Kind::Other => "other",
        };
        // UTC whatever `autoindex_localtime` says, as in nginx 1.22.
        let (y, mo, d, h, mi, s) = civil(it.mtime);
        let _ = write!(out, "<{tag} mtime=\"{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z\"");
        if it.kind == Kind::File {
            let _ = write!(out, " size=\"{}\"", it.size);
        }
        out.push(b'>');
        escape_html(out, &it.name);
        let _ = write!(out, "</{tag}>\r\n");
    }
    out.extend_from_slice(b"</list>\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_sizes_and_escapes() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil(1_796_083_213), (2026, 12, 1, 0, 0, 13));
        assert_eq!(civil(951_782_400), (2000, 2, 29, 0, 0, 0));
        assert_eq!(rounded(9999), (9999, None));
        assert_eq!(rounded(12345), (12, Some('K')));
        assert_eq!(rounded(2_000_000), (2, Some('M')));
        assert_eq!(rounded(3 << 30), (3, Some('G')));
        let mut v = Vec::new();
        escape_uri(&mut v, "a b&é~".as_bytes());
        assert_eq!(v, b"a%20b%26%C3%A9~");
        v.clear();
        escape_json(&mut v, b"q\"\\\n\x01");
        assert_eq!(v, b"q\\\"\\\\\\n\\u0001");
    }
}
