//! CONFIG GET | SET | RESETSTAT | REWRITE | HELP.

use super::Ctx;

const HELP: &[&str] = &[
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
];

/// CONFIG.
pub fn config(ctx: &mut Ctx<'_>) {
    let sub = ctx.arg(1).to_ascii_lowercase();
    let argc = ctx.argc();
    match sub.as_slice() {
        b"help" if argc == 2 => super::server::help(ctx, HELP),
        b"get" if argc >= 3 => {
            let patterns: Vec<&[u8]> = (2..argc).map(|i| ctx.arg(i)).collect();
            let found = ctx.srv.config.get_matching(&patterns);
            let mut r = ctx.reply();
            r.map_len(found.len());
            for (name, value) in found {
                r.bulk(name.as_bytes());
                r.bulk(value.as_bytes());
            }
        }
        b"set" if argc >= 4 && argc % 2 == 0 => {
            let pairs: Vec<(String, String)> = (2..argc)
                .step_by(2)
                .map(|i| {
                    (
                        String::from_utf8_lossy(ctx.arg(i)).into_owned(),
                        String::from_utf8_lossy(ctx.arg(i + 1)).into_owned(),
                    )
                })
                .collect();
            // Passwords stay out of the slow log and MONITOR, whatever
            // error follows (Redis's `redactClientCommandArgument`).
            use crate::server::config_table::{find, SENSITIVE};
            for (k, (name, _)) in pairs.iter().enumerate() {
                if find(name).is_some_and(|o| o.flags & SENSITIVE != 0) {
                    ctx.c.redacted.push(3 + 2 * k);
                }
            }
            // An option that cannot change while the dataset loads (and
            // is not refused for being immutable or protected, which Redis
            // checks first) takes precedence over every other error, as
            // in Redis's `configSetCommand`.
            if ctx.srv.load_state.is_some() && pairs.iter().any(|(n, _)| denied_while_loading(n)) {
                return ctx.error(crate::server::loading::LOADING_ERROR);
            }
            if let Some((name, _)) =
                pairs.iter().find(|(n, _)| crate::server::config_table::find(n).is_none())
            {
                let msg = format!("ERR Unknown option or number of arguments for CONFIG SET - '{name}'");
                return ctx.error(&msg);
            }
            let had_password = !ctx.srv.config.requirepass.is_empty();
            let had_aof = ctx.srv.config.appendonly;
            let had_auto_gc = !ctx.srv.config.aof_disable_auto_gc;
            let had_oom = (ctx.srv.config.oom_score_adj, ctx.srv.config.oom_score_adj_values);
            let backlog = ctx.srv.config.tcp_backlog;
            let listening = &mut ctx.srv.listening;
            let rebind = |next: &crate::server::Config| listening.rebind(&next.bind, next.port, backlog);
            match ctx.srv.config.set_at_runtime(&pairs, rebind) {
                Ok(()) => {
                    crate::server::evict::sync_expand_limit(ctx.srv);
                    // Redis's `updateOOMScoreAdj`: a value the kernel
                    // refuses (lowering it needs CAP_SYS_RESOURCE) puts the
                    // old ones back.
                    let srv = &mut *ctx.srv;
                    let oom = (srv.config.oom_score_adj, srv.config.oom_score_adj_values);
                    if oom != had_oom
                        && srv
                            .oom
                            .apply(&srv.config, crate::server::oom::Class::of_server(srv.master.is_some()))
                            .is_err()
                    {
                        (srv.config.oom_score_adj, srv.config.oom_score_adj_values) = had_oom;
                        let _ = srv
                            .oom
                            .apply(&srv.config, crate::server::oom::Class::of_server(srv.master.is_some()));
                        let name = if oom.0 != had_oom.0 { "oom-score-adj" } else { "oom-score-adj-values" };
                        return ctx.error(&format!(
                            "ERR CONFIG SET failed (possibly related to argument '{name}') - \
                             Failed to set current oom_score_adj. Check server logs."
                        ));
                    }
                    // Redis's `updateAppendonly`: turning AOF on starts the
                    // rewrite that writes its base file.
                    if ctx.srv.config.appendonly != had_aof {
                        if had_aof {
                            crate::persist::aof::stop(ctx.srv);
                        } else if crate::persist::aof::start(ctx.srv).is_err() {
                            ctx.srv.config.appendonly = false;
                            return ctx.error(
                                "ERR CONFIG SET failed (possibly related to argument 'appendonly') - \
                                 Unable to turn on AOF. Check server logs.",
                            );
                        }
                    }
                    if !had_auto_gc && !ctx.srv.config.aof_disable_auto_gc {
                        crate::persist::aof_rewrite::delete_history(ctx.srv);
                    }
                    // Connections made while no password was needed stay
                    // logged in as the default user, as in Redis.
                    if !had_password && !ctx.srv.config.requirepass.is_empty() {
                        ctx.c.authenticated = true;
                        for c in ctx.srv.clients.iter_mut().flatten() {
                            c.authenticated = true;
                        }
                    }
                    ctx.srv.sync_lfu();
                    crate::server::logging::set_level(&ctx.srv.config.loglevel);
                    // A lower limit takes effect before the loop sleeps,
                    // not at the next command, as Redis's updateMaxmemory
                    // starts an eviction timer event; not in the middle of
                    // this command (or of the EXEC around it).
                    if pairs.iter().any(|(n, _)| n.eq_ignore_ascii_case("maxmemory")) {
                        ctx.srv.evict_soon = true;
                    }
                    crate::persist::repl::refresh_settings(ctx.srv);
                    let size = crate::persist::repl::backlog_size(ctx.srv);
                    if let Some(b) = ctx.srv.repl.backlog.as_mut() {
                        b.resize(size);
                    }
                    // The new client limit is checked once this command
                    // is done, against figures refreshed now (they are
                    // not kept while client eviction is off).
                    if pairs.iter().any(|(n, _)| {
                        n.eq_ignore_ascii_case("maxmemory") || n.eq_ignore_ascii_case("maxmemory-clients")
                    }) {
                        crate::server::client_evict::resync(ctx.srv, ctx.c);
                    }
                    ctx.ok()
                }
                Err(e) => ctx.error(&e.0),
            }
        }
        b"set" if argc >= 4 => ctx.error(super::SYNTAX),
        b"resetstat" if argc == 2 => {
            ctx.srv.stats = Default::default();
            ctx.srv.ops = Default::default();
            let r = &mut ctx.srv.repl;
            (r.sync_full, r.sync_partial_ok, r.sync_partial_err) = (0, 0, 0);
            ctx.ok()
        }
        b"rewrite" if argc == 2 => match ctx.srv.config.rewrite() {
            Ok(()) => ctx.ok(),
            Err(e) => ctx.error(&e.0),
        },
        _ => {
            super::server::unknown_subcommand(ctx, "CONFIG", &["get", "set", "resetstat", "rewrite", "help"])
        }
    }
}

/// Whether CONFIG SET refuses option `name` while the dataset loads
/// (Redis's `DENY_LOADING_CONFIG`), rather than for being immutable or
/// protected.
fn denied_while_loading(name: &str) -> bool {
    use crate::server::config_table::{find, DENY_LOADING, IMMUTABLE, PROTECTED};
    find(name).is_some_and(|o| o.flags & DENY_LOADING != 0 && o.flags & (IMMUTABLE | PROTECTED) == 0)
}
