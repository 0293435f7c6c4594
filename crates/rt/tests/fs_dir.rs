//! spindle_rt::fs directories and paths: create and remove trees, list a
//! directory larger than one batch, rename, copy, links, canonical paths,
//! existence and permissions; each checked against what `std` sees.

mod rt_support;

use rt_support::{both, bounded, rt, TempDir};
use spindle_rt::fs;
use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;

#[test]
fn create_dir_all_then_remove_dir_all() {
    bounded(|| {
        let dir = TempDir::new("fs-dir");
        let deep = dir.0.join("a/b/c");
        rt().block_on(async {
            fs::create_dir_all(&deep).await.unwrap();
            // Again: an existing tree is fine for create_dir_all...
            fs::create_dir_all(&deep).await.unwrap();
            // ...but not for create_dir, nor without a parent.
            assert_eq!(fs::create_dir(&deep).await.unwrap_err().kind(), ErrorKind::AlreadyExists);
            assert_eq!(fs::create_dir(dir.0.join("x/y")).await.unwrap_err().kind(), ErrorKind::NotFound);
            fs::write(deep.join("f"), "f").await.unwrap();
            assert_eq!(
                fs::remove_dir(dir.0.join("a")).await.unwrap_err().kind(),
                ErrorKind::DirectoryNotEmpty
            );
            fs::remove_dir_all(dir.0.join("a")).await.unwrap();
        });
        assert!(!dir.0.join("a").exists());
        assert!(dir.0.exists());
    });
}

#[test]
fn read_dir_lists_every_entry_across_batches() {
    bounded(|| {
        // More than several batches of 32, on both runtimes.
        for (name, rt) in both() {
            let dir = TempDir::new("fs-dir");
            let want: BTreeSet<String> = (0..150).map(|i| format!("file-{i:03}")).collect();
            for f in &want {
                std::fs::write(dir.0.join(f), f).unwrap();
            }
            std::fs::create_dir(dir.0.join("sub")).unwrap();
            let (files, dirs) = rt.block_on(async {
                let mut files = BTreeSet::new();
                let mut dirs = Vec::new();
                let mut entries = fs::read_dir(&dir.0).await.unwrap();
                while let Some(entry) = entries.next_entry().await.unwrap() {
                    assert_eq!(entry.path(), dir.0.join(entry.file_name()));
                    let name = entry.file_name().into_string().unwrap();
                    if entry.file_type().await.unwrap().is_dir() {
                        assert!(entry.metadata().await.unwrap().is_dir());
                        dirs.push(name);
                    } else {
                        assert_eq!(entry.metadata().await.unwrap().len(), name.len() as u64);
                        assert!(files.insert(name), "no entry twice");
                    }
                }
                // Finished stays finished.
                assert!(entries.next_entry().await.unwrap().is_none());
                (files, dirs)
            });
            assert_eq!(files, want, "{name}");
            assert_eq!(dirs, ["sub"], "{name}");
        }
    });
}

#[test]
fn read_dir_of_a_missing_or_non_directory_path_fails() {
    bounded(|| {
        let dir = TempDir::new("fs-dir");
        std::fs::write(dir.0.join("file"), "x").unwrap();
        rt().block_on(async {
            let missing = fs::read_dir(dir.0.join("missing")).await.unwrap_err();
            assert_eq!(missing.kind(), ErrorKind::NotFound);
            let file = fs::read_dir(dir.0.join("file")).await.unwrap_err();
            assert_eq!(file.kind(), ErrorKind::NotADirectory);
        });
    });
}

#[test]
fn rename_copy_and_links() {
    bounded(|| {
        let dir = TempDir::new("fs-dir");
        let p = |name: &str| dir.0.join(name);
        rt().block_on(async {
            fs::write(p("a"), "contents").await.unwrap();
            fs::rename(p("a"), p("b")).await.unwrap();
            assert!(!fs::try_exists(p("a")).await.unwrap());
            assert_eq!(fs::copy(p("b"), p("c")).await.unwrap(), 8);
            assert_eq!(fs::read_to_string(p("c")).await.unwrap(), "contents");

            fs::hard_link(p("b"), p("hard")).await.unwrap();
            fs::symlink("b", p("soft")).await.unwrap();
            assert_eq!(fs::read_link(p("soft")).await.unwrap(), std::path::Path::new("b"));
            // metadata follows the link, symlink_metadata does not.
            assert!(fs::metadata(p("soft")).await.unwrap().is_file());
            assert!(fs::symlink_metadata(p("soft")).await.unwrap().file_type().is_symlink());
            assert_eq!(fs::canonicalize(p("soft")).await.unwrap(), std::fs::canonicalize(p("b")).unwrap());

            // The hard link is the same file: a write through one name shows
            // through the other.
            fs::write(p("hard"), "changed").await.unwrap();
            assert_eq!(fs::read_to_string(p("b")).await.unwrap(), "changed");
            assert_eq!(fs::copy(p("missing"), p("d")).await.unwrap_err().kind(), ErrorKind::NotFound);
        });
    });
}

#[test]
fn try_exists_and_set_permissions() {
    bounded(|| {
        let dir = TempDir::new("fs-dir");
        let path = dir.0.join("perm");
        std::fs::write(&path, "x").unwrap();
        rt().block_on(async {
            assert!(fs::try_exists(&path).await.unwrap());
            assert!(!fs::try_exists(dir.0.join("nope")).await.unwrap());
            fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).await.unwrap();
        });
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    });
}
