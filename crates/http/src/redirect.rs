//! The `Location` of the redirect that adds a directory's trailing slash.
//!
//! nginx sends an absolute URL (its defaults `absolute_redirect on`,
//! `server_name_in_redirect off`, `port_in_redirect on`): the host the
//! client asked for (from an absolute request target, else the `Host`
//! header, without its port, lower-cased, a trailing dot dropped), else
//! this end's address; then `:port` of the socket the request came in on,
//! unless it is 80; then the path as nginx has it after decoding and
//! normalising (`//sub`, `/%73ub` and `/x/../sub` all lead to `/sub/`),
//! escaped again where a URL needs it, with a `/` added and the query
//! string kept as sent. A `Host` that nginx's validation refuses (a `/`, a control
//! byte, `..`, a duplicate) never gets here: the request is a 400. One
//! that passes it but is still not a plain name or address literal (say,
//! with `"` or `<`) is not copied into the header: the local address
//! stands in for it.

use std::net::SocketAddr;

/// The host part of an authority (`host[:port]`), as nginx keeps it, or
/// `None` if it is not a plain host.
fn host_of(authority: &[u8]) -> Option<Vec<u8>> {
    let (host, port) = if authority.first() == Some(&b'[') {
        let close = authority.iter().position(|&c| c == b']')?;
        let inner = &authority[1..close];
        if inner.is_empty() || !inner.iter().all(|&c| c.is_ascii_hexdigit() || c == b':' || c == b'.') {
            return None;
        }
        (&authority[..=close], &authority[close + 1..])
    } else {
        let colon = authority.iter().position(|&c| c == b':').unwrap_or(authority.len());
        let host = &authority[..colon];
        let ok = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~');
        if !host.iter().all(ok) || host.windows(2).any(|w| w == b"..") {
            return None;
        }
        (host, &authority[colon..])
    };
    if let Some(p) = port.strip_prefix(b":") {
        if !p.iter().all(u8::is_ascii_digit) {
            return None;
        }
    } else if !port.is_empty() {
        return None;
    }
    let host = host.strip_suffix(b".").unwrap_or(host);
    if host.is_empty() {
        return None;
    }
    Some(host.to_ascii_lowercase())
}

/// Appends `path` percent-encoded where nginx encodes a redirect's path:
/// control bytes, space, `"#%<>?\\^`{|}`, DEL and every non-ASCII byte.
fn push_escaped(out: &mut Vec<u8>, path: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &c in path {
        if c <= b' ' || c >= 0x7f || b"\"#%<>?\\^`{|}".contains(&c) {
            out.extend_from_slice(&[b'%', HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]);
        } else {
            out.push(c);
        }
    }
}

/// The `Location: ...\r\n` header line for a request for directory
/// `target` (named without its trailing slash), whose decoded and
/// normalised path is `clean`, given the request's `Host` and the
/// connection's local address.
pub(crate) fn location(
    target: &[u8],
    clean: &[u8],
    host: Option<&[u8]>,
    local: Option<SocketAddr>,
) -> Vec<u8> {
    let lower = target.get(..8).map(<[u8]>::to_ascii_lowercase).unwrap_or_default();
    let from_target = if lower.starts_with(b"http://") {
        Some(&target[7..])
    } else if lower.starts_with(b"https://") {
        Some(&target[8..])
    } else {
        None
    };
    let authority = match from_target {
        Some(rest) => Some(&rest[..rest.iter().position(|&c| c == b'/').unwrap_or(rest.len())]),
        None => host.map(<[u8]>::trim_ascii),
    };
    let mut loc = b"Location: ".to_vec();
    let name = authority.and_then(host_of).or_else(|| {
        local.map(|a| match a {
            SocketAddr::V4(v4) => v4.ip().to_string().into_bytes(),
            SocketAddr::V6(v6) => format!("[{}]", v6.ip()).into_bytes(),
        })
    });
    if let Some(name) = name {
        loc.extend_from_slice(b"http://");
        loc.extend_from_slice(&name);
        if let Some(port) = local.map(|a| a.port()).filter(|&p| p != 80) {
            loc.extend_from_slice(format!(":{port}").as_bytes());
        }
    }
    push_escaped(&mut loc, clean);
    loc.push(b'/');
    if let Some(q) = target.iter().position(|&c| c == b'?') {
        loc.extend_from_slice(&target[q..]);
    }
    loc.extend_from_slice(b"\r\n");
    loc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(target: &str, host: Option<&str>, local: Option<&str>) -> String {
        let local = local.map(|l| l.parse().unwrap());
        let clean = crate::path::clean(target.as_bytes()).unwrap().path;
        let v = location(target.as_bytes(), &clean, host.map(str::as_bytes), local);
        String::from_utf8(v).unwrap().strip_prefix("Location: ").unwrap().trim_end().to_string()
    }

    #[test]
    fn absolute_locations() {
        let l = Some("127.0.0.1:8080");
        assert_eq!(loc("/d", Some("example.com"), l), "http://example.com:8080/d/");
        // The port is the socket's, not the Host header's (port_in_redirect).
        assert_eq!(loc("/d", Some("Example.COM.:9999"), l), "http://example.com:8080/d/");
        assert_eq!(loc("/d", Some("example.com"), Some("10.0.0.1:80")), "http://example.com/d/");
        assert_eq!(loc("/a/b?x=1&y", Some("h"), l), "http://h:8080/a/b/?x=1&y");
        assert_eq!(loc("/d", Some("[::1]:8080"), l), "http://[::1]:8080/d/");
        // No Host, or one not fit to copy: the local address.
        assert_eq!(loc("/d", None, l), "http://127.0.0.1:8080/d/");
        assert_eq!(loc("/d", None, Some("[::1]:81")), "http://[::1]:81/d/");
        for bad in ["", "a/b", "a@b", "a..b", "a:x", "[zz]", "[::1", "a b", "\"x\""] {
            assert_eq!(loc("/d", Some(bad), l), "http://127.0.0.1:8080/d/", "{bad:?}");
        }
        // An absolute request target names the host.
        assert_eq!(loc("http://other.org/d?q", Some("example.com"), l), "http://other.org:8080/d/?q");
        // Nothing at all to go on: a relative Location.
        assert_eq!(loc("/d", None, None), "/d/");
        assert_eq!(loc("//a/../d", None, None), "/d/");
        assert_eq!(loc("/%64%20%C3%A9?q=%20", None, None), "/d%20%C3%A9/?q=%20");
        assert_eq!(loc("/a%22%23%25%3F%7B+&;=~'x", None, None), "/a%22%23%25%3F%7B+&;=~'x/");
    }
}
