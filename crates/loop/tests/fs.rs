//! File operations and name resolution through the pool.

mod common;
use common::run_bounded;
use spindle_loop::Loop;
use std::cell::RefCell;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!("spindle-fs-{tag}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn write_then_stat_then_read() {
    let dir = TempDir::new("rw");
    let path = dir.0.join("hello.txt");
    let mut lp = Loop::new().unwrap();
    let got = Rc::new(RefCell::new(None));
    let g = got.clone();
    let p = path.clone();
    lp.fs_write(path.clone(), b"hello, pool".to_vec(), move |lp, r| {
        r.unwrap();
        let p2 = p.clone();
        lp.fs_stat(p, move |lp, r| {
            let meta = r.unwrap();
            assert!(meta.is_file());
            assert_eq!(meta.len(), 11);
            lp.fs_read(p2, move |_, r| *g.borrow_mut() = Some(r.unwrap()));
        });
    });
    run_bounded(&mut lp);
    assert_eq!(got.borrow().as_deref(), Some(&b"hello, pool"[..]));
    assert_eq!(std::fs::read(&path).unwrap(), b"hello, pool");
}

#[test]
fn write_truncates_an_existing_file() {
    let dir = TempDir::new("trunc");
    let path = dir.0.join("f");
    std::fs::write(&path, b"a much longer original text").unwrap();
    let mut lp = Loop::new().unwrap();
    lp.fs_write(path.clone(), b"short".to_vec(), |_, r| r.unwrap());
    run_bounded(&mut lp);
    assert_eq!(std::fs::read(&path).unwrap(), b"short");
}

#[test]
fn missing_files_report_not_found() {
    let dir = TempDir::new("missing");
    let mut lp = Loop::new().unwrap();
    let errors = Rc::new(RefCell::new(Vec::new()));
    let (e1, e2, e3) = (errors.clone(), errors.clone(), errors.clone());
    lp.fs_read(dir.0.join("nope"), move |_, r| e1.borrow_mut().push(r.unwrap_err().kind()));
    lp.fs_stat(dir.0.join("nope"), move |_, r| e2.borrow_mut().push(r.unwrap_err().kind()));
    lp.fs_write(dir.0.join("no-dir").join("f"), vec![1], move |_, r| {
        e3.borrow_mut().push(r.unwrap_err().kind())
    });
    run_bounded(&mut lp);
    assert_eq!(*errors.borrow(), [ErrorKind::NotFound; 3]);
}

#[test]
fn stat_of_a_directory() {
    let dir = TempDir::new("dir");
    let mut lp = Loop::new().unwrap();
    let is_dir = Rc::new(RefCell::new(None));
    let d = is_dir.clone();
    lp.fs_stat(dir.0.clone(), move |_, r| *d.borrow_mut() = Some(r.unwrap().is_dir()));
    run_bounded(&mut lp);
    assert_eq!(*is_dir.borrow(), Some(true));
}

#[test]
fn many_files_at_once() {
    let dir = TempDir::new("many");
    let mut lp = Loop::new().unwrap();
    let read = Rc::new(RefCell::new(Vec::new()));
    for i in 0..50u8 {
        let path = dir.0.join(format!("f{i}"));
        let r = read.clone();
        lp.fs_write(path.clone(), vec![i; usize::from(i) + 1], move |lp, res| {
            res.unwrap();
            lp.fs_read(path, move |_, res| r.borrow_mut().push(res.unwrap()));
        });
    }
    run_bounded(&mut lp);
    let mut got = read.borrow().clone();
    got.sort();
    assert_eq!(got, (0..50u8).map(|i| vec![i; usize::from(i) + 1]).collect::<Vec<_>>());
}

#[test]
fn getaddrinfo_localhost_is_loopback() {
    let mut lp = Loop::new().unwrap();
    let got: Rc<RefCell<Option<Vec<SocketAddr>>>> = Rc::default();
    let g = got.clone();
    lp.getaddrinfo("localhost".to_string(), 80, move |_, r| *g.borrow_mut() = Some(r.unwrap()));
    run_bounded(&mut lp);
    let addrs = got.borrow_mut().take().unwrap();
    assert!(!addrs.is_empty());
    for a in &addrs {
        assert!(a.ip().is_loopback(), "{a}");
        assert_eq!(a.port(), 80);
    }
}

#[test]
fn getaddrinfo_of_a_literal() {
    let mut lp = Loop::new().unwrap();
    let got: Rc<RefCell<Option<Vec<SocketAddr>>>> = Rc::default();
    let g = got.clone();
    lp.getaddrinfo("127.0.0.1".to_string(), 6379, move |_, r| *g.borrow_mut() = Some(r.unwrap()));
    run_bounded(&mut lp);
    assert_eq!(got.borrow().as_deref(), Some(&["127.0.0.1:6379".parse().unwrap()][..]));
}
