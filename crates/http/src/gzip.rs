//! Precompressed twins, as nginx's `ngx_http_gzip_static_module` serves
//! them.
//!
//! With `gzip_static = true`, a GET or HEAD for `/a.css` from a client
//! that takes gzip is answered from `a.css.gz` when that is a regular
//! file under the root: `Content-Encoding: gzip`, the `Content-Type` of
//! `a.css`, and the `.gz` file's own `ETag`, `Last-Modified` and length,
//! so `If-None-Match`, `If-Modified-Since` and `Range` apply to the bytes
//! sent. A client takes gzip, as nginx decides (`gzip_http_version`,
//! `gzip_proxied off`), when it speaks HTTP/1.1 (or, with
//! `gzip_http_version = "1.0"`, 1.0 too), sent no `Via` (a proxy
//! in between, which may serve the answer to others), and its
//! `Accept-Encoding` names `gzip` with a q-value above 0 (`gzip;q=0`
//! refuses it; `*` and `x-gzip` do not count, as nginx does not count
//! them). A request for a directory gets the twin of the index file it
//! is answered with, as nginx's index module leads there.
//!
//! `gzip_static = "always"` sends the twin to every client, whatever it
//! says, as nginx's `gzip_static always` (for a site that keeps only the
//! `.gz` files). With `on`, a name that has only its `.gz` is served to
//! gzip clients and is 404 for the others, as in nginx.
//!
//! While `gzip_static` is on, every answer for a name (200, 206, 304, and
//! the 404 of a name that is not a directory's) says
//! `Vary: Accept-Encoding`, as nginx does with `gzip_vary on`; without
//! it a shared cache in front would hand the gzip bytes to a client that
//! cannot read them (nginx's default, `gzip_vary off`, allows that; here
//! `gzip_vary` is the `gzip` module's alone: see `crate::compress`).
//!
//! Where spindle differs from nginx:
//!
//! * nginx says `Vary` only where the twin exists, which costs it a look
//!   for the twin on every request, from clients that do not take gzip
//!   too; spindle says it on every answer for a name (the line is part of
//!   the cached head: no look, no cost), which a cache takes as it
//!   should, only keeping one copy per encoding it sees;
//! * nginx answers a `Range` on a twin with the whole twin (and no
//!   `Accept-Ranges`); spindle serves the range of the gzip bytes, as
//!   RFC 9110 allows, with `Accept-Ranges`;
//! * a configured `error_pages` 404 page does not say `Vary`.
//!
//! The twin is an entry of the cache of its own (keyed apart from
//! `a.css.gz` asked for by name), checked against the disk with a `stat`
//! on each hit like any other, so a twin added, changed or removed is
//! seen at once. With `gzip_static` off nothing here runs.

use crate::cache::Lookup;
use crate::config::GzipStatic;
use crate::path::CleanPath;
use crate::response::Req;
use crate::server::Worker;

/// What the cache has for `clean`, or for its gzip twin when `mode` and
/// the request allow it (`mode` is not [`GzipStatic::Off`]).
pub(crate) fn lookup(w: &Worker, r: &Req<'_>, clean: &CleanPath, mode: GzipStatic, now: u64) -> Lookup {
    let root = &w.cfg.root;
    if !wanted(w, r, mode) {
        return w.cache.borrow_mut().lookup(root, clean, &w.cfg.index, now);
    }
    if !clean.is_dir() {
        if let Lookup::File(e) = w.cache.borrow_mut().lookup_gzip(root, &clean.path, now) {
            return Lookup::File(e);
        }
        return w.cache.borrow_mut().lookup(root, clean, &w.cfg.index, now);
    }
    // A directory: the twin of the index file found for it.
    let found = w.cache.borrow_mut().lookup(root, clean, &w.cfg.index, now);
    let Lookup::File(e) = &found else { return found };
    let Ok(rel) = e.path().strip_prefix(root) else { return found };
    let mut index = Vec::with_capacity(rel.as_os_str().len() + 1);
    index.push(b'/');
    index.extend_from_slice(std::os::unix::ffi::OsStrExt::as_bytes(rel.as_os_str()));
    match w.cache.borrow_mut().lookup_gzip(root, &index, now) {
        Lookup::File(gz) => Lookup::File(gz),
        _ => found,
    }
}

/// Whether the twin may answer `r` (`mode` is not [`GzipStatic::Off`]).
fn wanted(w: &Worker, r: &Req<'_>, mode: GzipStatic) -> bool {
    mode == GzipStatic::Always
        || (r.minor >= w.cfg.gzip_http_version && !r.via && r.accept_encoding.is_some_and(takes_gzip))
}

/// [`lookup`] for a `try_files` file candidate (`clean` names a file, not
/// a directory): as nginx's `try_files` tests the file itself, a
/// candidate whose own file is missing or refused (a directory, a link
/// out of the root) is passed over whatever its twin, and one that is
/// there may be answered with its twin. Taking a candidate for its twin
/// alone answered gzip clients with `d.gz` for a directory `/d` or a
/// name that has only its `.gz`, where every other client, and nginx,
/// went on to the next candidate.
pub(crate) fn lookup_candidate(
    w: &Worker,
    r: &Req<'_>,
    clean: &CleanPath,
    mode: GzipStatic,
    now: u64,
) -> Lookup {
    let found = w.cache.borrow_mut().lookup(&w.cfg.root, clean, &w.cfg.index, now);
    if !matches!(found, Lookup::File(_)) || clean.is_dir() || !wanted(w, r, mode) {
        return found;
    }
    match w.cache.borrow_mut().lookup_gzip(&w.cfg.root, &clean.path, now) {
        Lookup::File(gz) => Lookup::File(gz),
        _ => found,
    }
}

/// Whether an `Accept-Encoding` value takes gzip: a `gzip` coding
/// (any case) whose q-value, if given, is above zero.
///
/// ```text
/// gzip            yes        gzip;q=0      no
/// br, gzip;q=0.5  yes        *             no (as nginx)
/// GZIP            yes        x-gzip        no (as nginx)
/// ```
pub(crate) fn takes_gzip(v: &[u8]) -> bool {
    v.split(|&c| c == b',').any(|item| {
        let mut parts = item.split(|&c| c == b';');
        let coding = parts.next().unwrap_or_default().trim_ascii();
        if !coding.eq_ignore_ascii_case(b"gzip") {
            return false;
        }
        for p in parts {
            let p = p.trim_ascii();
            if let Some(q) = p.strip_prefix(b"q=").or_else(|| p.strip_prefix(b"Q=")) {
                return qvalue(q.trim_ascii()).is_some_and(|q| q > 0);
            }
        }
        true
    })
}

/// An RFC 9110 q-value in thousandths: `0`, `0.5`, `1.000`...; `None` if
/// malformed (which refuses, as nginx refuses).
fn qvalue(q: &[u8]) -> Option<u32> {
    let (int, frac) = match q.iter().position(|&c| c == b'.') {
        Some(i) => (&q[..i], &q[i + 1..]),
        None => (q, &b""[..]),
    };
    if int.len() != 1 || frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut n = match int[0] {
        b'0' => 0,
        b'1' => 1000,
        _ => return None,
    };
    for (i, &d) in frac.iter().enumerate() {
        n += u32::from(d - b'0') * [100, 10, 1][i];
    }
    (n <= 1000).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_as_nginx_reads_it() {
        for yes in
            ["gzip", "GZIP", "deflate, gzip;q=0.5", "br,gzip", "gzip;q=0.001", "gzip ; q=1", "gzip;q=1.0"]
        {
            assert!(takes_gzip(yes.as_bytes()), "{yes}");
        }
        for no in
            ["", "gzip;q=0", "gzip;q=0.000", "*", "x-gzip", "identity", "gzip;q=2", "gzip;q=abc", "gzipx"]
        {
            assert!(!takes_gzip(no.as_bytes()), "{no}");
        }
    }
}
