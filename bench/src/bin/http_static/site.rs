//! The site both servers serve: a temporary directory with `index.html`,
//! `1k.bin` (1024 bytes) and `1m.bin` (1 MiB), removed when the run ends.
//!
//! The files hold pseudo-random bytes (a fixed xorshift sequence), so a
//! server that sent the wrong file, or a truncated or shifted body, is
//! caught by the byte-for-byte check made before every measured run.

use std::fs;
use std::io;
use std::path::PathBuf;

use clap::ValueEnum;

/// A file the load asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum SiteFile {
    /// `1k.bin`, 1024 bytes: the per-request overhead case.
    #[value(name = "1k")]
    OneKiB,
    /// `1m.bin`, 1 MiB: the bulk-transfer (sendfile) case.
    #[value(name = "1m")]
    OneMiB,
}

impl SiteFile {
    /// The file's name in the site root.
    pub fn name(self) -> &'static str {
        match self {
            Self::OneKiB => "1k.bin",
            Self::OneMiB => "1m.bin",
        }
    }

    /// Its size in bytes.
    pub fn size(self) -> usize {
        match self {
            Self::OneKiB => 1024,
            Self::OneMiB => 1024 * 1024,
        }
    }

    /// Its contents: the first [`size`](Self::size) bytes of a fixed
    /// xorshift64 sequence.
    pub fn contents(self) -> Vec<u8> {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..self.size())
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect()
    }
}

/// The index page, so `/` is served too (not loaded by the benchmark).
const INDEX_HTML: &str = "<!doctype html>\n<title>spindle http_static_bench</title>\n\
                          <p><a href=\"1k.bin\">1k.bin</a> <a href=\"1m.bin\">1m.bin</a>\n";

/// A temporary directory tree holding the site (`root/`) and one private
/// directory per server start (configuration, pid file, error log);
/// removed, with everything in it, on drop.
#[derive(Debug)]
pub struct Site {
    dir: PathBuf,
}

impl Site {
    /// Creates `<tmp>/spindle-http-static-<pid>-<n>/root` with the files.
    pub fn create() -> io::Result<Self> {
        let base = std::env::temp_dir();
        let pid = std::process::id();
        for n in 0..1000 {
            let dir = base.join(format!("spindle-http-static-{pid}-{n}"));
            match fs::create_dir(&dir) {
                Ok(()) => {
                    let site = Self { dir };
                    fs::create_dir(site.root())?;
                    fs::write(site.root().join("index.html"), INDEX_HTML)?;
                    for file in [SiteFile::OneKiB, SiteFile::OneMiB] {
                        fs::write(site.root().join(file.name()), file.contents())?;
                    }
                    // spindle does not cache a file changed in the last two
                    // seconds (its change time may be too coarse to show a
                    // rewrite of the same size): let the new files age past
                    // that, so no measured run starts with them uncached.
                    std::thread::sleep(std::time::Duration::from_millis(2100));
                    return Ok(site);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io::Error::new(e.kind(), format!("creating {}: {e}", dir.display()))),
            }
        }
        Err(io::Error::new(io::ErrorKind::AlreadyExists, "no free temporary directory name"))
    }

    /// The document root both servers serve.
    pub fn root(&self) -> PathBuf {
        self.dir.join("root")
    }

    /// A fresh, empty directory for one server start's own files.
    pub fn private_dir(&self, name: &str) -> io::Result<PathBuf> {
        let dir = self.dir.join(name);
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir(&dir)?;
        Ok(dir)
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_have_their_sizes_and_vary() {
        let site = Site::create().unwrap();
        for file in [SiteFile::OneKiB, SiteFile::OneMiB] {
            let bytes = fs::read(site.root().join(file.name())).unwrap();
            assert_eq!(bytes.len(), file.size());
            assert_eq!(bytes, file.contents());
            assert!(bytes.iter().filter(|&&b| b == bytes[0]).count() < bytes.len() / 8, "not constant");
        }
        assert!(site.root().join("index.html").is_file());
        let private = site.private_dir("nginx-1").unwrap();
        assert!(private.is_dir());
        let path = site.dir.clone();
        drop(site);
        assert!(!path.exists(), "removed on drop");
    }
}
