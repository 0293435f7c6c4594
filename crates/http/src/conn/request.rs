//! Parsing the request at the front of the input buffer and answering
//! it; dropping a chunked request body.

use super::{Conn, Step};
use crate::chunked::{Discard, Progress};
use crate::head::{self, valid_host, valid_target_host, version, HeadScan, Scanned, Version};
use crate::response::{self, Known, Req};

impl Conn {
    /// Parses one request at the front of the buffer and builds its
    /// response.
    pub(super) fn step(&mut self) -> Step {
        let w = &*self.w;
        let peer = self.peer;
        let limits = &w.cfg.limits;
        let data = &self.buf[self.start..self.end];
        // Refused: counted, logged with what is known, answered, closed.
        let fail = |out: &mut Vec<u8>, status, k: &Known<'_>| {
            response::refuse(w, Some(out), peer, status, k);
            Step::Done(response::Outcome { close: true, file: None, listing: None })
        };
        let so_far = || Known::from_head(data, limits.request_line);
        // Parsed only when its request line or the whole head has come
        // (see `HeadScan`); in between, the limits.
        if self.scan.feed(data) == Scanned::Wait {
            let lead = self.scan.lead();
            return match self.scan.line_len() {
                None if data.len() - lead > limits.request_line => fail(&mut self.out, 414, &so_far()),
                _ if data.len() >= limits.headers => fail(&mut self.out, 431, &so_far()),
                _ => Step::Partial,
            };
        }
        // Empty lines before a request line are skipped (RFC 9112 §2.2).
        let lead = match data.first() {
            Some(b'\r' | b'\n') => data.iter().position(|&c| c != b'\r' && c != b'\n').unwrap_or(data.len()),
            _ => 0,
        };
        let line_len = data[lead..].iter().position(|&c| c == b'\n');
        // A version httparse does not take: HTTP/2 and up get nginx's 505,
        // a later HTTP/1 minor is parsed (from a copy) as HTTP/1.1, and a
        // version followed by spaces as itself.
        let full_line = line_len.map(|l| &data[lead..lead + l]);
        let patched: Vec<u8>;
        let (src, shift) = match full_line.map(version) {
            Some(Version::Unsupported) => return fail(&mut self.out, 505, &so_far()),
            Some(Version::Rewrite(at, old_len, new)) => {
                let at = lead + at;
                patched = [&data[..at], new, &data[at + old_len..]].concat();
                (&patched[..], old_len as isize - new.len() as isize)
            }
            _ => (data, 0),
        };
        let mut config = httparse::ParserConfig::default();
        // nginx takes several spaces between the parts of a request line.
        config.allow_multiple_spaces_in_request_line_delimiters(true);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut more_headers;
        let mut req = httparse::Request::new(&mut headers);
        let mut parsed = config.parse_request(&mut req, src);
        if let Err(httparse::Error::TooManyHeaders) = parsed {
            // nginx limits the head's size, not its count of headers:
            // as many as fit in `limits.headers` (at least 4 bytes each).
            more_headers = vec![httparse::EMPTY_HEADER; limits.headers / 4 + 1];
            req = httparse::Request::new(&mut more_headers);
            parsed = config.parse_request(&mut req, src);
        }
        let len = match parsed {
            Ok(httparse::Status::Complete(len)) => (len as isize + shift) as usize,
            Ok(httparse::Status::Partial) => {
                return match line_len {
                    None if data.len() - lead > limits.request_line => fail(&mut self.out, 414, &so_far()),
                    Some(l) if l > limits.request_line => fail(&mut self.out, 414, &so_far()),
                    _ if data.len() >= limits.headers => fail(&mut self.out, 431, &so_far()),
                    _ => Step::Partial,
                };
            }
            Err(httparse::Error::TooManyHeaders) => return fail(&mut self.out, 431, &so_far()),
            Err(_) => return fail(&mut self.out, 400, &so_far()),
        };
        let line_len = line_len.unwrap_or(len - lead);
        // Each header line must fit where the request line must (nginx's
        // `large_client_header_buffers` size); 431 as for a large head.
        let long_field = req.headers.iter().any(|h| h.name.len() + 2 + h.value.len() > limits.request_line);
        if line_len > limits.request_line {
            return fail(&mut self.out, 414, &so_far());
        }
        if len > limits.headers || long_field {
            return fail(&mut self.out, 431, &so_far());
        }
        let line = &data[lead..lead + line_len];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let mut r = Req {
            method: req.method.unwrap_or(""),
            target: req.path.unwrap_or("").as_bytes(),
            minor: req.version.unwrap_or(1),
            line,
            ..Req::default()
        };
        // nginx's methods are upper-case letters, `_` and `-`.
        if !r.method.bytes().all(|c| c.is_ascii_uppercase() || c == b'_' || c == b'-') {
            return fail(&mut self.out, 400, &so_far());
        }
        let mut content_length: Option<u64> = None;
        let mut chunked = false;
        let mut te_other = false;
        let mut te_count = 0;
        let mut bad = false;
        let mut bad_host = false;
        let mut expect_continue = false;
        // `gzip` and `gzip_static` off: these two headers are not compared.
        let gzip = w.reads_encoding;
        for h in req.headers.iter() {
            let n = h.name.as_bytes();
            let v = h.value;
            match n.len() {
                4 if n.eq_ignore_ascii_case(b"host") => {
                    // nginx: "client sent duplicate host header" or
                    // "client sent invalid host header", 400 either way.
                    bad_host |= r.host.is_some() || !valid_host(v);
                    r.host = Some(v);
                }
                // A field that takes one value, sent twice: the first
                // counts, as in nginx (`ngx_http_process_header_line`), so
                // that a cache in front keying on the first `Range` gets
                // the bytes it asked for.
                5 if n.eq_ignore_ascii_case(b"range") => r.range = r.range.or(Some(v)),
                6 if n.eq_ignore_ascii_case(b"expect") => {
                    expect_continue = v.trim_ascii().eq_ignore_ascii_case(b"100-continue");
                }
                7 if n.eq_ignore_ascii_case(b"referer") => r.referer = r.referer.or(Some(v)),
                15 if gzip && n.eq_ignore_ascii_case(b"accept-encoding") => {
                    r.accept_encoding = r.accept_encoding.or(Some(v))
                }
                3 if gzip && n.eq_ignore_ascii_case(b"via") => r.via = true,
                8 if n.eq_ignore_ascii_case(b"if-range") => r.if_range = r.if_range.or(Some(v)),
                10 if n.eq_ignore_ascii_case(b"connection") => {
                    for t in v.split(|&c| c == b',') {
                        let t = t.trim_ascii();
                        r.conn_close |= t.eq_ignore_ascii_case(b"close");
                        r.conn_keep_alive |= t.eq_ignore_ascii_case(b"keep-alive");
                    }
                }
                10 if n.eq_ignore_ascii_case(b"user-agent") => r.user_agent = r.user_agent.or(Some(v)),
                13 if n.eq_ignore_ascii_case(b"if-none-match") => head::join_list(&mut r.if_none_match, v),
                13 if n.eq_ignore_ascii_case(b"authorization") => {
                    r.authorization = r.authorization.or(Some(v))
                }
                14 if n.eq_ignore_ascii_case(b"content-length") => {
                    // A second one is refused even if equal, as in nginx
                    // ("client sent duplicate header line").
                    match (head::content_length(v), content_length) {
                        (Some(x), None) => content_length = Some(x),
                        _ => bad = true,
                    }
                }
                8 if n.eq_ignore_ascii_case(b"if-match") => head::join_list(&mut r.if_match, v),
                19 if n.eq_ignore_ascii_case(b"if-unmodified-since") => {
                    r.if_unmodified_since = r.if_unmodified_since.or(Some(v))
                }
                17 if n.eq_ignore_ascii_case(b"if-modified-since") => {
                    r.if_modified_since = r.if_modified_since.or(Some(v))
                }
                17 if n.eq_ignore_ascii_case(b"transfer-encoding") => {
                    te_count += 1;
                    // Only `chunked` alone is understood (as in nginx):
                    // `gzip, chunked` and the like get 501.
                    if v.trim_ascii().eq_ignore_ascii_case(b"chunked") {
                        chunked = true;
                    } else {
                        te_other = true;
                    }
                }
                _ => {}
            }
        }
        let known =
            Known { line, referer: r.referer, user_agent: r.user_agent, authorization: r.authorization };
        // nginx's checks, in its order: a duplicate or invalid Host (found
        // as the header is read), then once the head is complete an
        // HTTP/1.1 request naming no host (RFC 9112 §3.2: "client sent
        // HTTP/1.1 request without Host header"), then a body framed two
        // ways, a repeated Transfer-Encoding, or one in HTTP/1.0 is a 400
        // (a smuggling attempt or a broken client); an unknown coding is
        // a 501.
        let no_host = r.minor >= 1 && r.host.is_none();
        // nginx checks the target's host when the request line is read,
        // before any header ("client sent invalid host in request line").
        let bad_host = bad_host || !valid_target_host(r.target);
        if bad_host
            || no_host
            || bad
            || te_count > 1
            || (te_count > 0 && (content_length.is_some() || r.minor == 0))
        {
            return fail(&mut self.out, 400, &known);
        }
        if te_other {
            return fail(&mut self.out, 501, &known);
        }
        if content_length.is_some_and(|n| n > limits.body) {
            self.linger = true;
            return fail(&mut self.out, 413, &known);
        }
        if chunked {
            if !self.chunk_done {
                // Leave the head where it is, drop the body, come back.
                // The answer waits for the body, and a client that asked
                // for `100 Continue` waits for that before sending it: so
                // it gets one now (after the answers before it in `out`),
                // as nginx's `ngx_http_test_expect` sends it when it starts
                // to drop a body. With a Content-Length body the answer
                // goes at once, its `100` just before it (in `response`).
                if expect_continue && r.minor >= 1 {
                    self.out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                }
                self.chunked = Some(Discard::new(limits.body));
                self.chunk_head = len;
                // The body gets its own header-timeout window, as a
                // Content-Length body does.
                self.head_deadline = None;
                return Step::Chunked(len);
            }
            self.chunk_done = false;
        }
        // nginx answers TRACE with a 405 and closes.
        let keep = if r.minor >= 1 { !r.conn_close } else { r.conn_keep_alive && !r.conn_close };
        let keep = keep && r.method != "TRACE";
        let close =
            !keep || self.served + 1 >= limits.keepalive_requests || self.w.drain_started.get().is_some();
        // A chunked body's `100 Continue` went out above.
        r.expect_continue = expect_continue && r.minor >= 1 && !chunked;
        let stream = &self.stream;
        let local = || stream.local_addr().ok();
        let outcome = response::respond(w, &mut self.out, &r, peer, &local, close);
        self.start += len;
        self.scan = HeadScan::default();
        self.skip = content_length.unwrap_or(0);
        self.head_deadline = None;
        Step::Done(outcome)
    }

    /// Feeds the bytes after the head of `head` bytes to the chunked
    /// decoder and removes those it consumed from the buffer, so the head
    /// stays in place and whatever follows the body moves up to it.
    pub(super) fn discard_chunked(&mut self, head: usize) -> Progress {
        let Some(d) = &mut self.chunked else { return Progress::Done };
        let from = self.start + head;
        let (n, p) = d.feed(&self.buf[from..self.end]);
        self.buf.copy_within(from + n..self.end, from);
        self.end -= n;
        if p != Progress::More {
            self.chunked = None;
        }
        self.chunk_done = p == Progress::Done;
        p
    }
}
