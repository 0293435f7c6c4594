//! Edge-triggered client reads.
//!
//! Redis watches its clients level-triggered, and so did this server at
//! first. Level-triggered epoll has a cost that shows at `-P 1`: every
//! socket it reports goes back on the epoll ready list, and the next
//! `epoll_wait` polls it again (`ep_item_poll`, `tcp_poll`) to learn
//! whether it is still readable. A client that sent one command and waits
//! for the reply is not, so that second poll is wasted, once per request.
//! Edge-triggered epoll reports a socket once per arrival of new bytes and
//! polls it once. Profiling the bare `+OK` loop under redis-benchmark
//! (`GET -P 1`, 50 clients) showed the kernel's `ep_send_events` fall
//! from 10.1% to 7.7% of the server's time when it switched.
//!
//! The price is the drain rule. After an edge the kernel says nothing more
//! until new bytes arrive, so bytes left in the socket would wait forever.
//! A read that returns less than the space it offered has emptied the
//! socket (any byte arriving later raises a new edge), which is the usual
//! case. A read that filled the space may have left bytes behind: the
//! client goes on the read-again list, and each later loop iteration reads
//! it once more, before the loop sleeps, until a read comes back short.
//! One read per client per iteration keeps Redis's fairness (a client
//! streaming a long pipeline gets `PROTO_IOBUF_LEN` bytes a turn, like
//! everyone else), and an idle handle, active only while the list is not
//! empty, keeps the poll from sleeping while reads are owed.
//!
//! The rule has one exception, the end of stream. A peer that sends its
//! last bytes and shuts down (`printf 'PING\r\n' | nc -N`, or a client
//! killed in the middle of a command) queues a FIN behind them, and the
//! edge that reports the bytes also reports the shutdown (`EPOLLRDHUP`).
//! A short read then returns the bytes, and only the *next* read would
//! return 0: no new edge is coming, so a server that stopped at the short
//! read would never learn that the peer is gone, and the connection would
//! sit in `CLOSE_WAIT` forever, holding a client slot (ten thousand such
//! peers and `maxclients` is reached). So a client remembers a shutdown
//! its events carried, and a short read after one is the end: the
//! commands it completed run, their replies are written once, as far as
//! the socket takes them, and the client is closed. That is what Redis,
//! level-triggered, does one iteration later: it writes the replies
//! before it sleeps, then reads 0 and closes.
//!
//! Clients stay level-triggered in two cases: with `io-threads` (the IO
//! threads read once per readable event; see `iothreads`), and when
//! `SPINDLE_POLLER` picks poll or select, which have no edge mode.

use super::client::{read_from_client, Client, ReadOutcome};
use super::{free_client, over_query_limit, process_input, Server};
use spindle_loop::{Loop, PhaseId};
use spindle_poll::{Backend, Mode};

/// The read-again list: clients whose last read filled the space offered.
#[derive(Default)]
pub struct ReadAgain {
    /// Their slots (a slot may have been reused by the time it is read:
    /// reading a socket with nothing to read is harmless).
    slots: Vec<usize>,
    /// Spare vector swapped in while the list is served.
    spare: Vec<usize>,
    /// The idle handle that stops the poll from sleeping while `slots` is
    /// not empty; created with the loop.
    idle: Option<PhaseId>,
}

impl ReadAgain {
    /// Creates the idle handle (stopped).
    pub fn attach(&mut self, lp: &mut Loop) {
        let idle = lp.idle_new();
        lp.unref(idle.handle());
        self.idle = Some(idle);
    }
}

/// How a client socket is watched: edge-triggered on epoll, unless the IO
/// threads read it (they read once per event and rely on being told again).
pub fn client_mode(lp: &Loop, srv: &Server) -> Mode {
    if lp.backend() == Backend::Epoll && srv.io_threads.is_none() {
        Mode::Edge
    } else {
        Mode::Level
    }
}

/// Reads a client once and runs every command the read completes. Returns
/// `false` when the client must be closed: end of stream, a socket error,
/// or unparsed input over `client-query-buffer-limit`.
pub(super) fn read_and_process(srv: &mut Server, c: &mut Client) -> bool {
    srv.stats.reads_processed += 1;
    match read_from_client(c) {
        ReadOutcome::Data { n, filled } => {
            srv.stats.net_input += n as u64;
            if over_query_limit(srv, c) {
                return false;
            }
            if filled && !c.read_again {
                c.read_again = true;
                srv.read_again.slots.push(c.slot);
            }
            // After the read, so the first command's time (commandstats,
            // latencystats, SLOWLOG) is the command's, not the system
            // call's: Redis times `call()` alone.
            srv.refresh_clock();
            // Any input counts as activity (`timeout`, CLIENT LIST idle=),
            // as in Redis, even before a command is complete.
            c.last_interaction = srv.now_ms;
            process_input(srv, c);
            if c.peer_closed && !filled {
                // The socket holds nothing but its end of stream.
                end_of_stream(srv, c);
                return false;
            }
            true
        }
        ReadOutcome::WouldBlock => true,
        ReadOutcome::Closed => {
            end_of_stream(srv, c);
            false
        }
    }
}

/// The peer is gone for reading: writes what is left of its replies once,
/// as far as the socket takes them (the peer may only have shut down its
/// sending side and still be reading). The caller closes it.
fn end_of_stream(srv: &mut Server, c: &mut Client) {
    if c.pending_output() > 0 && !c.close_asap {
        let _ = super::send_reply(srv, c);
    }
}

/// Reads every client on the read-again list once (the before-sleep hook
/// calls it first), then arms or disarms the idle handle for what is left.
pub(super) fn read_again(lp: &mut Loop, srv: &mut Server) {
    if !srv.read_again.slots.is_empty() {
        let mut slots = std::mem::take(&mut srv.read_again.slots);
        std::mem::swap(&mut srv.read_again.slots, &mut srv.read_again.spare);
        for &slot in &slots {
            let Some(mut c) = srv.clients.get_mut(slot).and_then(Option::take) else { continue };
            c.read_again = false;
            if !read_and_process(srv, &mut c) || c.close_asap {
                free_client(lp, srv, slot, c);
                continue;
            }
            srv.queue_write(slot, &mut c);
            super::client_evict::track(srv, &mut c);
            srv.clients[slot] = Some(c);
        }
        slots.clear();
        srv.read_again.spare = slots;
    }
    let Some(idle) = srv.read_again.idle else { return };
    let owed = !srv.read_again.slots.is_empty();
    if owed != lp.is_active(idle.handle()) {
        if owed {
            // The callback does nothing: an active idle handle only makes
            // the poll return at once, and the reads happen here.
            let _ = lp.phase_start(idle, |_, _| {});
        } else {
            lp.phase_stop(idle);
        }
    }
}
