//! The server's log: `logfile` (appended to; standard error when empty)
//! and `loglevel` (`debug`, `verbose`, `notice`, `warning`), which `CONFIG
//! SET loglevel` changes at run time.
//!
//! Redis's levels map onto `tracing`'s: `debug` shows TRACE and up,
//! `verbose` DEBUG, `notice` INFO, `warning` WARN. When `RUST_LOG` is set it
//! takes precedence over `loglevel` (a developer's filter, per module).
//! Redis logs to standard output when `logfile` is empty; this server
//! keeps standard error there, so a supervisor still captures it, and
//! standard output carries only the start-up address lines.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use tracing::Level;

/// The current level as an index: 0 trace, 1 debug, 2 info, 3 warn.
static LEVEL: AtomicU8 = AtomicU8::new(2);
/// The log file, when `logfile` names one.
static FILE: Mutex<Option<Arc<File>>> = Mutex::new(None);

fn level_index(loglevel: &str) -> u8 {
    match loglevel {
        "debug" => 0,
        "verbose" => 1,
        "warning" => 3,
        _ => 2,
    }
}

fn enabled(level: &Level) -> bool {
    let idx = match *level {
        Level::TRACE => 0,
        Level::DEBUG => 1,
        Level::INFO => 2,
        _ => 3,
    };
    idx >= LEVEL.load(Ordering::Relaxed)
}

/// Applies `loglevel` (after `CONFIG SET loglevel`).
pub fn set_level(loglevel: &str) {
    LEVEL.store(level_index(loglevel), Ordering::Relaxed);
}

/// Installs the process's log subscriber for `logfile` and `loglevel`.
/// A second call (or one after another subscriber was installed) only
/// updates the file and the level.
///
/// # Errors
/// "Can't open the log file: ..." (Redis's words) when `logfile` cannot be
/// opened for appending.
pub fn init(logfile: &str, loglevel: &str) -> io::Result<()> {
    if !logfile.is_empty() {
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(logfile)
            .map_err(|e| io::Error::new(e.kind(), format!("Can't open the log file: {e}")))?;
        super::crash::set_log_fd(std::os::fd::AsRawFd::as_raw_fd(&f));
        *FILE.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(f));
    }
    set_level(loglevel);
    let ansi = logfile.is_empty() && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_writer(LogWriter::make).with_ansi(ansi);
    // Failure means a subscriber is already installed: keep it.
    let _ = match tracing_subscriber::EnvFilter::try_from_default_env() {
        Ok(filter) => builder.with_env_filter(filter).try_init(),
        Err(_) => {
            use tracing_subscriber::layer::SubscriberExt;
            use tracing_subscriber::util::SubscriberInitExt;
            let filter = tracing_subscriber::filter::filter_fn(|m| enabled(m.level()));
            let layer = tracing_subscriber::fmt::layer().with_writer(LogWriter::make).with_ansi(ansi);
            tracing_subscriber::registry()
                .with(tracing_subscriber::Layer::with_filter(layer, filter))
                .try_init()
                .map_err(Into::into)
        }
    };
    Ok(())
}

/// Writes one log event to the log file, or to standard error.
struct LogWriter(Option<Arc<File>>);

impl LogWriter {
    fn make() -> LogWriter {
        LogWriter(FILE.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }
}

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &self.0 {
            Some(f) => (&**f).write(buf),
            None => io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_to_tracing() {
        set_level("warning");
        assert!(!enabled(&Level::INFO) && enabled(&Level::WARN));
        set_level("debug");
        assert!(enabled(&Level::TRACE));
        set_level("notice");
        assert!(enabled(&Level::INFO) && !enabled(&Level::DEBUG));
    }
}
