//! spindle_rt::fs::File: create, write, sync, reopen, read in chunks and to
//! the end, metadata; opening a missing file is `NotFound`.

mod rt_support;

use rt_support::{bounded, rt, TempDir};
use spindle_rt::fs::File;
use std::io::ErrorKind;

#[test]
fn write_then_read_back_in_chunks() {
    bounded(|| {
        let dir = TempDir::new("fs-file");
        let path = dir.0.join("file.txt");
        rt().block_on(async {
            let mut file = File::create(&path).await.unwrap();
            file.write_all("hello, ").await.unwrap();
            file.write_all(b"file").await.unwrap();
            file.sync_all().await.unwrap();
            assert_eq!(file.metadata().await.unwrap().len(), 11);
            drop(file);

            let mut file = File::open(&path).await.unwrap();
            assert_eq!(file.read(5).await.unwrap(), b"hello");
            assert_eq!(file.read_to_end().await.unwrap(), b", file");
            assert!(file.read(16).await.unwrap().is_empty(), "at end of file");
        });
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "hello, file");
    });
}

#[test]
fn from_std_wraps_an_open_file() {
    bounded(|| {
        let dir = TempDir::new("fs-file");
        let path = dir.0.join("std.txt");
        std::fs::write(&path, "from std").unwrap();
        let std_file = std::fs::File::open(&path).unwrap();
        let text = rt().block_on(async { File::from_std(std_file).read_to_end().await.unwrap() });
        assert_eq!(text, b"from std");
    });
}

#[test]
fn opening_a_missing_file_is_not_found() {
    bounded(|| {
        let dir = TempDir::new("fs-file");
        let err = rt().block_on(File::open(dir.0.join("absent"))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let err = rt().block_on(File::create(dir.0.join("no-dir").join("x"))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    });
}
