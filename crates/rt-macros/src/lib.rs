//! # spindle-rt-macros: `#[spindle_rt::main]`, `#[spindle_rt::test]`, `select!`
//!
//! The macros a tokio user reaches for, for spindle-rt: the attributes turn
//! an `async fn` into a plain `fn` that builds a runtime and runs the body
//! on it with `Runtime::block_on`, and [`select!`](macro@select) waits on
//! several futures with tokio's grammar and rules. Use them through spindle-rt, which
//! re-exports them (its feature `macros`, on by default), not from this
//! crate directly.
//!
//! The generated code names the runtime crate `::spindle_rt`, so it must be
//! a dependency under that name (spindle-rt itself declares
//! `extern crate self as spindle_rt;` so the macros work inside it too).
//! There is no `crate = "..."` argument to rename it.
//!
//! The parsing is done by hand on `proc_macro` token trees, without syn or
//! quote: the macros need only the function's outline (attributes,
//! qualifiers, signature, body) and `key = literal` arguments, and
//! `select!` only its branches' top-level separators.

#![forbid(unsafe_code)]

mod args;
mod error;
mod expand;
mod item;
mod select;

use expand::Kind;
use proc_macro::TokenStream;

/// Runs an `async fn` (usually `main`) on a spindle-rt runtime.
///
/// ```
/// #[spindle_rt::main]
/// async fn main() {
///     let task = spindle_rt::spawn(async { 6 * 7 });
///     spindle_rt::time::sleep(std::time::Duration::from_millis(1)).await;
///     assert_eq!(task.await.unwrap(), 42);
/// }
/// ```
///
/// # Expansion
///
/// The `async` keyword goes, and the body moves into an `async move`
/// block that a freshly built runtime runs to completion; its output is the
/// function's return value. The example above becomes:
///
/// ```
/// fn main() {
///     let body = async move {
///         let task = spindle_rt::spawn(async { 6 * 7 });
///         spindle_rt::time::sleep(std::time::Duration::from_millis(1)).await;
///         assert_eq!(task.await.unwrap(), 42);
///     };
///     ::spindle_rt::Builder::new_multi_thread()
///         .build()
///         .expect("failed to build the spindle-rt runtime")
///         .block_on(body)
/// }
/// ```
///
/// The function keeps its attributes, visibility, name and return type, so
/// `main` may return a `Result`, and the attribute works on any
/// argument-less `async fn`, not only `main`. The runtime is dropped (its
/// tasks with it) when the function returns. If the runtime cannot be built
/// (the kernel refuses a poller or a thread), the function panics with
/// "failed to build the spindle-rt runtime".
///
/// # Arguments
///
/// * `flavor = "multi_thread"` (the default for `main`, as in tokio): the
///   G-M-P work-stealing runtime, `Builder::new_multi_thread()`, with as
///   many workers as CPUs (or `SPINDLE_WORKER_THREADS`) unless
/// * `worker_threads = N`, a positive integer literal, which calls
///   `.worker_threads(N)`; it needs the multi-thread flavor;
/// * `flavor = "current_thread"` (the default for [`test`](macro@test)):
///   every task runs on the calling thread, `Builder::new_current_thread()`,
///   and `spawn_local` works;
/// * `start_paused = true` (default `false`), which calls
///   `.start_paused(true)`: the runtime's clock starts paused, so sleeps
///   and timeouts complete without real waiting whenever the runtime has
///   nothing else to do (see `spindle_rt::time`, *Paused time*); it needs
///   the current-thread flavor, as with tokio.
///
/// ```
/// use spindle_rt::net::{TcpListener, TcpStream};
///
/// #[spindle_rt::main(flavor = "multi_thread", worker_threads = 2)]
/// async fn main() -> std::io::Result<()> {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let server = spindle_rt::spawn(async move {
///         let (mut stream, _) = listener.accept().await?;
///         stream.write_all(b"hi").await
///     });
///     let mut client = TcpStream::connect(addr).await?;
///     let mut buf = [0; 2];
///     assert_eq!(client.read(&mut buf).await?, 2);
///     assert_eq!(&buf, b"hi");
///     server.await.expect("the server task ran")
/// }
/// ```
///
/// On a function other than `main`:
///
/// ```
/// #[spindle_rt::main]
/// async fn answer() -> u32 {
///     spindle_rt::spawn(async { 42 }).await.unwrap()
/// }
///
/// fn main() {
///     assert_eq!(answer(), 42);
/// }
/// ```
///
/// # Errors
///
/// Each is a compile error at the offending token.
///
/// The function must be `async`:
///
/// ```compile_fail
/// #[spindle_rt::main]
/// fn main() {} // the `async` keyword is missing from the function declaration
/// ```
///
/// The flavor must be one of the two:
///
/// ```compile_fail
/// #[spindle_rt::main(flavor = "threaded")] // unknown runtime flavor
/// async fn main() {}
/// ```
///
/// `worker_threads` needs the multi-thread flavor:
///
/// ```compile_fail
/// #[spindle_rt::main(flavor = "current_thread", worker_threads = 2)]
/// async fn main() {}
/// ```
///
/// and `start_paused = true` the current-thread one, which `main` must
/// name:
///
/// ```compile_fail
/// #[spindle_rt::main(start_paused = true)]
/// async fn main() {}
/// ```
///
/// And the function takes no arguments and no generic parameters:
///
/// ```compile_fail
/// #[spindle_rt::main]
/// async fn main(n: u32) {} // the main function cannot accept arguments
/// ```
///
/// Unknown argument keys are errors too, as is a value of the wrong kind
/// (`worker_threads = "2"`, `worker_threads = 0`, `start_paused = "yes"`).
// The expansion example is a plain `fn main`, which is the point of it.
#[allow(clippy::needless_doctest_main)]
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::Main, args, item)
}

/// Runs an `async fn` test on a spindle-rt runtime, one runtime per test.
///
/// ```
/// #[spindle_rt::test]
/// async fn spawned_task_runs() {
///     let task = spindle_rt::spawn(async { 6 * 7 });
///     assert_eq!(task.await.unwrap(), 42);
/// }
///
/// #[spindle_rt::test(flavor = "multi_thread", worker_threads = 2)]
/// #[should_panic(expected = "boom")]
/// async fn panics() {
///     panic!("boom");
/// }
///
/// // The clock starts paused: an hour-long sleep takes no real time.
/// #[spindle_rt::test(start_paused = true)]
/// async fn an_hour_passes_at_once() {
///     let start = spindle_rt::time::Instant::now();
///     spindle_rt::time::sleep(std::time::Duration::from_secs(3600)).await;
///     assert_eq!(start.elapsed(), std::time::Duration::from_secs(3600));
/// }
/// ```
///
/// (A doctest is not built as a test harness, so the functions above are
/// only compiled here; spindle-rt's `tests/macros.rs` runs tests like them.)
///
/// # Expansion
///
/// The same as [`main`](macro@main), plus the built-in test attribute; the
/// first test above becomes:
///
/// ```
/// #[::core::prelude::v1::test]
/// fn spawned_task_runs() {
///     let body = async move {
///         let task = spindle_rt::spawn(async { 6 * 7 });
///         assert_eq!(task.await.unwrap(), 42);
///     };
///     ::spindle_rt::Builder::new_current_thread()
///         .build()
///         .expect("failed to build the spindle-rt runtime")
///         .block_on(body)
/// }
/// ```
///
/// The test keeps its other attributes (`#[should_panic]`, `#[ignore]`,
/// ...) and its return type, so it may return a `Result`. The arguments are
/// those of [`main`](macro@main): `flavor` (default `"current_thread"`),
/// `worker_threads`, and `start_paused`, which tests of timeouts and
/// intervals want.
///
/// # Errors
///
/// As for [`main`](macro@main), and one more: the macro adds `#[test]`
/// itself, so writing it too is an error.
///
/// ```compile_fail
/// #[spindle_rt::test]
/// #[test] // second test attribute is supplied, consider removing it
/// async fn twice() {}
/// ```
///
/// ```compile_fail
/// #[spindle_rt::test]
/// fn not_async() {} // the `async` keyword is missing from the function declaration
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::Test, args, item)
}

/// Waits on several futures at once and runs the handler of the first to
/// complete whose output matches its pattern, dropping the others: tokio's
/// `select!`, with its grammar and rules.
///
/// ```text
/// select! {
///     [biased;]
///     <pattern> = <future> [, if <condition>] => <handler>,
///     ...
///     [else => <handler>]
/// }
/// ```
///
/// * Every `<condition>` is evaluated first; a branch whose condition is
///   false is disabled. Then every `<future>` is evaluated, in order (a
///   disabled branch's too, though it is never polled), and pinned on the
///   stack.
/// * The futures are polled in turn, from a random branch each time
///   (`biased;`: from the first, in order). When one completes, its output
///   is matched against `<pattern>`: on a match the others are dropped and
///   `<handler>` runs with the pattern's bindings; otherwise that branch is
///   disabled and the others are polled on.
/// * When every branch is disabled, the `else` handler runs (without one,
///   the macro panics). A branch whose pattern failed is disabled only for
///   this `select!`: `Some(n) = rx.recv()` next to a timer does not end a
///   loop when the channel closes, the timer's branch is still enabled;
///   match the `None` in the handler instead, as below.
///
/// The handlers run outside the macro's own polling code, so `break`,
/// `continue`, `return`, `?` and `.await` in them act on the code around
/// the `select!`. The value of the `select!` is the handler's.
///
/// ```
/// use spindle_rt::sync::mpsc;
/// use spindle_rt::time::{sleep, Duration};
///
/// # spindle_rt::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, mut rx) = mpsc::channel::<u32>(8);
/// spindle_rt::spawn(async move {
///     for n in 0..3 {
///         tx.send(n).await.unwrap();
///     }
/// });
/// let mut got = Vec::new();
/// loop {
///     spindle_rt::select! {
///         msg = rx.recv() => match msg {
///             Some(n) => got.push(n),
///             None => break, // the channel closed
///         },
///         _ = sleep(Duration::from_secs(5)) => panic!("no message for 5 s"),
///     }
/// }
/// assert_eq!(got, [0, 1, 2]);
/// # });
/// ```
///
/// Cancellation: the futures of the branches that lost are dropped, as
/// with any future; use operations that are cancel safe (a socket's
/// `read` and `accept`, a channel's `recv`, `sleep`) or keep a future
/// across iterations by passing `&mut fut`.
#[proc_macro]
pub fn select(input: TokenStream) -> TokenStream {
    select::expand(input)
}
