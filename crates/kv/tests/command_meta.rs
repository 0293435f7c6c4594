//! COMMAND INFO and COMMAND LIST against a real redis-server 7.0: for
//! every command spindle implements, the entry (flags, key positions, ACL
//! categories, tips, key specs, subcommands) must be the same frame, in
//! RESP2 and in RESP3. Cluster clients route by the key specs and tools
//! read the flags; a difference here is a difference a user can see.
//!
//! Allowed differences, each deliberate: ZRANK and ZREVRANK take Redis
//! 7.2's WITHSCORE (arity -3 where 7.0 says 3); a container lists only the
//! subcommands we implement (Redis's order is its dict's, so subcommand
//! entries compare as sets); CLIENT NO-TOUCH and CLIENT SETINFO are 7.2
//! subcommands 7.0 does not describe.

mod common;
#[path = "differential/redis.rs"]
mod reference;
// Shared with the differential test, which uses more of it.
#[allow(dead_code)]
#[path = "differential/resp.rs"]
mod resp;

use resp::{args, Client, Frame};

fn spindle_client(srv: &spindle_kv::server::ServerThread) -> Client {
    Client::connect(srv.addr(), common::TIMEOUT)
}

fn items(f: Frame) -> Vec<Frame> {
    match f {
        Frame::Agg(_, Some(items)) => items,
        other => panic!("expected an aggregate, got {}", other.show()),
    }
}

fn text(f: &Frame) -> String {
    match f {
        Frame::Bulk(_, Some(b)) | Frame::Line(_, b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("expected a string, got {}", other.show()),
    }
}

/// Our top-level command names.
fn our_commands(ours: &mut Client) -> Vec<String> {
    let all = items(ours.call(&args(&["COMMAND"])));
    all.into_iter().map(|entry| text(&items(entry)[0])).collect()
}

/// Redis 7.2 subcommands that 7.0 cannot describe.
const NEWER: [&str; 2] = ["client|no-touch", "client|setinfo"];

fn name_of(entry: &Frame) -> String {
    text(&items(entry.clone())[0])
}

/// A COMMAND INFO entry with its subcommand list (field 10) cut down to
/// `keep` and sorted, and its arity replaced where we differ on purpose.
fn normalised(entry: Frame, keep: &[String]) -> Frame {
    let Frame::Agg(t, Some(mut fields)) = entry else { panic!("not an entry: {}", entry.show()) };
    if let Frame::Agg(st, Some(subs)) = &mut fields[9] {
        subs.retain(|s| keep.contains(&name_of(s)));
        subs.sort();
        // Redis writes an empty subcommand list as a set, a full one as
        // an array.
        if subs.is_empty() {
            *st = b'~';
        }
    }
    if matches!(text(&fields[0]).as_str(), "zrank" | "zrevrank") {
        fields[1] = Frame::Line(b':', b"-3".to_vec());
    }
    Frame::Agg(t, Some(fields))
}

fn subcommand_names(entry: &Frame) -> Vec<String> {
    match entry {
        Frame::Agg(_, Some(fields)) => match &fields[9] {
            Frame::Agg(_, Some(subs)) => {
                subs.iter().map(name_of).filter(|n| !NEWER.contains(&n.as_str())).collect()
            }
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// A connection to redis-server and one to spindle, both speaking `proto`.
fn clients(
    redis: &reference::Redis,
    srv: &spindle_kv::server::ServerThread,
    proto: &str,
) -> (Client, Client) {
    let (mut theirs, mut ours) = (redis.client(), spindle_client(srv));
    theirs.call(&args(&["HELLO", proto]));
    ours.call(&args(&["HELLO", proto]));
    (theirs, ours)
}

#[test]
fn command_info_matches_redis_for_every_command_we_implement() {
    let redis = reference::Redis::start();
    let srv = common::start();
    for proto in ["2", "3"] {
        let (mut theirs, mut ours) = clients(&redis, &srv, proto);
        let names = our_commands(&mut ours);
        assert!(names.len() > 150, "only {} commands", names.len());
        let mut differ = Vec::new();
        for name in &names {
            let mine = items(ours.call(&args(&["COMMAND", "INFO", name]))).remove(0);
            let reference = items(theirs.call(&args(&["COMMAND", "INFO", name]))).remove(0);
            let keep = subcommand_names(&mine);
            let mine = normalised(mine, &keep);
            let reference = normalised(reference, &keep);
            if mine != reference {
                differ.push(format!("{name}:\n  ours   {}\n  redis  {}", mine.show(), reference.show()));
            }
        }
        assert!(differ.is_empty(), "RESP{proto}: {} entries differ:\n{}", differ.len(), differ.join("\n"));
    }
}

#[test]
fn command_list_by_acl_category_matches_redis() {
    let redis = reference::Redis::start();
    let srv = common::start();
    let mut theirs = redis.client();
    let mut ours = spindle_client(&srv);
    let mut known: Vec<String> = items(ours.call(&args(&["COMMAND", "LIST"]))).iter().map(text).collect();
    known.sort();
    assert!(known.iter().any(|n| n == "config|get"), "COMMAND LIST names subcommands too");
    for cat in ["dangerous", "keyspace", "connection", "admin", "scripting", "read", "write", "fast"] {
        let list = |c: &mut Client| {
            let mut v: Vec<String> = items(c.call(&args(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", cat])))
                .iter()
                .map(text)
                .collect();
            v.sort();
            v
        };
        let mine: Vec<String> =
            list(&mut ours).into_iter().filter(|n| !NEWER.contains(&n.as_str())).collect();
        let reference: Vec<String> =
            list(&mut theirs).into_iter().filter(|n| known.binary_search(n).is_ok()).collect();
        assert_eq!(mine, reference, "@{cat}");
    }
}

/// The docs map with its `subcommands` entry cut down to the names in
/// `keep` (Redis describes subcommands we do not implement) and sorted
/// (Redis's order is its dict's, seeded per process).
fn docs_kept(docs: Frame, keep: &[String]) -> Frame {
    let Frame::Agg(t, Some(mut fields)) = docs else { panic!("docs are not a map: {}", docs.show()) };
    for i in (0..fields.len()).step_by(2) {
        if text(&fields[i]) == "subcommands" {
            if let Frame::Agg(_, Some(pairs)) = &mut fields[i + 1] {
                let mut kept: Vec<&[Frame]> =
                    pairs.chunks(2).filter(|p| keep.contains(&text(&p[0]))).collect();
                kept.sort();
                *pairs = kept.into_iter().flatten().cloned().collect();
            }
        }
    }
    Frame::Agg(t, Some(fields))
}

fn docs_subcommand_names(docs: &Frame) -> Vec<String> {
    let Frame::Agg(_, Some(fields)) = docs else { return Vec::new() };
    for i in (0..fields.len()).step_by(2) {
        if text(&fields[i]) == "subcommands" {
            return items(fields[i + 1].clone()).iter().step_by(2).map(text).collect();
        }
    }
    Vec::new()
}

/// redis-cli builds its hints and `HELP <command>` from COMMAND DOCS.
#[test]
fn command_docs_match_redis_for_every_command_we_implement() {
    let redis = reference::Redis::start();
    let srv = common::start();
    for proto in ["2", "3"] {
        let (mut theirs, mut ours) = clients(&redis, &srv, proto);
        let mut differ = Vec::new();
        for name in our_commands(&mut ours) {
            let mine = items(ours.call(&args(&["COMMAND", "DOCS", &name])));
            let reference = items(theirs.call(&args(&["COMMAND", "DOCS", &name])));
            assert_eq!(text(&mine[0]), name);
            let keep = docs_subcommand_names(&mine[1]);
            let (mine, reference) =
                (docs_kept(mine[1].clone(), &keep), docs_kept(reference[1].clone(), &keep));
            if mine != reference {
                differ.push(format!("{name}:\n  ours   {}\n  redis  {}", mine.show(), reference.show()));
            }
        }
        assert!(differ.is_empty(), "RESP{proto}: {} docs differ:\n{}", differ.len(), differ.join("\n"));
    }
}
