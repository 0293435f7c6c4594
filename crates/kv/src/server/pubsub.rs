//! The pub/sub registry and message delivery.
//!
//! As in Redis's `pubsub.c`, the server keeps, for each channel, the list
//! of its subscribers and, for each pattern, the list of clients that
//! subscribed to it; each client keeps the set of its own subscriptions
//! ([`ClientSubs`]) so it can leave them all when it disconnects. PUBLISH
//! then costs O(subscribers of the channel + patterns).
//!
//! Shard channels (SSUBSCRIBE, SPUBLISH) are a separate namespace, as in
//! Redis 7.0 without cluster: an SPUBLISH reaches only SSUBSCRIBErs.
//!
//! A message is appended to the subscriber's reply buffer at once (so a
//! RESP3 client publishing to its own channel sees the push before the
//! PUBLISH reply, as with Redis) and the subscriber is queued for the
//! before-sleep flush. Every append checks the client's output-buffer
//! limit (`client-output-buffer-limit`): a subscriber that does not read
//! is closed once its pending output passes the hard limit, or stays above
//! the soft limit for the configured time.

use super::client::Client;
use super::config::OutputLimit;
use super::Server;
use crate::resp::reply::Reply;
use std::collections::{HashMap, HashSet};

/// One subscription of a client: its id (to tell a reused slot) and slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sub {
    id: u64,
    slot: usize,
}

/// The kind of a channel subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// SUBSCRIBE / PUBLISH.
    Channel,
    /// PSUBSCRIBE.
    Pattern,
    /// SSUBSCRIBE / SPUBLISH.
    Shard,
}

/// A client's own subscriptions, with what they cost it.
///
/// Redis 7.0 counts a client's subscriptions in its `tot-mem`
/// (`pubsubMemOverhead`): a list node (24 bytes) per pattern, a dict entry
/// (24) per channel plus its dict's bucket array, and not the names, which
/// it shares with the server's registry. Here [`memory`] counts what
/// exists for this client only, kept current on every change so it costs
/// nothing to read: the slots of its sets (a 16-byte name pointer and a
/// control byte per slot, the table's spare slots included) and of its
/// pattern list (16 bytes), its own copy of each name, and the registry's
/// record of it subscribing (16 bytes each). The registry's copy of a name
/// is shared by the subscribers and not counted, as in Redis.
///
/// [`memory`]: ClientSubs::memory
#[derive(Debug, Default)]
pub struct ClientSubs {
    /// Channels (SUBSCRIBE).
    channels: HashSet<Box<[u8]>>,
    /// Patterns (PSUBSCRIBE), in subscription order as Redis lists them.
    patterns: Vec<Box<[u8]>>,
    /// Shard channels (SSUBSCRIBE).
    shard: HashSet<Box<[u8]>>,
    /// The bytes of the names in the three above.
    name_bytes: usize,
}

impl ClientSubs {
    /// Channels plus patterns: the count SUBSCRIBE and PSUBSCRIBE reply with.
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// Every subscription: a client with any is in the "subscribed" state.
    pub fn total(&self) -> usize {
        self.count() + self.shard.len()
    }

    /// The subscriptions of one kind (CLIENT LIST `sub`, `psub`, `ssub`).
    pub fn len(&self, kind: Kind) -> usize {
        match kind {
            Kind::Channel => self.channels.len(),
            Kind::Pattern => self.patterns.len(),
            Kind::Shard => self.shard.len(),
        }
    }

    /// The count the confirmation of a `kind` (un)subscription carries.
    pub fn count_for(&self, kind: Kind) -> usize {
        match kind {
            Kind::Shard => self.shard.len(),
            _ => self.count(),
        }
    }

    /// Whether the client is subscribed to `name` as `kind`.
    pub fn has(&self, kind: Kind, name: &[u8]) -> bool {
        match kind {
            Kind::Channel => self.channels.contains(name),
            Kind::Shard => self.shard.contains(name),
            Kind::Pattern => self.patterns.iter().any(|p| &**p == name),
        }
    }

    /// The names subscribed as `kind`, in the order Redis reports them.
    pub fn names(&self, kind: Kind) -> Vec<Box<[u8]>> {
        match kind {
            Kind::Channel => self.channels.iter().cloned().collect(),
            Kind::Shard => self.shard.iter().cloned().collect(),
            Kind::Pattern => self.patterns.clone(),
        }
    }

    /// The memory the subscriptions take, for the client's `tot-mem`.
    pub fn memory(&self) -> usize {
        const NAME: usize = std::mem::size_of::<Box<[u8]>>();
        // A set's table has a control byte per slot, and about 8 slots
        // for each 7 it lets fill.
        let set = |s: &HashSet<Box<[u8]>>| s.capacity() * 8 / 7 * (NAME + 1);
        set(&self.channels)
            + set(&self.shard)
            + self.patterns.capacity() * NAME
            + self.name_bytes
            + self.total() * std::mem::size_of::<Sub>()
    }

    /// Adds `name`, which the client is not subscribed to as `kind`.
    fn add(&mut self, kind: Kind, name: &[u8]) {
        match kind {
            Kind::Channel => self.channels.insert(name.into()),
            Kind::Shard => self.shard.insert(name.into()),
            Kind::Pattern => {
                self.patterns.push(name.into());
                true
            }
        };
        self.name_bytes += name.len();
    }

    /// Removes `name`; false if the client was not subscribed to it.
    fn remove(&mut self, kind: Kind, name: &[u8]) -> bool {
        let was = match kind {
            Kind::Channel => self.channels.remove(name),
            Kind::Shard => self.shard.remove(name),
            Kind::Pattern => match self.patterns.iter().position(|p| &**p == name) {
                Some(i) => {
                    self.patterns.remove(i);
                    true
                }
                None => false,
            },
        };
        if was {
            self.name_bytes -= name.len();
        }
        was
    }
}

/// The server's registry: who is subscribed to what.
#[derive(Debug, Default)]
pub struct PubSub {
    channels: HashMap<Box<[u8]>, Vec<Sub>>,
    patterns: HashMap<Box<[u8]>, Vec<Sub>>,
    shard: HashMap<Box<[u8]>, Vec<Sub>>,
}

impl PubSub {
    fn map(&self, kind: Kind) -> &HashMap<Box<[u8]>, Vec<Sub>> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard,
        }
    }

    fn map_mut(&mut self, kind: Kind) -> &mut HashMap<Box<[u8]>, Vec<Sub>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    /// Subscribes `c` to `name`; false if it already was.
    pub fn subscribe(&mut self, c: &mut Client, kind: Kind, name: &[u8]) -> bool {
        if c.subs.has(kind, name) {
            return false;
        }
        c.subs.add(kind, name);
        let sub = Sub { id: c.id, slot: c.slot };
        self.map_mut(kind).entry(name.into()).or_default().push(sub);
        true
    }

    /// Unsubscribes `c` from `name`; false if it was not subscribed.
    pub fn unsubscribe(&mut self, c: &mut Client, kind: Kind, name: &[u8]) -> bool {
        let was = c.subs.remove(kind, name);
        if was {
            self.forget(kind, name, c.id);
        }
        was
    }

    fn forget(&mut self, kind: Kind, name: &[u8], id: u64) {
        let map = self.map_mut(kind);
        if let Some(list) = map.get_mut(name) {
            list.retain(|s| s.id != id);
            if list.is_empty() {
                map.remove(name);
            }
        }
    }

    /// Removes every subscription of a client that is going away.
    pub fn remove_client(&mut self, c: &mut Client) {
        let subs = std::mem::take(&mut c.subs);
        for ch in &subs.channels {
            self.forget(Kind::Channel, ch, c.id);
        }
        for p in &subs.patterns {
            self.forget(Kind::Pattern, p, c.id);
        }
        for ch in &subs.shard {
            self.forget(Kind::Shard, ch, c.id);
        }
    }

    /// Channels (or shard channels) with subscribers matching `pattern`.
    pub fn active(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<&[u8]> {
        self.map(kind)
            .keys()
            .filter(|ch| pattern.is_none_or(|p| crate::util::glob::glob_match(p, ch, false)))
            .map(|ch| &**ch)
            .collect()
    }

    /// Subscribers of `name` as `kind` (PUBSUB NUMSUB).
    pub fn subscribers(&self, kind: Kind, name: &[u8]) -> usize {
        self.map(kind).get(name).map_or(0, Vec::len)
    }

    /// Channels with subscribers (INFO's `pubsub_channels`).
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Distinct patterns with subscribers (PUBSUB NUMPAT, INFO's
    /// `pubsub_patterns`).
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Shard channels with subscribers (INFO's `pubsubshard_channels`).
    pub fn shard_count(&self) -> usize {
        self.shard.len()
    }
}

/// Where a published message goes: the slab of clients, plus the client
/// whose command is running (not in the slab while it runs).
struct Outbox<'a> {
    clients: &'a mut [Option<Box<Client>>],
    pending: &'a mut Vec<usize>,
    detached: &'a mut Vec<(u64, Vec<Vec<u8>>)>,
    limits: &'a [OutputLimit; 3],
    now_ms: i64,
}

impl Outbox<'_> {
    /// Writes to subscriber `s` with `f`, queues the flush and enforces the
    /// output limit.
    fn send(&mut self, cur: &mut Option<&mut Client>, s: Sub, parts: &[&[u8]]) {
        if let Some(c) = cur.as_deref_mut().filter(|c| c.id == s.id) {
            push_to(c, parts, self.limits, self.now_ms);
            return;
        }
        let f = |r: &mut Reply<'_>| write_push(r, parts);
        let Some(slot) = self.clients.get_mut(s.slot) else { return };
        let Some(c) = slot.as_deref_mut() else {
            // Out of the slab: the client whose command is serving a
            // blocked one (see `blocking::serve`).
            self.detached.push((s.id, parts.iter().map(|p| p.to_vec()).collect()));
            return;
        };
        if c.id != s.id || c.close_asap {
            return;
        }
        f(&mut Reply::new(&mut c.out, c.proto));
        enforce_output_limit(c, self.limits, self.now_ms);
        if !c.pending_write {
            c.pending_write = true;
            self.pending.push(s.slot);
        }
    }
}

/// A push message of `parts` (`message`, channel, payload, or
/// `pmessage`, pattern, channel, payload).
fn write_push(r: &mut Reply<'_>, parts: &[&[u8]]) {
    r.push_len(parts.len());
    for p in parts {
        r.bulk(p);
    }
}

/// Writes a push to `c`, whose command may be running (so it is marked
/// as a push for CLIENT REPLY OFF/SKIP), and enforces its output limit.
fn push_to(c: &mut Client, parts: &[&[u8]], limits: &[OutputLimit; 3], now_ms: i64) {
    if !c.close_asap {
        let from = c.out.len();
        write_push(&mut Reply::new(&mut c.out, c.proto), parts);
        c.mark_push(from);
        enforce_output_limit(c, limits, now_ms);
    }
}

impl Server {
    /// Delivers to `c` the messages published for it while it was out of
    /// the slab (see [`Server::detached_pushes`]); the others' clients are
    /// gone.
    pub(crate) fn deliver_detached(&mut self, c: &mut Client) {
        for (id, parts) in std::mem::take(&mut self.detached_pushes) {
            if id == c.id {
                let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
                push_to(c, &parts, &self.config.client_output_buffer_limit, self.now_ms);
            }
        }
    }
}

impl Server {
    /// Checks `c`'s pending output against its class's limit, as
    /// [`enforce_output_limit`]; a replica's hard limit is at least
    /// `repl-backlog-size`, as in Redis 7: a replica that continued from
    /// the backlog is sent up to that much at once, and closing it for
    /// that would make it resync for ever.
    pub fn enforce_output_limit_of(&self, c: &mut Client) -> bool {
        let limits = &self.config.client_output_buffer_limit;
        if !c.replica || limits[1].hard == 0 || limits[1].hard >= self.repl.backlog_setting {
            return enforce_output_limit(c, limits, self.now_ms);
        }
        let mut raised = *limits;
        raised[1].hard = self.repl.backlog_setting;
        enforce_output_limit(c, &raised, self.now_ms)
    }
}

/// Checks `c`'s pending output against its class's
/// `client-output-buffer-limit` (normal, or pub/sub for a subscribed
/// client) and marks it to be closed if it is over; true if it is.
pub fn enforce_output_limit(c: &mut Client, limits: &[OutputLimit; 3], now_ms: i64) -> bool {
    let class = if c.replica {
        1
    } else if c.subs.total() > 0 {
        2
    } else {
        0
    };
    let lim = limits[class];
    let used = c.buffered_output() as u64;
    let hard = lim.hard > 0 && used >= lim.hard;
    let mut soft = false;
    if lim.soft > 0 && used >= lim.soft {
        if c.obuf_soft_since == 0 {
            c.obuf_soft_since = now_ms;
        } else if now_ms - c.obuf_soft_since > (lim.soft_secs as i64) * 1000 {
            soft = true;
        }
    } else {
        c.obuf_soft_since = 0;
    }
    if hard || soft {
        tracing::warn!(
            client = c.id,
            addr = %c.addr,
            pending = used,
            "client scheduled to be closed ASAP for overcoming of output buffer limits"
        );
        c.close_asap = true;
    }
    hard || soft
}

impl Server {
    /// Publishes `msg` on `channel` (a shard channel when `kind` is
    /// [`Kind::Shard`]) and returns the number of receivers. `cur` is the
    /// client whose command is running, if any: it is not in the slab, so
    /// a message for it is written to it directly.
    pub fn publish(&mut self, mut cur: Option<&mut Client>, kind: Kind, channel: &[u8], msg: &[u8]) -> usize {
        let mut outbox = Outbox {
            clients: &mut self.clients,
            pending: &mut self.pending_writes,
            detached: &mut self.detached_pushes,
            limits: &self.config.client_output_buffer_limit,
            now_ms: self.now_ms,
        };
        let ps = &self.pubsub;
        let mut receivers = 0;
        let (map, tag): (_, &[u8]) = match kind {
            Kind::Shard => (&ps.shard, b"smessage"),
            _ => (&ps.channels, b"message"),
        };
        if let Some(list) = map.get(channel) {
            for &s in list {
                outbox.send(&mut cur, s, &[tag, channel, msg]);
                receivers += 1;
            }
        }
        if kind == Kind::Shard {
            return receivers;
        }
        for (pat, list) in &ps.patterns {
            if !crate::util::glob::glob_match(pat, channel, false) {
                continue;
            }
            for &s in list {
                outbox.send(&mut cur, s, &[b"pmessage", pat, channel, msg]);
                receivers += 1;
            }
        }
        receivers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_limit_needs_time_and_hard_limit_is_immediate() {
        let limits = [
            OutputLimit { hard: 100, soft: 10, soft_secs: 1 },
            OutputLimit { hard: 0, soft: 0, soft_secs: 0 },
            OutputLimit { hard: 0, soft: 0, soft_secs: 0 },
        ];
        let fd = std::fs::File::open("/dev/null").unwrap().into();
        let mut c = Client::new(1, fd, String::new(), String::new(), 0);
        c.out = vec![0; 20];
        assert!(!enforce_output_limit(&mut c, &limits, 1000));
        assert_eq!(c.obuf_soft_since, 1000);
        assert!(!enforce_output_limit(&mut c, &limits, 2000));
        assert!(enforce_output_limit(&mut c, &limits, 2001));
        let fd = std::fs::File::open("/dev/null").unwrap().into();
        let mut c = Client::new(2, fd, String::new(), String::new(), 0);
        c.out = vec![0; 100];
        assert!(enforce_output_limit(&mut c, &limits, 0));
        assert!(c.close_asap);
        c.out.clear();
        c.close_asap = false;
        assert!(!enforce_output_limit(&mut c, &limits, 5000));
        assert_eq!(c.obuf_soft_since, 0);
    }

    fn client(id: u64, proto: u8) -> Client {
        let fd = std::fs::File::open("/dev/null").unwrap().into();
        let mut c = Client::new(id, fd, String::new(), String::new(), 0);
        c.proto = proto;
        c
    }

    #[test]
    fn a_resp3_publisher_gets_its_own_message_as_a_push_and_others_are_queued() {
        let mut srv = Server::new(crate::server::Config::default());
        let mut me = client(1, 3);
        let mut other = client(2, 2);
        let slot = srv.add_client(client(9, 2));
        srv.clients[slot] = None;
        me.slot = slot;
        srv.pubsub.subscribe(&mut me, Kind::Channel, b"ch");
        srv.pubsub.subscribe(&mut me, Kind::Pattern, b"c*");
        let other_slot = srv.add_client(client(0, 2));
        other.slot = other_slot;
        srv.pubsub.subscribe(&mut other, Kind::Channel, b"ch");
        srv.clients[other_slot] = Some(Box::new(other));
        let n = srv.publish(Some(&mut me), Kind::Channel, b"ch", b"hi");
        assert_eq!(n, 3);
        assert_eq!(
            String::from_utf8_lossy(&me.out),
            ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n\
             >4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$2\r\nhi\r\n"
        );
        let other = srv.clients[other_slot].as_ref().unwrap();
        assert_eq!(other.out, b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
        assert!(other.pending_write);
        assert_eq!(srv.pending_writes, vec![other_slot]);
        assert_eq!(srv.publish(Some(&mut me), Kind::Shard, b"ch", b"x"), 0);
        srv.pubsub.remove_client(&mut me);
        assert_eq!(srv.pubsub.subscribers(Kind::Channel, b"ch"), 1);
        assert_eq!(srv.pubsub.pattern_count(), 0);
        assert_eq!(me.subs.total(), 0);
    }
}
