//! From a request target to a file under the root, safely.
//!
//! The target is cut at `?`, percent-decoded, and its dot segments are
//! removed *after* decoding, so `%2e%2e` and `%2F` cannot smuggle a `..`
//! or a slash past the check: an encoded slash is decoded and then treated
//! as any other slash (nginx does the same). A `..` that would climb above
//! the root, a NUL byte (`%00`) or a malformed escape is a bad request.
//! What remains can still leave the root through a symbolic link, so on a
//! cache miss the file's path is resolved with `canonicalize` (realpath)
//! and refused unless it lies under the (canonical) root; the cache then
//! opens that canonical path following no link at all
//! ([`crate::sys::open_no_symlinks`]), so a link renamed over a
//! component after the check makes the open fail instead of leading it
//! out of the root.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Why a target was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    /// Malformed: a bad escape, a NUL byte, not starting with `/`, or
    /// climbing above the root (400).
    Bad,
}

/// A decoded, normalised request path: starts with `/`, no `.` or `..`
/// segments, no empty segments, no NUL. `dir` says it ended in `/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CleanPath {
    /// The normalised path, starting with `/` (ending with `/` if the
    /// target did, or was the root).
    pub path: Vec<u8>,
}

impl CleanPath {
    /// Whether the path names a directory (ends with `/`).
    pub fn is_dir(&self) -> bool {
        self.path.last() == Some(&b'/')
    }

    /// The path relative to the root, as a file system path.
    pub fn relative(&self) -> &Path {
        Path::new(OsStr::from_bytes(self.path.strip_prefix(b"/").unwrap_or(&self.path)))
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The rest of an absolute-form target after its scheme and `://`: as in
/// nginx, any scheme (letters, then letters, digits, `+`, `-`, `.`), in
/// any case.
pub(crate) fn after_scheme(t: &[u8]) -> Option<&[u8]> {
    if !t.first()?.is_ascii_alphabetic() {
        return None;
    }
    let end = t.iter().position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')))?;
    t[end..].strip_prefix(b"://")
}

/// The path part of a request target: an absolute-form target
/// (`http://host/p`, any scheme in any case) loses its scheme and
/// authority; the query is cut.
pub fn target_path(target: &[u8]) -> &[u8] {
    let mut t = target;
    if let Some(rest) = after_scheme(t) {
        t = rest.iter().position(|&c| c == b'/').map_or(b"/", |i| &rest[i..]);
    }
    let end = t.iter().position(|&c| c == b'?' || c == b'#').unwrap_or(t.len());
    &t[..end]
}

/// Decodes and normalises the path of `target` (see the module docs).
///
/// ```
/// use spindle_http::path::clean;
/// assert_eq!(clean(b"/a/./b/../c%20d?x=1").unwrap().path, b"/a/c d");
/// assert!(clean(b"/../etc/passwd").is_err());
/// assert!(clean(b"/a%00b").is_err());
/// ```
///
/// # Errors
/// [`PathError::Bad`] as described in the module docs.
pub fn clean(target: &[u8]) -> Result<CleanPath, PathError> {
    let raw = target_path(target);
    if raw.first() != Some(&b'/') {
        return Err(PathError::Bad);
    }
    // Most paths are clean as they come: one copy, no other work.
    if already_clean(raw) {
        return Ok(CleanPath { path: raw.to_vec() });
    }
    normalise(raw)
}

/// Whether `raw` (starting with `/`) is its own clean form: no escape,
/// no NUL, and no empty, `.` or `..` segment, but for a last empty one
/// (a trailing slash).
fn already_clean(raw: &[u8]) -> bool {
    if raw.iter().any(|&c| c == b'%' || c == 0) {
        return false;
    }
    let mut segments = raw[1..].split(|&c| c == b'/').peekable();
    while let Some(seg) = segments.next() {
        let last = segments.peek().is_none();
        if seg == b"." || seg == b".." || (seg.is_empty() && !last) {
            return false;
        }
    }
    true
}

/// [`clean`] for any `raw` path (starting with `/`): decoded into one
/// buffer, then normalised into the other.
fn normalise(raw: &[u8]) -> Result<CleanPath, PathError> {
    // Percent-decoding first, so that encoded dots and slashes are seen
    // by the normalisation below.
    let mut decoded = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if c == b'%' {
            let (h, l) = match (raw.get(i + 1).and_then(|&b| hex(b)), raw.get(i + 2).and_then(|&b| hex(b))) {
                (Some(h), Some(l)) => (h, l),
                _ => return Err(PathError::Bad),
            };
            decoded.push(h << 4 | l);
            i += 3;
        } else {
            decoded.push(c);
            i += 1;
        }
    }
    if decoded.contains(&0) {
        return Err(PathError::Bad);
    }
    let trailing = decoded.last() == Some(&b'/') || decoded.ends_with(b"/.") || decoded.ends_with(b"/..");
    // Each segment kept is `/name`; a `..` cuts the last one off.
    let mut path = Vec::with_capacity(decoded.len() + 1);
    for seg in decoded.split(|&c| c == b'/') {
        match seg {
            b"" | b"." => {}
            b".." => match path.iter().rposition(|&c| c == b'/') {
                Some(at) => path.truncate(at),
                None => return Err(PathError::Bad),
            },
            s => {
                path.push(b'/');
                path.extend_from_slice(s);
            }
        }
    }
    if trailing || path.is_empty() {
        path.push(b'/');
    }
    Ok(CleanPath { path })
}

/// Where a clean path led on disk.
#[derive(Debug)]
pub enum Resolved {
    /// A regular file (for a directory path: its index file).
    File(PathBuf),
    /// A directory named without the trailing slash: redirect to the
    /// slash form.
    Redirect,
    /// Nothing there (404).
    NotFound,
    /// There, but not to be served: outside the root through a symbolic
    /// link, a directory without an index, not a regular file, a link
    /// loop (403).
    Forbidden,
    /// The system refused the worker access (`EACCES`, `EPERM`: its user
    /// may not read the file or search a directory on the way): 403, and
    /// worth an error log line, as nginx writes, since the fix is the
    /// file's permissions.
    Denied(std::io::Error),
    /// The system failed to say (out of descriptors or memory, an I/O
    /// error): nginx's 500, since the file may well be there.
    Failed(std::io::Error),
}

/// What a failed look-up or open of a file means for the request, as
/// nginx's static handler reads `errno`: no such file, a file where a
/// directory was needed, or a name too long is 404; no permission or a
/// link loop is 403 (`Denied` for the first, which the error log
/// reports, `Forbidden` for the other); anything else (`EMFILE`, `ENFILE`,
/// `ENOMEM`, `EIO`...) says nothing about the file and is 500. Answering
/// 404 for those told clients, and the caches in between, that a file
/// which exists did not.
pub fn classify(e: std::io::Error) -> Resolved {
    match e.raw_os_error() {
        Some(libc::ENOENT | libc::ENOTDIR | libc::ENAMETOOLONG) => Resolved::NotFound,
        Some(libc::EACCES | libc::EPERM) => Resolved::Denied(e),
        Some(libc::ELOOP | libc::EMLINK) => Resolved::Forbidden,
        _ if e.kind() == std::io::ErrorKind::NotFound => Resolved::NotFound,
        _ if e.kind() == std::io::ErrorKind::PermissionDenied => Resolved::Forbidden,
        _ => Resolved::Failed(e),
    }
}

/// Finds the file `path` names under `root`, following symbolic links
/// only as far as they stay under the root. `root` is resolved here, on
/// each call, so that a link in it switched to another directory (a
/// deploy's `current`) leads there at once; the file is looked for under
/// that resolution, so a switch during the call cannot mix two of them.
pub fn resolve(root: &Path, path: &CleanPath, index: &str) -> Resolved {
    resolve_index(root, path, index).0
}

/// [`resolve`], which for a directory also says which of the `index`
/// names (separated by spaces) it found: the first that exists, as
/// nginx's index module tries them. A name that is not there moves on to
/// the next; any other failure (no permission, a link loop) decides. No
/// name there: 403 for a directory that exists, as nginx's "directory
/// index of ... is forbidden", else 404.
pub fn resolve_index<'i>(root: &Path, path: &CleanPath, index: &'i str) -> (Resolved, Option<&'i str>) {
    let root = match std::fs::canonicalize(root) {
        Ok(r) => r,
        Err(e) => return (classify(e), None),
    };
    let root = root.as_path();
    let full = root.join(path.relative());
    let (real, chosen) = if path.is_dir() {
        let mut found = None;
        for name in index.split_whitespace() {
            match std::fs::canonicalize(full.join(name)) {
                Ok(p) => {
                    found = Some((p, name));
                    break;
                }
                Err(e) => match classify(e) {
                    Resolved::NotFound => {}
                    other => return (other, None),
                },
            }
        }
        match found {
            Some((p, name)) => (p, Some(name)),
            None if full.is_dir() => return (Resolved::Forbidden, None),
            None => return (Resolved::NotFound, None),
        }
    } else {
        match std::fs::canonicalize(&full) {
            Ok(p) => (p, None),
            Err(e) => return (classify(e), None),
        }
    };
    (check(root, path, real), chosen)
}

/// Whether `path` names a directory under `root` (through links only as
/// far as they stay under it), as nginx's `try_files $uri/` asks.
pub fn is_dir_under(root: &Path, path: &CleanPath) -> bool {
    let Ok(root) = std::fs::canonicalize(root) else { return false };
    match std::fs::canonicalize(root.join(path.relative())) {
        Ok(real) => real.starts_with(&root) && real.is_dir(),
        Err(_) => false,
    }
}

/// What `real`, the canonical path found for `path`, is to the request.
fn check(root: &Path, path: &CleanPath, real: PathBuf) -> Resolved {
    if !real.starts_with(root) {
        return Resolved::Forbidden;
    }
    match std::fs::metadata(&real) {
        Ok(m) if m.is_file() => Resolved::File(real),
        Ok(m) if m.is_dir() && !path.is_dir() => Resolved::Redirect,
        Ok(_) => Resolved::Forbidden,
        Err(e) => classify(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(t: &str) -> String {
        String::from_utf8(clean(t.as_bytes()).unwrap().path).unwrap()
    }

    #[test]
    fn normalises() {
        assert_eq!(ok("/"), "/");
        assert_eq!(ok("/a/b"), "/a/b");
        assert_eq!(ok("/a/b/"), "/a/b/");
        assert_eq!(ok("//a///b"), "/a/b");
        assert_eq!(ok("/a/./b/."), "/a/b/");
        assert_eq!(ok("/a/b/.."), "/a/");
        assert_eq!(ok("/a/%2e%2e/b"), "/b");
        assert_eq!(ok("/a%2Fb"), "/a/b");
        assert_eq!(ok("/x?y=/../.."), "/x");
        assert_eq!(ok("http://host/a/../b"), "/b");
        assert_eq!(ok("http://host"), "/");
        assert_eq!(ok("HTTP://host/a"), "/a");
        assert_eq!(ok("coap+tcp://host/a"), "/a");
        assert_eq!(ok("/%7euser"), "/~user");
    }

    proptest::proptest! {
        /// A path taken as clean as it came is what normalising it gives.
        #[test]
        fn the_shortcut_agrees(t in "/[a./%2e0]{0,12}") {
            let raw = t.as_bytes();
            if already_clean(raw) {
                proptest::prop_assert_eq!(normalise(raw).map(|c| c.path), Ok(raw.to_vec()));
            }
        }
    }

    #[test]
    fn takes_clean_paths_as_they_come() {
        for t in ["/", "/a", "/a/b/", "/a.b/c..d/.e", "/...", "/a/.../"] {
            assert!(already_clean(t.as_bytes()), "{t}");
            assert_eq!(ok(t), t);
        }
        for t in ["//", "/a//b", "/.", "/a/./b", "/a/..", "/a/../", "/%41", "/a\0"] {
            assert!(!already_clean(t.as_bytes()), "{t:?}");
        }
    }

    #[test]
    fn refuses() {
        for t in [
            "",
            "a",
            "*",
            "/..",
            "/../x",
            "/a/../../x",
            "/%2e%2e/x",
            "/a%2f..%2f..%2fx",
            "/%00",
            "/a%",
            "/a%4",
            "/a%zz",
            "/a\0b",
        ] {
            assert_eq!(clean(t.as_bytes()), Err(PathError::Bad), "{t:?}");
        }
    }

    #[test]
    fn resolves_under_root_only() {
        let dir = std::env::temp_dir().join(format!("spindle-http-path-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let root = dir.join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(dir.join("secret"), "s").unwrap();
        std::fs::write(root.join("a.txt"), "a").unwrap();
        std::fs::write(root.join("sub/index.html"), "i").unwrap();
        std::os::unix::fs::symlink(dir.join("secret"), root.join("out")).unwrap();
        std::os::unix::fs::symlink(root.join("a.txt"), root.join("in")).unwrap();
        let root = root.canonicalize().unwrap();
        let r = |t: &str| resolve(&root, &clean(t.as_bytes()).unwrap(), "index.html");
        assert!(matches!(r("/a.txt"), Resolved::File(_)));
        assert!(matches!(r("/in"), Resolved::File(_)));
        assert!(matches!(r("/out"), Resolved::Forbidden));
        assert!(matches!(r("/sub"), Resolved::Redirect));
        assert!(matches!(r("/sub/"), Resolved::File(p) if p.ends_with("sub/index.html")));
        assert!(matches!(r("/"), Resolved::Forbidden));
        assert!(matches!(r("/nope"), Resolved::NotFound));
        assert!(matches!(r("/a.txt/"), Resolved::NotFound));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors_are_classified_as_nginx_does() {
        let e = std::io::Error::from_raw_os_error;
        for n in [libc::ENOENT, libc::ENOTDIR, libc::ENAMETOOLONG] {
            assert!(matches!(classify(e(n)), Resolved::NotFound), "{n}");
        }
        for n in [libc::EACCES, libc::EPERM] {
            assert!(matches!(classify(e(n)), Resolved::Denied(_)), "{n}");
        }
        for n in [libc::ELOOP, libc::EMLINK] {
            assert!(matches!(classify(e(n)), Resolved::Forbidden), "{n}");
        }
        for n in [libc::EMFILE, libc::ENFILE, libc::ENOMEM, libc::EIO] {
            assert!(matches!(classify(e(n)), Resolved::Failed(_)), "{n}");
        }
    }
}
