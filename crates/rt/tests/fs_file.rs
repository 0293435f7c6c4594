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

/// tokio's `File::try_clone`, `into_std` and `try_into_std`: a clone shares
/// the cursor, and the `std` file taken out continues where the async
/// reads left off (read-ahead given back), after the writes in flight.
#[test]
fn try_clone_and_into_std_continue_where_the_file_is() {
    use spindle_rt::io::{AsyncReadExt, AsyncWriteExt};
    use std::io::Read;
    bounded(|| {
        let dir = TempDir::new("fs-file-std");
        let path = dir.0.join("file.txt");
        rt().block_on(async {
            let mut file = File::create(&path).await.unwrap();
            AsyncWriteExt::write_all(&mut file, b"0123456789").await.unwrap();
            // Write-behind: a write may be in flight, so not convertible now
            // or only once it is done; into_std waits for it.
            let file = match file.try_into_std() {
                Ok(std) => File::from_std(std),
                Err(file) => file,
            };
            let std = file.into_std().await;
            assert_eq!(std.metadata().unwrap().len(), 10, "the write landed first");

            let mut file = File::open(&path).await.unwrap();
            let mut two = [0u8; 2];
            AsyncReadExt::read_exact(&mut file, &mut two).await.unwrap();
            assert_eq!(&two, b"01");
            let clone = file.try_clone().await.unwrap();
            let mut std = file.into_std().await;
            let mut rest = String::new();
            std.read_to_string(&mut rest).unwrap();
            assert_eq!(rest, "23456789", "read-ahead was given back");
            let mut from_clone = Vec::new();
            AsyncReadExt::read_to_end(&mut File::from_std(clone.into_std().await), &mut from_clone)
                .await
                .unwrap();
            assert!(from_clone.is_empty(), "the clone shares the cursor, now at the end");

            let idle = File::open(&path).await.unwrap();
            assert!(idle.try_into_std().is_ok(), "nothing in flight, nothing read ahead");
        });
    });
}
