//! spindle_rt::fs: write, read back, metadata and remove in a fresh
//! temporary directory; a missing file is `NotFound`.

mod rt_support;

use rt_support::{bounded, rt, TempDir};
use spindle_rt::fs;
use std::io::ErrorKind;

#[test]
fn write_read_metadata_remove_round_trip() {
    bounded(|| {
        let dir = TempDir::new("fs");
        let path = dir.0.join("data.bin");
        let bytes: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
        let rt = rt();
        rt.block_on(async {
            fs::write(&path, &bytes).await.unwrap();
            assert_eq!(fs::read(&path).await.unwrap(), bytes);

            let meta = fs::metadata(&path).await.unwrap();
            assert!(meta.is_file());
            assert_eq!(meta.len(), 100_000);

            // Write truncates.
            fs::write(&path, "short text").await.unwrap();
            assert_eq!(fs::read_to_string(&path).await.unwrap(), "short text");
            assert_eq!(fs::metadata(&path).await.unwrap().len(), 10);

            fs::remove_file(&path).await.unwrap();
            assert_eq!(fs::metadata(&path).await.unwrap_err().kind(), ErrorKind::NotFound);
        });
        // What the runtime wrote is what std sees.
        assert!(!path.exists());
    });
}

#[test]
fn metadata_of_a_directory() {
    bounded(|| {
        let dir = TempDir::new("fs");
        let meta = rt().block_on(fs::metadata(dir.0.clone())).unwrap();
        assert!(meta.is_dir());
    });
}

#[test]
fn a_missing_file_is_not_found() {
    bounded(|| {
        let dir = TempDir::new("fs");
        let missing = dir.0.join("no-such-file");
        let rt = rt();
        rt.block_on(async {
            assert_eq!(fs::read(&missing).await.unwrap_err().kind(), ErrorKind::NotFound);
            assert_eq!(fs::read_to_string(&missing).await.unwrap_err().kind(), ErrorKind::NotFound);
            assert_eq!(fs::metadata(&missing).await.unwrap_err().kind(), ErrorKind::NotFound);
            assert_eq!(fs::remove_file(&missing).await.unwrap_err().kind(), ErrorKind::NotFound);
            // Writing into a directory that does not exist.
            let nested = missing.join("child");
            assert_eq!(fs::write(&nested, b"x").await.unwrap_err().kind(), ErrorKind::NotFound);
        });
    });
}

#[test]
fn read_to_string_rejects_invalid_utf8() {
    bounded(|| {
        let dir = TempDir::new("fs");
        let path = dir.0.join("latin1.txt");
        let rt = rt();
        rt.block_on(async {
            fs::write(&path, [0x66, 0x6f, 0xf6]).await.unwrap();
            assert_eq!(fs::read_to_string(&path).await.unwrap_err().kind(), ErrorKind::InvalidData);
        });
    });
}

#[test]
fn many_concurrent_reads_from_tasks() {
    bounded(|| {
        let dir = TempDir::new("fs");
        let rt = rt();
        let total = rt.block_on(async {
            for i in 0..16 {
                fs::write(dir.0.join(format!("f{i}")), vec![b'a'; i * 10]).await.unwrap();
            }
            let tasks: Vec<_> = (0..16)
                .map(|i| {
                    let path = dir.0.join(format!("f{i}"));
                    spindle_rt::spawn(async move { fs::read(path).await.unwrap().len() })
                })
                .collect();
            let mut total = 0;
            for t in tasks {
                total += t.await.unwrap();
            }
            total
        });
        assert_eq!(total, (0..16).map(|i| i * 10).sum::<usize>());
    });
}
