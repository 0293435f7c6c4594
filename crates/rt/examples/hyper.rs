//! A hyper HTTP server on spindle-rt: hello world, with keep-alive.
//!
//! ```text
//! cargo run -p spindle-rt --features hyper --example hyper -- --listen 127.0.0.1:3000
//! cargo run -p spindle-rt --features hyper --example hyper -- --multi   # work-stealing runtime
//! curl http://127.0.0.1:3000/                      # Hello, world!
//! curl --data 'echo me' http://127.0.0.1:3000/     # echo me
//! ```
//!
//! `GET` (and `HEAD`) answer "Hello, world!"; `POST` echoes the request
//! body; other methods get `405 Method Not Allowed`. Connections are kept
//! alive between requests; a client that takes longer than 30 seconds to
//! send a request head is disconnected (hyper's `header_read_timeout`, run
//! on spindle-rt's timers). Stop it with Ctrl-C.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use spindle_rt::hyper::{HyperIo, HyperTimer};
use spindle_rt::net::TcpListener;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str =
    "usage: hyper [--listen ADDR] [--multi]   (default 127.0.0.1:3000, current-thread runtime)";

/// What the command line asked for.
struct Options {
    listen: String,
    /// Run on the multi-thread (G-M-P) runtime instead of the
    /// current-thread one.
    multi: bool,
}

/// The one request handler.
async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let resp = match *req.method() {
        Method::GET | Method::HEAD => Response::new(Full::new(Bytes::from_static(b"Hello, world!\n"))),
        Method::POST => {
            let body = req.into_body().collect().await?.to_bytes();
            Response::new(Full::new(body))
        }
        _ => {
            let mut resp = Response::new(Full::new(Bytes::new()));
            *resp.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            resp.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD, POST"));
            resp
        }
    };
    Ok(resp)
}

/// The options from the command line.
fn parse_args() -> Result<Options, String> {
    let mut listen = String::from("127.0.0.1:3000");
    let mut multi = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" | "-l" => listen = args.next().ok_or("--listen needs an address")?,
            "--multi" => multi = true,
            "-h" | "--help" => return Err(String::new()),
            other => match other.strip_prefix("--listen=") {
                Some(addr) => listen = addr.to_owned(),
                None => return Err(format!("unknown argument: {other}")),
            },
        }
    }
    Ok(Options { listen, multi })
}

async fn serve(listen: &str) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of descriptors, a connection reset before accept, ...:
            // keep serving the others.
            Err(e) => {
                eprintln!("accept: {e}");
                spindle_rt::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let conn = http1::Builder::new()
            .timer(HyperTimer::new())
            .header_read_timeout(Duration::from_secs(30))
            .keep_alive(true)
            // spindle-rt's TcpStream sends with a real `sendmsg` gather.
            .serve_connection(HyperIo::new(stream).with_write_vectored(true), service_fn(handle));
        // The connection future is `Send` (so are spindle-rt's sockets):
        // on the multi-thread runtime any worker may serve it.
        spindle_rt::spawn(async move {
            match conn.await {
                Ok(()) => {}
                // A client that went away (closed with requests in flight,
                // reset the connection) is not the server's error: a load
                // tool ending its run does it to every connection, and a
                // line for each would bury the errors that matter.
                Err(e) if client_went_away(&e) => {}
                Err(e) => eprintln!("{peer}: {e}"),
            }
        });
    }
}

/// Whether `e` only says the client left: it closed or reset the
/// connection before the exchange ended, so the shutdown or the last read
/// or write failed with one of the errors a departed peer causes.
fn client_went_away(e: &hyper::Error) -> bool {
    use std::error::Error as _;
    if e.is_incomplete_message() || e.is_closed() || e.is_canceled() {
        return true;
    }
    let mut source = e.source();
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::NotConnected
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
            );
        }
        source = err.source();
    }
    false
}

fn main() -> ExitCode {
    let Options { listen, multi } = match parse_args() {
        Ok(options) => options,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("hyper: {msg}");
            }
            eprintln!("{USAGE}");
            return if msg.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) };
        }
    };
    let mut builder = if multi {
        spindle_rt::Builder::new_multi_thread()
    } else {
        spindle_rt::Builder::new_current_thread()
    };
    let rt = match builder.build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hyper: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(serve(&listen)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hyper: {listen}: {e}");
            ExitCode::FAILURE
        }
    }
}
