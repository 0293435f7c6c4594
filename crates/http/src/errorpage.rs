//! Error pages served from files, as nginx's `error_page 404 /404.html`
//! serves them for a static site.
//!
//! A request whose answer is 404 (or 403) gets, when the configuration
//! names a page for that status, the named file's contents with the
//! error's status: its own `Content-Type`, `Content-Length` and `ETag`
//! (no `Last-Modified` and no `Accept-Ranges`: nginx drops them from any
//! status but 200, 206 and 304). As in nginx, the request's conditional
//! and `Range` headers do not apply to the page: it is always sent whole.
//! A page that is missing (or is not a plain readable file) falls back to
//! the built-in one.
//!
//! Only the error path comes here: with no page configured, a 404 costs
//! one test of an `Option`.

use crate::cache::Lookup;
use crate::log::Clock;
use crate::path;
use crate::response::{content_length, finish, start, FileBody, Outcome};
use crate::server::Worker;

/// Writes the response `status` with the file `page` as its body, if that
/// file can be served; returns the body length sent in the buffer or
/// queued for `sendfile` (0 for `HEAD`), or `None` when the page cannot
/// be served and the built-in one must go instead.
pub(crate) fn serve(
    w: &Worker,
    out: &mut Vec<u8>,
    clock: &Clock,
    page: &str,
    status: u16,
    head_only: bool,
    o: &mut Outcome,
) -> Option<u64> {
    let clean = path::clean(page.as_bytes()).ok()?;
    let found = w.cache.borrow_mut().lookup(&w.cfg.root, &clean, &w.cfg.index, clock.secs());
    let Lookup::File(e) = found else {
        return None;
    };
    start(out, status, &clock.http);
    out.extend_from_slice(b"Content-Type: ");
    out.extend_from_slice(e.content_type.as_bytes());
    out.extend_from_slice(b"\r\n");
    content_length(out, e.size);
    out.extend_from_slice(b"ETag: ");
    out.extend_from_slice(e.etag.as_bytes());
    out.extend_from_slice(b"\r\n");
    finish(out, o.close);
    if head_only || e.size == 0 {
        return Some(0);
    }
    let len = e.size;
    match &e.body {
        Some(body) => out.extend_from_slice(body),
        None => o.file = Some(FileBody { entry: e.clone(), off: 0, len, multi: None, gzip: None, log: None }),
    }
    Some(len)
}
