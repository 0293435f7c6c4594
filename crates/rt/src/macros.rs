//! tokio's small declarative macros: [`pin!`](crate::pin),
//! [`join!`](crate::join) and [`try_join!`](crate::try_join). (`select!`
//! and the attributes are procedural, in spindle-rt-macros.)

/// Pins each named future (or any value) on the stack, in place: after
/// `pin!(fut);` the variable `fut` is a `Pin<&mut _>`, so `&mut fut` can
/// be polled again and again, in a `select!` inside a loop say. tokio's
/// `pin!`; the same as `let mut fut = std::pin::pin!(fut);`.
///
/// ```
/// use spindle_rt::time::{sleep, Duration};
///
/// # spindle_rt::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, mut rx) = spindle_rt::sync::mpsc::channel::<u32>(4);
/// spindle_rt::spawn(async move {
///     for n in 0..3 {
///         tx.send(n).await.unwrap();
///     }
/// });
/// let deadline = sleep(Duration::from_secs(5));
/// spindle_rt::pin!(deadline);
/// let mut got = Vec::new();
/// loop {
///     spindle_rt::select! {
///         _ = &mut deadline => panic!("too slow"),
///         msg = rx.recv() => match msg {
///             Some(n) => got.push(n),
///             None => break,
///         },
///     }
/// }
/// assert_eq!(got, [0, 1, 2]);
/// # });
/// ```
#[macro_export]
macro_rules! pin {
    ($($x:ident),* $(,)?) => {
        $( let mut $x = ::core::pin::pin!($x); )*
    };
}

/// Waits for every future and returns their outputs as a tuple, in order:
/// tokio's `join!`. The futures run concurrently in the calling task (no
/// task is spawned); each is polled until it completes, and then never
/// again.
///
/// ```
/// # spindle_rt::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (a, b) = spindle_rt::join!(async { 1 }, async { "two" });
/// assert_eq!((a, b), (1, "two"));
/// # });
/// ```
#[macro_export]
macro_rules! join {
    ($($fut:expr),* $(,)?) => {
        $crate::__join_impl!(@join [] $($fut,)*)
    };
}

/// Waits for every future, whose outputs are `Result`s with one error
/// type, and returns `Ok` with their values as a tuple, or the first
/// `Err` as soon as one comes (the other futures are then dropped):
/// tokio's `try_join!`.
///
/// ```
/// use std::io;
///
/// # spindle_rt::Builder::new_current_thread().build().unwrap().block_on(async {
/// let ok = spindle_rt::try_join!(async { Ok::<_, io::Error>(1) }, async { Ok(2) });
/// assert_eq!(ok.unwrap(), (1, 2));
/// let err = spindle_rt::try_join!(
///     std::future::pending::<io::Result<()>>(),
///     async { Err::<(), _>(io::Error::other("boom")) },
/// );
/// assert_eq!(err.unwrap_err().to_string(), "boom");
/// # });
/// ```
#[macro_export]
macro_rules! try_join {
    ($($fut:expr),* $(,)?) => {
        $crate::__join_impl!(@try [] $($fut,)*)
    };
}

/// The body of [`join!`](crate::join) and [`try_join!`](crate::try_join).
/// Each step names one future: the `fut` and `out` identifiers it adds
/// come from a macro invocation of their own, so hygiene keeps each step's
/// pair distinct from every other's, and the last step can declare them
/// all.
#[doc(hidden)]
#[macro_export]
macro_rules! __join_impl {
    (@$mode:ident [$($done:tt)*] $e:expr, $($rest:tt)*) => {
        $crate::__join_impl!(@$mode [$($done)* (fut out $e)] $($rest)*)
    };
    (@join [$(($f:ident $o:ident $e:expr))*]) => {{
        $( let mut $f = ::core::pin::pin!($e); let mut $o = ::core::option::Option::None; )*
        ::core::future::poll_fn(|_cx| {
            #[allow(unused_mut)]
            let mut pending = false;
            $(
                if $o.is_none() {
                    match ::core::future::Future::poll($f.as_mut(), _cx) {
                        ::core::task::Poll::Ready(v) => $o = ::core::option::Option::Some(v),
                        ::core::task::Poll::Pending => pending = true,
                    }
                }
            )*
            if pending {
                return ::core::task::Poll::Pending;
            }
            ::core::task::Poll::Ready(($(
                ::core::option::Option::take(&mut $o).expect("each output is taken once"),
            )*))
        })
        .await
    }};
    (@try [$(($f:ident $o:ident $e:expr))*]) => {{
        $( let mut $f = ::core::pin::pin!($e); let mut $o = ::core::option::Option::None; )*
        ::core::future::poll_fn(|_cx| {
            #[allow(unused_mut)]
            let mut pending = false;
            $(
                if $o.is_none() {
                    match ::core::future::Future::poll($f.as_mut(), _cx) {
                        ::core::task::Poll::Ready(::core::result::Result::Ok(v)) => {
                            $o = ::core::option::Option::Some(v)
                        }
                        ::core::task::Poll::Ready(::core::result::Result::Err(e)) => {
                            return ::core::task::Poll::Ready(::core::result::Result::Err(e));
                        }
                        ::core::task::Poll::Pending => pending = true,
                    }
                }
            )*
            if pending {
                return ::core::task::Poll::Pending;
            }
            ::core::task::Poll::Ready(::core::result::Result::Ok(($(
                ::core::option::Option::take(&mut $o).expect("each output is taken once"),
            )*)))
        })
        .await
    }};
}
