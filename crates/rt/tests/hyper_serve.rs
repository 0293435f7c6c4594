//! hyper serving real requests on spindle-rt: a hyper server on
//! `127.0.0.1:0`, talked to by a hyper client on the same runtime, by raw
//! blocking sockets on other threads, by a client that stalls mid-head, and
//! by fifty connections at once.
//!
//! Every wait is bounded: each test runs inside a `timeout`, and blocking
//! sockets have read and write timeouts.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1 as client_http1;
use hyper::server::conn::http1 as server_http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use spindle_rt::hyper::{HyperIo, HyperTimer};
use spindle_rt::net::{TcpListener, TcpStream};
use spindle_rt::time::timeout;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// The bound on a whole test.
const TEST_LIMIT: Duration = Duration::from_secs(30);
/// The read/write timeout of the blocking clients' sockets.
const SOCKET_LIMIT: Duration = Duration::from_secs(10);

/// Runs `f` on a fresh current-thread runtime, failing after [`TEST_LIMIT`].
fn run<F: Future>(f: F) -> F::Output {
    let rt = spindle_rt::Builder::new_current_thread().build().expect("runtime");
    rt.block_on(timeout(TEST_LIMIT, f)).expect("the test timed out")
}

/// The test service: `GET` answers "Hello, world!" (or the path, for
/// `/echo-path/...`), `POST` echoes the request body.
async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    match *req.method() {
        Method::GET => {
            let path = req.uri().path();
            let body = match path.strip_prefix("/echo-path") {
                Some(_) => Bytes::copy_from_slice(path.as_bytes()),
                None => Bytes::from_static(b"Hello, world!"),
            };
            Ok(Response::new(Full::new(body)))
        }
        Method::POST => {
            let body = req.into_body().collect().await?.to_bytes();
            Ok(Response::new(Full::new(body)))
        }
        _ => {
            let mut resp = Response::new(Full::new(Bytes::new()));
            *resp.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            Ok(resp)
        }
    }
}

/// A running test server and what it observed.
struct Server {
    addr: SocketAddr,
    /// Connections accepted so far.
    accepted: Rc<Cell<usize>>,
    /// The errors connections ended with.
    errors: Rc<RefCell<Vec<hyper::Error>>>,
}

/// Starts a server on `127.0.0.1:0` on the current runtime: an accept loop
/// task, and one task per connection. `header_read_timeout` goes to hyper's
/// HTTP/1 builder, along with a [`HyperTimer`]. Call inside `block_on`; the
/// tasks end when the runtime is dropped.
async fn start_server(header_read_timeout: Option<Duration>) -> io::Result<Server> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    assert_ne!(addr.port(), 0);
    let accepted = Rc::new(Cell::new(0));
    let errors = Rc::new(RefCell::new(Vec::new()));
    let (count, errs) = (Rc::clone(&accepted), Rc::clone(&errors));
    spindle_rt::spawn_local(async move {
        while let Ok((stream, _peer)) = listener.accept().await {
            count.set(count.get() + 1);
            let mut builder = server_http1::Builder::new();
            builder.timer(HyperTimer::new()).header_read_timeout(header_read_timeout);
            // Alternate the write strategy hyper picks: flattening into
            // one buffer, or gathering buffers into one `sendmsg`.
            let io = HyperIo::new(stream).with_write_vectored(count.get() % 2 == 0);
            let conn = builder.serve_connection(io, service_fn(handle));
            let errs = Rc::clone(&errs);
            spindle_rt::spawn_local(async move {
                if let Err(e) = conn.await {
                    errs.borrow_mut().push(e);
                }
            });
        }
    });
    Ok(Server { addr, accepted, errors })
}

/// A hyper HTTP/1 client connection to `addr`, its connection task spawned.
async fn connect(addr: SocketAddr, vectored: bool) -> client_http1::SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let io = HyperIo::new(stream).with_write_vectored(vectored);
    let (sender, conn) = client_http1::handshake(io).await.expect("handshake");
    spindle_rt::spawn_local(async move {
        if let Err(e) = conn.await {
            panic!("client connection failed: {e}");
        }
    });
    sender
}

/// Sends `req` and returns the status and the whole body.
async fn send(
    sender: &mut client_http1::SendRequest<Full<Bytes>>,
    req: Request<Full<Bytes>>,
) -> (StatusCode, Bytes) {
    sender.ready().await.expect("connection ready for another request");
    let resp = sender.send_request(req).await.expect("response");
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("response body").to_bytes();
    (status, body)
}

fn get(path: &str) -> Request<Full<Bytes>> {
    Request::get(path).header("host", "localhost").body(Full::new(Bytes::new())).expect("request")
}

fn post(path: &str, body: Bytes) -> Request<Full<Bytes>> {
    Request::post(path).header("host", "localhost").body(Full::new(body)).expect("request")
}

#[test]
fn hyper_client_keep_alive_requests_on_one_connection() {
    run(async {
        let server = start_server(None).await.expect("server");
        for vectored in [false, true] {
            let mut sender = connect(server.addr, vectored).await;

            let (status, body) = send(&mut sender, get("/")).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(&body[..], b"Hello, world!");

            let (status, body) = send(&mut sender, post("/echo", Bytes::from_static(b"ping pong"))).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(&body[..], b"ping pong");

            // A body larger than one read, and than hyper's first buffer.
            let big: Bytes = (0..300_000u32).map(|i| (i % 251) as u8).collect::<Vec<u8>>().into();
            let (status, body) = send(&mut sender, post("/echo", big.clone())).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, big);

            let (status, body) = send(&mut sender, get("/echo-path/third")).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(&body[..], b"/echo-path/third");

            let (status, _) =
                send(&mut sender, Request::delete("/").body(Full::new(Bytes::new())).unwrap()).await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        }
        // Five requests each on one keep-alive connection per round.
        assert_eq!(server.accepted.get(), 2);
        assert!(server.errors.borrow().is_empty(), "server errors: {:?}", server.errors.borrow());
    });
}

/// Splits `raw` (the bytes of consecutive responses) into (status line,
/// body) pairs; bodies are delimited by `content-length`.
fn parse_responses(mut raw: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    while !raw.is_empty() {
        let end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete response head");
        let head = std::str::from_utf8(&raw[..end]).expect("an ASCII head");
        let mut lines = head.split("\r\n");
        let status = lines.next().expect("a status line").to_owned();
        let len: usize = lines
            .filter_map(|l| l.split_once(':'))
            .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.trim().parse().expect("a numeric content-length"))
            .expect("a content-length");
        let body_start = end + 4;
        out.push((status, raw[body_start..body_start + len].to_vec()));
        raw = &raw[body_start + len..];
    }
    out
}

#[test]
fn raw_pipelined_requests_from_a_blocking_thread() {
    run(async {
        let server = start_server(None).await.expect("server");
        let addr = server.addr;
        // A plain blocking socket on another thread; the runtime keeps
        // serving while it waits for the thread.
        let raw = spindle_rt::spawn_blocking(move || -> io::Result<Vec<u8>> {
            let mut s = std::net::TcpStream::connect(addr)?;
            s.set_read_timeout(Some(SOCKET_LIMIT))?;
            s.set_write_timeout(Some(SOCKET_LIMIT))?;
            // Both requests in one write: pipelined. The second asks the
            // server to close afterwards, so the response stream ends.
            s.write_all(
                b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n\
                  POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 11\r\nConnection: close\r\n\r\n\
                  hello there",
            )?;
            let mut raw = Vec::new();
            s.read_to_end(&mut raw)?;
            Ok(raw)
        })
        .await
        .expect("the client thread ran")
        .expect("the client's IO");

        let responses = parse_responses(&raw);
        assert_eq!(responses.len(), 2, "{}", String::from_utf8_lossy(&raw));
        assert_eq!(responses[0].0, "HTTP/1.1 200 OK");
        assert_eq!(responses[0].1, b"Hello, world!");
        assert_eq!(responses[1].0, "HTTP/1.1 200 OK");
        assert_eq!(responses[1].1, b"hello there");
        assert_eq!(server.accepted.get(), 1);
    });
}

#[test]
fn header_read_timeout_closes_a_stalled_connection() {
    const HEADER_TIMEOUT: Duration = Duration::from_millis(300);
    run(async {
        let server = start_server(Some(HEADER_TIMEOUT)).await.expect("server");
        let addr = server.addr;
        let (elapsed, ending) =
            spindle_rt::spawn_blocking(move || -> io::Result<(Duration, io::Result<Vec<u8>>)> {
                let mut s = std::net::TcpStream::connect(addr)?;
                s.set_read_timeout(Some(SOCKET_LIMIT))?;
                s.set_write_timeout(Some(SOCKET_LIMIT))?;
                let start = Instant::now();
                // An incomplete head (no blank line), then silence.
                s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n")?;
                let mut got = Vec::new();
                // Ends with end of stream (Ok) or a reset (Err); a read timeout
                // (WouldBlock/TimedOut) means the server never closed.
                let ending = s.read_to_end(&mut got).map(|_| got);
                Ok((start.elapsed(), ending))
            })
            .await
            .expect("the client thread ran")
            .expect("the client's IO");

        match &ending {
            Ok(bytes) => {
                // hyper closes without a response, or with an error status.
                assert!(
                    bytes.is_empty() || bytes.starts_with(b"HTTP/1.1 4"),
                    "{}",
                    String::from_utf8_lossy(bytes)
                );
            }
            Err(e) => assert!(
                !matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut),
                "the server did not close the stalled connection: {e}"
            ),
        }
        assert!(elapsed >= HEADER_TIMEOUT - Duration::from_millis(50), "closed too early: {elapsed:?}");
        assert!(elapsed < HEADER_TIMEOUT + Duration::from_secs(5), "closed too late: {elapsed:?}");

        let errors = server.errors.borrow();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].is_timeout(), "expected a header timeout, got: {}", errors[0]);
    });
}

#[test]
fn header_read_timeout_spares_prompt_clients() {
    run(async {
        let server = start_server(Some(Duration::from_secs(5))).await.expect("server");
        let mut sender = connect(server.addr, false).await;
        for _ in 0..3 {
            let (status, body) = send(&mut sender, get("/")).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(&body[..], b"Hello, world!");
        }
        assert_eq!(server.accepted.get(), 1);
        assert!(server.errors.borrow().is_empty(), "{:?}", server.errors.borrow());
    });
}

#[test]
fn fifty_concurrent_connections() {
    const CONNECTIONS: usize = 50;
    run(async {
        let server = start_server(Some(Duration::from_secs(10))).await.expect("server");
        let addr = server.addr;
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|i| {
                spindle_rt::spawn_local(async move {
                    let mut sender = connect(addr, i % 2 == 0).await;
                    let path = format!("/echo-path/{i}");
                    let (status, body) = send(&mut sender, get(&path)).await;
                    assert_eq!(status, StatusCode::OK);
                    assert_eq!(body, path.as_bytes());
                    let payload = Bytes::from(format!("body of client {i}"));
                    let (status, body) = send(&mut sender, post("/echo", payload.clone())).await;
                    assert_eq!(status, StatusCode::OK);
                    assert_eq!(body, payload);
                })
            })
            .collect();
        for client in clients {
            client.await.expect("the client task completed");
        }
        assert_eq!(server.accepted.get(), CONNECTIONS);
        assert!(server.errors.borrow().is_empty(), "{:?}", server.errors.borrow());
    });
}

#[test]
fn empty_body_client_type_also_works() {
    // The client's body type is the caller's choice; `Empty` here.
    run(async {
        let server = start_server(None).await.expect("server");
        let stream = TcpStream::connect(server.addr).await.expect("connect");
        let (mut sender, conn) = client_http1::handshake(HyperIo::new(stream)).await.expect("handshake");
        spindle_rt::spawn_local(conn);
        let req = Request::get("/").header("host", "localhost").body(Empty::<Bytes>::new()).unwrap();
        let resp = sender.send_request(req).await.expect("response");
        assert_eq!(resp.status(), StatusCode::OK);
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        assert_eq!(&body[..], b"Hello, world!");
    });
}

/// hyper on the multi-thread runtime: connections are `Send` and served by
/// `spawn`ed tasks on any worker; the client's connection task goes
/// through [`spindle_rt::hyper::HyperExecutor`].
#[test]
fn serves_on_the_multi_thread_runtime_with_send_tasks() {
    use hyper::rt::Executor;
    use spindle_rt::hyper::HyperExecutor;

    let rt = spindle_rt::Builder::new_multi_thread().worker_threads(2).build().expect("runtime");
    let bodies = rt
        .block_on(rt.spawn(timeout(TEST_LIMIT, async {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("addr");
            spindle_rt::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let conn = server_http1::Builder::new()
                        .timer(HyperTimer::new())
                        .serve_connection(HyperIo::new(stream), service_fn(handle));
                    spindle_rt::spawn(async move {
                        let _ = conn.await;
                    });
                }
            });
            let clients: Vec<_> = (0..8)
                .map(|i| {
                    spindle_rt::spawn(async move {
                        let stream = TcpStream::connect(addr).await.expect("connect");
                        let (mut sender, conn) =
                            client_http1::handshake(HyperIo::new(stream)).await.expect("handshake");
                        HyperExecutor::new().execute(async move {
                            let _ = conn.await;
                        });
                        let body = format!("client {i}");
                        let req = Request::post("/").body(Full::new(Bytes::from(body.clone()))).expect("req");
                        let (status, got) = send(&mut sender, req).await;
                        assert_eq!(status, StatusCode::OK);
                        assert_eq!(got, body.as_bytes());
                        got
                    })
                })
                .collect();
            let mut bodies = Vec::new();
            for c in clients {
                bodies.push(c.await.expect("client task"));
            }
            bodies
        })))
        .expect("spawned")
        .expect("the test timed out");
    assert_eq!(bodies.len(), 8);
}
