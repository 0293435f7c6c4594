//! spindle_rt::fs::File through the `futures-io` traits and the new
//! methods: small writes and reads through one cursor, a write after a
//! read that read ahead lands where the reader stopped, seeks count the
//! read-ahead, write errors surface, and OpenOptions' flags.

mod rt_support;

use futures::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use rt_support::{both, bounded, rt, TempDir};
use spindle_rt::fs::{File, OpenOptions};
use std::io::{ErrorKind, SeekFrom};

#[test]
fn many_small_trait_writes_then_reads() {
    bounded(|| {
        for (name, rt) in both() {
            let dir = TempDir::new("fs-io");
            let path = dir.0.join("lines");
            let want: String = (0..2000).map(|i| format!("line {i}\n")).collect();
            let back = rt.block_on(async {
                let mut file = File::create(&path).await.unwrap();
                for i in 0..2000 {
                    AsyncWriteExt::write_all(&mut file, format!("line {i}\n").as_bytes()).await.unwrap();
                }
                file.flush().await.unwrap();
                drop(file);
                let mut file = File::open(&path).await.unwrap();
                // Reads of 7 bytes: each hands out read-ahead, few hops.
                let mut back = Vec::new();
                let mut chunk = [0u8; 7];
                loop {
                    let n = AsyncReadExt::read(&mut file, &mut chunk).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    back.extend_from_slice(&chunk[..n]);
                }
                back
            });
            assert_eq!(String::from_utf8(back).unwrap(), want, "{name}");
        }
    });
}

#[test]
fn a_write_after_a_short_read_lands_where_the_reader_stopped() {
    bounded(|| {
        let dir = TempDir::new("fs-io");
        let path = dir.0.join("patch");
        std::fs::write(&path, "0123456789abcdef").unwrap();
        rt().block_on(async {
            let mut file = OpenOptions::new().read(true).write(true).open(&path).await.unwrap();
            let mut four = [0u8; 4];
            AsyncReadExt::read_exact(&mut file, &mut four).await.unwrap();
            assert_eq!(&four, b"0123");
            // The pool read took the whole file; the write must still go at 4.
            AsyncWriteExt::write_all(&mut file, b"XY").await.unwrap();
            file.flush().await.unwrap();
            // And the cursor is after the write, for reads and async methods.
            assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 6);
            let mut rest = String::new();
            AsyncReadExt::read_to_string(&mut file, &mut rest).await.unwrap();
            assert_eq!(rest, "6789abcdef");
        });
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "0123XY6789abcdef");
    });
}

#[test]
fn trait_seeks_count_the_read_ahead() {
    bounded(|| {
        let dir = TempDir::new("fs-io");
        let path = dir.0.join("seek");
        std::fs::write(&path, "abcdefghij").unwrap();
        rt().block_on(async {
            let mut file = File::open(&path).await.unwrap();
            let mut two = [0u8; 2];
            AsyncReadExt::read_exact(&mut file, &mut two).await.unwrap();
            assert_eq!(AsyncSeekExt::seek(&mut file, SeekFrom::Current(0)).await.unwrap(), 2);
            assert_eq!(AsyncSeekExt::seek(&mut file, SeekFrom::Current(3)).await.unwrap(), 5);
            AsyncReadExt::read_exact(&mut file, &mut two).await.unwrap();
            assert_eq!(&two, b"fg");
            assert_eq!(AsyncSeekExt::seek(&mut file, SeekFrom::End(-1)).await.unwrap(), 9);
            AsyncReadExt::read_exact(&mut file, &mut two[..1]).await.unwrap();
            assert_eq!(&two[..1], b"j");
            let before_start = AsyncSeekExt::seek(&mut file, SeekFrom::Current(-100)).await.unwrap_err();
            assert_eq!(before_start.kind(), ErrorKind::InvalidInput);
            // An async method after trait reads reads from the caller's spot.
            assert_eq!(AsyncSeekExt::seek(&mut file, SeekFrom::Start(1)).await.unwrap(), 1);
            AsyncReadExt::read_exact(&mut file, &mut two[..1]).await.unwrap();
            assert_eq!(file.read(3).await.unwrap(), b"cde");
        });
    });
}

#[test]
fn a_failed_write_behind_surfaces_on_flush() {
    bounded(|| {
        let dir = TempDir::new("fs-io");
        let path = dir.0.join("ro");
        std::fs::write(&path, "read only").unwrap();
        rt().block_on(async {
            let mut file = File::open(&path).await.unwrap();
            // Accepted at once (write-behind); the EBADF shows on flush.
            assert_eq!(AsyncWriteExt::write(&mut file, b"nope").await.unwrap(), 4);
            let err = file.flush().await.unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EBADF), "{err}");
            // Reported once; the file still reads.
            file.flush().await.unwrap();
            assert_eq!(file.read_to_end().await.unwrap(), b"read only");
        });
    });
}

#[test]
fn set_len_truncates_and_extends_without_moving_the_cursor() {
    bounded(|| {
        let dir = TempDir::new("fs-io");
        let path = dir.0.join("len");
        rt().block_on(async {
            let mut file = OpenOptions::new().read(true).write(true).create(true).open(&path).await.unwrap();
            file.write_all("0123456789").await.unwrap();
            file.set_len(4).await.unwrap();
            assert_eq!(file.metadata().await.unwrap().len(), 4);
            file.set_len(6).await.unwrap();
            file.sync_data().await.unwrap();
            assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 10);
        });
        assert_eq!(std::fs::read(&path).unwrap(), b"0123\0\0");
    });
}

#[test]
fn open_options_create_new_append_and_mode() {
    bounded(|| {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new("fs-io");
        let path = dir.0.join("claim");
        rt().block_on(async {
            let mut first =
                File::options().write(true).create_new(true).mode(0o600).open(&path).await.unwrap();
            first.write_all("one\n").await.unwrap();
            let again = OpenOptions::new().write(true).create_new(true).open(&path).await.unwrap_err();
            assert_eq!(again.kind(), ErrorKind::AlreadyExists);
            let mut log = OpenOptions::new().append(true).open(&path).await.unwrap();
            log.write_all("two\n").await.unwrap();
            let missing = OpenOptions::new().read(true).open(dir.0.join("missing")).await.unwrap_err();
            assert_eq!(missing.kind(), ErrorKind::NotFound);
        });
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\n");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    });
}
