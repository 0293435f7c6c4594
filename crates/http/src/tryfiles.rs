//! nginx's `try_files`: candidates tried in order, then a fallback.
//!
//! `try_files = ["$uri", "$uri/", "/index.html"]` (the single-page
//! application's fallback) answers a request with the file it names if
//! there is one, else with the directory it names (its index, or with
//! `autoindex` its listing; named without its slash, a 301 to the slash
//! form first, as in nginx), else with `/index.html`; a last item `=404` answers 404 instead (with
//! the `error_pages` page, if any). As in nginx, `$uri` is the request's
//! path decoded and normalised, without its query; a candidate ending in
//! `/` must be a directory, any other a regular file (a directory named
//! by `$uri` is passed over); a candidate that is refused (a link out of
//! the root, no permission) is passed over as nginx passes over any that
//! fails to open.
//!
//! Each expanded candidate goes through the same checks as a request's
//! path ([`crate::path::clean`]: no climbing above the root, no NUL; then
//! the cache's resolution beneath the root, links included), so `$uri`
//! cannot smuggle a path out. A file candidate is looked up through the
//! cache (and, when the file is there, its gzip twin with `gzip_static`:
//! as in nginx, a twin alone does not make a candidate), so a hit costs
//! what a plain request costs.
//!
//! Where spindle differs from nginx: the fallback path is served as if
//! requested, once; nginx redirects internally, which runs `try_files`
//! again on the new path (and, with a fallback that is missing, loops
//! until its limit of ten and answers 500); here a missing fallback is a
//! 404. Only `$uri` is known; a fallback with a query keeps the path.
//!
//! With `try_files` off (the default) nothing here runs.

use crate::cache::Lookup;
use crate::config::{Fallback, TryFiles};
use crate::path::{self, CleanPath};

/// What `try_files` made of a request.
pub(crate) enum Tried {
    /// Answer with this, as for this path.
    Found(Lookup, CleanPath),
    /// Answer with this status (`=CODE`).
    Code(u16),
}

/// `$uri` in `pattern` replaced by `uri`, made a clean path; `None` if the
/// result is malformed (it is then passed over).
pub(crate) fn expand(pattern: &str, uri: &[u8]) -> Option<CleanPath> {
    let mut p = Vec::with_capacity(pattern.len() + uri.len());
    let mut rest = pattern.as_bytes();
    while let Some(i) = rest.windows(4).position(|w| w == b"$uri") {
        p.extend_from_slice(&rest[..i]);
        p.extend_from_slice(uri);
        rest = &rest[i + 4..];
    }
    p.extend_from_slice(rest);
    // `clean` decodes `%`: the request's path is decoded already, and a
    // `%` in it must stay a `%`.
    let mut escaped = Vec::with_capacity(p.len());
    for c in p {
        match c {
            b'%' => escaped.extend_from_slice(b"%25"),
            b'?' => escaped.extend_from_slice(b"%3F"),
            b'#' => escaped.extend_from_slice(b"%23"),
            c => escaped.push(c),
        }
    }
    path::clean(&escaped).ok()
}

/// Tries `tf` for the request path `clean`: `lookup` finds a path's file
/// (through the cache) as for a request, `candidate` a file candidate's
/// (which must be there itself, not only its gzip twin), `root` is where
/// directories are looked for.
pub(crate) fn find(
    tf: &TryFiles,
    root: &std::path::Path,
    clean: &CleanPath,
    mut lookup: impl FnMut(&CleanPath) -> Lookup,
    mut candidate: impl FnMut(&CleanPath) -> Lookup,
) -> Tried {
    for pattern in &tf.candidates {
        let Some(c) = expand(pattern, &clean.path) else { continue };
        if let Some(bare) = pattern.strip_suffix('/') {
            if path::is_dir_under(root, &c) {
                // As nginx, which tests the name with its slash but goes
                // on with the path without it: `/sub` is then a 301 to
                // `/sub/`, as without `try_files`.
                let c = expand(bare, &clean.path).unwrap_or(c);
                let found = lookup(&c);
                return Tried::Found(found, c);
            }
        } else if !c.is_dir() {
            if let found @ Lookup::File(_) = candidate(&c) {
                return Tried::Found(found, c);
            }
        }
    }
    match &tf.fallback {
        Fallback::Code(code) => Tried::Code(*code),
        Fallback::Uri(u) => {
            // The query, if any, is for a program; a static server keeps
            // the path.
            let u = u.split(['?', '#']).next().unwrap_or_default();
            match expand(u, &clean.path) {
                Some(c) => Tried::Found(lookup(&c), c),
                None => Tried::Code(404),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_keeps_the_path_safe() {
        let p =
            |pat: &str, uri: &str| expand(pat, uri.as_bytes()).map(|c| String::from_utf8(c.path).unwrap());
        assert_eq!(p("$uri", "/a b").as_deref(), Some("/a b"));
        assert_eq!(p("$uri/", "/d").as_deref(), Some("/d/"));
        assert_eq!(p("$uri.html", "/about").as_deref(), Some("/about.html"));
        assert_eq!(p("/x$uri", "/a%2e%2e").as_deref(), Some("/x/a%2e%2e"));
        assert_eq!(p("$uri", "/a?b#c").as_deref(), Some("/a?b#c"));
        assert_eq!(p("/../$uri", "/a"), None);
    }
}
