//! Descriptors for `maxclients`, as Redis's `adjustOpenFilesLimit` and
//! `updateMaxclients` arrange them.
//!
//! Every client is a descriptor, and the process may open only as many as
//! its soft `RLIMIT_NOFILE` (often 1024 from a login shell). Past it,
//! `accept` fails with `EMFILE` and the connection stays queued in the
//! kernel, unanswered. So at start the server raises the limit to
//! `maxclients` plus [`RESERVED_FDS`] (for the listeners, the AOF, RDB
//! files, pipes and logs); when the hard limit does not allow that much it
//! lowers `maxclients` to fit, and says so, so that the client over the
//! limit hears `-ERR max number of clients reached` instead of waiting.
//! `CONFIG SET maxclients` does the same check and refuses a value the
//! system cannot give descriptors for.

use super::config::Config;
use spindle_poll::limits;

/// Descriptors kept back from `maxclients` (Redis's
/// `CONFIG_MIN_RESERVED_FDS`).
pub const RESERVED_FDS: u64 = 32;

/// At start: raises the descriptor limit for `config.maxclients`, or lowers
/// `maxclients` to what the limit allows, logging either change as Redis
/// does.
///
/// # Errors
/// When the limit leaves no descriptor for a single client (Redis exits
/// then too), a message saying how far to raise `ulimit -n`.
pub fn adjust_open_files_limit(config: &mut Config) -> Result<(), String> {
    let want = config.maxclients as u64 + RESERVED_FDS;
    let before = limits::nofile().map_err(|e| format!("cannot read the open files limit: {e}"))?;
    let after = match limits::raise_nofile(want) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, want, "Server can't set maximum open files");
            before
        }
    };
    if after.soft >= want {
        if after.soft > before.soft {
            tracing::info!(
                "Increased maximum number of open files to {} (it was originally set to {}).",
                after.soft,
                before.soft
            );
        }
        return Ok(());
    }
    if after.soft <= RESERVED_FDS {
        return Err(format!(
            "Your current 'ulimit -n' of {} is not enough for the server to start. Please increase your \
             open file limit to at least {}. Exiting.",
            after.soft,
            RESERVED_FDS + 1
        ));
    }
    let fit = (after.soft - RESERVED_FDS) as usize;
    tracing::warn!(
        "You requested maxclients of {} requiring at least {} max file descriptors. Server can't set \
         maximum open files to {} because the hard limit is {}. Current maximum open files is {}. \
         maxclients has been reduced to {} to compensate for low ulimit. If you need higher maxclients \
         increase 'ulimit -n'.",
        config.maxclients,
        want,
        want,
        after.hard,
        after.soft,
        fit
    );
    config.maxclients = fit;
    Ok(())
}

/// For `CONFIG SET maxclients`: raises the limit for `maxclients` clients.
///
/// # Errors
/// Redis's message when the system cannot give that many descriptors,
/// naming the most it can.
pub fn room_for(maxclients: usize) -> Result<(), String> {
    let want = maxclients as u64 + RESERVED_FDS;
    let got = limits::raise_nofile(want).or_else(|_| limits::nofile()).map_err(|e| e.to_string())?;
    if got.soft >= want {
        return Ok(());
    }
    Err(format!(
        "The operating system is not able to handle the specified number of clients, try with {}",
        got.soft.saturating_sub(RESERVED_FDS)
    ))
}
