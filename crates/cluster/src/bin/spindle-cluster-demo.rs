//! Runs [`spindle_cluster::demo::Demo`] under a master: the process the
//! integration tests and `spindle herd` start.
//!
//! `spindle-cluster-demo [--config FILE] [--listen ADDR]... [--workers N]
//! [--accept STRATEGY] [--pid-file PATH] [--user USER[:GROUP]]
//! [--error-log PATH] [--worker-connections N]`; logs go to the error log,
//! stderr by default (`RUST_LOG` filters them).

fn main() {
    tracing_subscriber::fmt()
        .with_writer(spindle_cluster::ErrorLog)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let demo = match spindle_cluster::demo::Demo::from_args(std::env::args().skip(1)) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("spindle-cluster-demo: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = spindle_cluster::run(demo) {
        eprintln!("spindle-cluster-demo: {e}");
        std::process::exit(1);
    }
}
