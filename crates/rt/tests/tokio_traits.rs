//! The trait impls tokio's types have (Debug, Clone, Send + Sync,
//! Default, Error, Eq, Copy, ...), asserted on spindle-rt's types under
//! tokio's paths: code that stores them in a `#[derive(Debug)]` struct,
//! clones them or boxes them as errors ports without change. A missing
//! impl is a compile error here.

use spindle_rt as tokio;
use std::fmt::Debug;

fn dbg<T: Debug>() {}
fn clone<T: Clone>() {}
fn send_sync<T: Send + Sync>() {}
fn default<T: Default>() {}
fn err<T: std::error::Error + Send + Sync + 'static>() {}
fn eq<T: PartialEq + Eq>() {}
fn unpin<T: Unpin>() {}
fn copy<T: Copy>() {}
fn hash<T: std::hash::Hash + Ord>() {}

#[test]
fn tokio_types_have_tokio_trait_impls() {
    use tokio::net::*;
    use tokio::sync::*;
    dbg::<tokio::runtime::Runtime>();
    dbg::<tokio::runtime::Builder>();
    dbg::<tokio::runtime::Handle>();
    clone::<tokio::runtime::Handle>();
    send_sync::<tokio::runtime::Handle>();
    dbg::<tokio::task::JoinHandle<u8>>();
    send_sync::<tokio::task::JoinHandle<u8>>();
    unpin::<tokio::task::JoinHandle<u8>>();
    dbg::<tokio::task::AbortHandle>();
    send_sync::<tokio::task::AbortHandle>();
    err::<tokio::task::JoinError>();
    dbg::<tokio::task::LocalSet>();
    default::<tokio::task::LocalSet>();
    dbg::<tokio::task::LocalEnterGuard<'static>>();
    dbg::<tokio::task::JoinSet<u8>>();
    default::<tokio::task::JoinSet<u8>>();
    send_sync::<tokio::task::JoinSet<u8>>();
    dbg::<TcpListener>();
    dbg::<TcpStream>();
    dbg::<UdpSocket>();
    dbg::<UnixListener>();
    dbg::<UnixStream>();
    dbg::<UnixDatagram>();
    dbg::<TcpSocket>();
    send_sync::<TcpListener>();
    send_sync::<TcpStream>();
    send_sync::<UdpSocket>();
    send_sync::<UnixStream>();
    send_sync::<TcpSocket>();
    dbg::<tcp::OwnedReadHalf>();
    dbg::<tcp::OwnedWriteHalf>();
    dbg::<tcp::ReadHalf<'static>>();
    dbg::<tcp::WriteHalf<'static>>();
    err::<tcp::ReuniteError>();
    send_sync::<tcp::OwnedReadHalf>();
    send_sync::<tcp::OwnedWriteHalf>();
    dbg::<Mutex<u8>>();
    default::<Mutex<u8>>();
    send_sync::<Mutex<u8>>();
    dbg::<MutexGuard<'static, u8>>();
    dbg::<OwnedMutexGuard<u8>>();
    dbg::<RwLock<u8>>();
    default::<RwLock<u8>>();
    send_sync::<RwLock<u8>>();
    dbg::<Semaphore>();
    dbg::<SemaphorePermit<'static>>();
    dbg::<OwnedSemaphorePermit>();
    err::<AcquireError>();
    err::<TryAcquireError>();
    dbg::<Notify>();
    default::<Notify>();
    send_sync::<Notify>();
    dbg::<Barrier>();
    dbg::<BarrierWaitResult>();
    dbg::<OnceCell<u8>>();
    default::<OnceCell<u8>>();
    clone::<OnceCell<u8>>();
    send_sync::<OnceCell<u8>>();
    dbg::<mpsc::Sender<u8>>();
    clone::<mpsc::Sender<u8>>();
    dbg::<mpsc::Receiver<u8>>();
    send_sync::<mpsc::Sender<u8>>();
    send_sync::<mpsc::Receiver<u8>>();
    dbg::<mpsc::UnboundedSender<u8>>();
    clone::<mpsc::UnboundedSender<u8>>();
    dbg::<mpsc::UnboundedReceiver<u8>>();
    dbg::<mpsc::WeakSender<u8>>();
    dbg::<mpsc::Permit<'static, u8>>();
    err::<mpsc::error::SendError<u8>>();
    eq::<mpsc::error::SendError<u8>>();
    clone::<mpsc::error::SendError<u8>>();
    err::<mpsc::error::TrySendError<u8>>();
    eq::<mpsc::error::TrySendError<u8>>();
    err::<mpsc::error::TryRecvError>();
    eq::<mpsc::error::TryRecvError>();
    copy::<mpsc::error::TryRecvError>();
    dbg::<oneshot::Sender<u8>>();
    dbg::<oneshot::Receiver<u8>>();
    send_sync::<oneshot::Sender<u8>>();
    send_sync::<oneshot::Receiver<u8>>();
    err::<oneshot::error::RecvError>();
    eq::<oneshot::error::RecvError>();
    err::<oneshot::error::TryRecvError>();
    eq::<oneshot::error::TryRecvError>();
    dbg::<watch::Sender<u8>>();
    dbg::<watch::Receiver<u8>>();
    clone::<watch::Receiver<u8>>();
    send_sync::<watch::Sender<u8>>();
    send_sync::<watch::Receiver<u8>>();
    err::<watch::error::SendError<u8>>();
    err::<watch::error::RecvError>();
    dbg::<broadcast::Sender<u8>>();
    clone::<broadcast::Sender<u8>>();
    dbg::<broadcast::Receiver<u8>>();
    send_sync::<broadcast::Sender<u8>>();
    send_sync::<broadcast::Receiver<u8>>();
    err::<broadcast::error::SendError<u8>>();
    err::<broadcast::error::RecvError>();
    eq::<broadcast::error::RecvError>();
    clone::<broadcast::error::RecvError>();
    err::<broadcast::error::TryRecvError>();
    dbg::<tokio::time::Sleep>();
    dbg::<tokio::time::Interval>();
    send_sync::<tokio::time::Sleep>();
    send_sync::<tokio::time::Interval>();
    copy::<tokio::time::Instant>();
    hash::<tokio::time::Instant>();
    dbg::<tokio::time::Instant>();
    default::<tokio::time::MissedTickBehavior>();
    eq::<tokio::time::MissedTickBehavior>();
    copy::<tokio::time::MissedTickBehavior>();
    err::<tokio::time::error::Elapsed>();
    eq::<tokio::time::error::Elapsed>();
    copy::<tokio::time::error::Elapsed>();
    dbg::<tokio::signal::unix::Signal>();
    copy::<tokio::signal::unix::SignalKind>();
    eq::<tokio::signal::unix::SignalKind>();
    dbg::<tokio::process::Command>();
    dbg::<tokio::process::Child>();
    send_sync::<tokio::process::Child>();
    dbg::<tokio::process::ChildStdout>();
    dbg::<tokio::fs::File>();
    send_sync::<tokio::fs::File>();
    dbg::<tokio::fs::ReadDir>();
    dbg::<tokio::fs::DirEntry>();
    dbg::<tokio::fs::OpenOptions>();
    clone::<tokio::fs::OpenOptions>();
    dbg::<tokio::io::Interest>();
    copy::<tokio::io::Interest>();
    eq::<tokio::io::Interest>();
    dbg::<tokio::io::Ready>();
    copy::<tokio::io::Ready>();
    eq::<tokio::io::Ready>();
    dbg::<tokio::task::Id>();
    copy::<tokio::task::Id>();
    hash::<tokio::task::Id>();
    eq::<tokio::sync::OnceCell<u8>>();
    dbg::<tokio::runtime::EnterGuard<'static>>();
    dbg::<tokio::task::LocalKey<u8>>();
}

/// `OnceCell`'s `Clone`, `From` and `Eq`, and broadcast's `TryRecvError`
/// as an error, behave as tokio's.
#[test]
fn once_cell_clone_from_eq_and_try_recv_error_display() {
    use tokio::sync::{broadcast, OnceCell};
    let set = OnceCell::from(7u8);
    assert_eq!(set.get(), Some(&7));
    let copy = set.clone();
    assert_eq!(copy.get(), Some(&7));
    assert_eq!(copy, set);
    let unset: OnceCell<u8> = OnceCell::new();
    assert_eq!(unset.clone().get(), None);
    assert_ne!(unset, set);
    let (tx, mut rx) = broadcast::channel::<u8>(1);
    let e: Box<dyn std::error::Error> = Box::new(rx.try_recv().unwrap_err());
    assert!(e.to_string().contains("no new value"), "{e}");
    drop(tx);
    assert_eq!(rx.try_recv().unwrap_err().to_string(), "the broadcast channel is closed");
}
