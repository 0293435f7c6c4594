//! Content types by file extension, from the `mime_guess` crate's table
//! (the IANA registrations and common usage, kept up to date: RFC 9239's
//! `text/javascript` for `.js`, `text/markdown` for `.md`); an extension
//! it does not know gets nginx's usual `default_type`,
//! `application/octet-stream`.
//!
//! As in nginx (`ngx_http_set_exten`), the extension is what follows the
//! last `.` of the request path's last segment, compared without regard
//! to case, and the path is the one requested (a symbolic link's name, a
//! directory's index file), not the file it resolves to.
//!
//! Where the table differs from the `mime.types` Debian's nginx 1.22
//! ships, the test `nginx_diff` lists each difference it meets. A few of
//! its first choices are obsolete or odd where nginx and the registry
//! agree on another, and clients act on the type: those come from
//! [`PREFERRED`] instead.

/// The type for an unknown extension (nginx's `default_type`).
pub const DEFAULT: &str = "application/octet-stream";

/// Types chosen over `mime_guess`'s first choice, by lower-case extension:
/// the registered font types (RFC 8081) rather than the retired
/// `application/font-woff` and `application/font-sfnt`; HLS playlists and
/// segments as RFC 8216 and nginx name them (players and casting
/// receivers check them), rather than `audio/x-mpegurl` and
/// `video/vnd.dlna.mpeg-tts`; and module scripts as RFC 9239 names all
/// JavaScript, as `.js` already is.
pub const PREFERRED: &[(&str, &str)] = &[
    ("woff", "font/woff"),
    ("otf", "font/otf"),
    ("m3u8", "application/vnd.apple.mpegurl"),
    ("ts", "video/mp2t"),
    ("mjs", "text/javascript"),
];

/// The content type of the file a request path names.
///
/// ```
/// use spindle_http::mime::by_path;
/// assert_eq!(by_path(b"/a/index.HTML"), "text/html");
/// assert_eq!(by_path(b"/app.js"), "text/javascript");
/// assert_eq!(by_path(b"/dir.d/noext"), "application/octet-stream");
/// ```
pub fn by_path(path: &[u8]) -> &'static str {
    let name = path.rsplit(|&c| c == b'/').next().unwrap_or(path);
    let Some(dot) = name.iter().rposition(|&c| c == b'.') else { return DEFAULT };
    let Ok(ext) = std::str::from_utf8(&name[dot + 1..]) else { return DEFAULT };
    if ext.is_empty() {
        return DEFAULT;
    }
    if let Some((_, t)) = PREFERRED.iter().find(|(e, _)| e.eq_ignore_ascii_case(ext)) {
        return t;
    }
    mime_guess::from_ext(ext).first_raw().unwrap_or(DEFAULT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        for (p, t) in [
            (&b"/index.html"[..], "text/html"),
            (b"/s.css", "text/css"),
            (b"/d.json", "application/json"),
            (b"/i.PNG", "image/png"),
            (b"/p.svg", "image/svg+xml"),
            (b"/f.woff2", "font/woff2"),
            (b"/v.mp4", "video/mp4"),
            (b"/t.txt", "text/plain"),
            (b"/x.", DEFAULT),
            (b"/no-extension", DEFAULT),
            (b"/dir.d/noext", DEFAULT),
            (b"/x.no-such-type", DEFAULT),
            (b"/f.woff", "font/woff"),
            (b"/f.OTF", "font/otf"),
            (b"/f.ttf", "font/ttf"),
            (b"/live/index.m3u8", "application/vnd.apple.mpegurl"),
            (b"/live/seg-001.ts", "video/mp2t"),
            (b"/app.mjs", "text/javascript"),
            (b"/", DEFAULT),
        ] {
            assert_eq!(by_path(p), t, "{}", String::from_utf8_lossy(p));
        }
    }
}
