//! Reading a client's requests: every complete command in its query
//! buffer runs in order (Redis's `processInputBuffer`), until the buffer
//! holds only part of one, the client blocks or is paused, or a protocol
//! error closes it. A master's stream counts toward the replication
//! offset here.

use super::{client, pause, Client, Server};
use crate::cmd::{self, Args};

/// Runs every complete command in `c`'s query buffer.
pub(super) fn process_input(srv: &mut Server, c: &mut Client) {
    let limits = crate::resp::parse::Limits {
        max_bulk_len: srv.config.proto_max_bulk_len,
        authenticated: c.authenticated || srv.config.requirepass.is_empty(),
    };
    if let Some(held) = c.held.take() {
        if pause::postpones(srv, c, &held.as_args()) {
            c.held = Some(held);
            c.postponed = true;
            srv.postponed.push((c.slot, c.id));
            return;
        }
        cmd::call(srv, c, held.as_args());
    }
    let mut query = std::mem::take(&mut c.query);
    c.query_lent = query.capacity();
    let mut parser = std::mem::take(&mut c.parser);
    while c.qpos < c.qlen && !c.close_after_reply && !c.close_asap && !c.blocked && !c.postponed {
        let parsed = match c.preparsed.take() {
            Some(r) => r,
            None => parser.parse(&mut query[c.qpos..c.qlen], &limits),
        };
        match parsed {
            Ok(None) => {
                client::await_rest(c, &mut query, &parser, srv.config.client_query_buffer_limit);
                break;
            }
            Ok(Some(consumed)) => {
                let start = c.qpos;
                let args = Args::new(&query[start..start + consumed], parser.args());
                c.qpos += consumed;
                // A monitor is a replica to Redis, and replicas are never paused.
                if srv.pause.is_some()
                    && !c.monitor
                    && !c.master
                    && !args.is_empty()
                    && pause::postpones(srv, c, &args)
                {
                    // Kept aside (parsing may have rewritten the buffer in
                    // place) and run first when the pause ends.
                    c.held = Some(args.to_owned());
                    c.postponed = true;
                    srv.postponed.push((c.slot, c.id));
                    break;
                }
                if parser.args().is_empty() {
                    continue;
                }
                c.last_interaction = srv.now_ms;
                let args = Args::new(&query[start..start + consumed], parser.args());
                cmd::call(srv, c, args);
                if c.master {
                    // The replication offset counts the master's stream,
                    // which goes on to this server's own replicas.
                    let in_multi = c.multi.is_some();
                    crate::persist::replica::applied(srv, &query[start..start + consumed], in_multi);
                }
            }
            Err(e) => {
                // The text may hold a raw non-UTF-8 byte ("expected '$', got
                // 'X'"), so it goes out as bytes, as Redis sends it.
                c.out.extend_from_slice(b"-ERR ");
                c.out.extend_from_slice(&e.message_bytes());
                c.out.extend_from_slice(b"\r\n");
                tracing::debug!(client = c.id, error = %e, "protocol error");
                c.close_after_reply = true;
                c.qpos = c.qlen;
            }
        }
    }
    if c.qpos == c.qlen {
        c.qpos = 0;
        c.qlen = 0;
        query.clear();
    }
    c.query = query;
    c.query_lent = 0;
    c.parser = parser;
}
