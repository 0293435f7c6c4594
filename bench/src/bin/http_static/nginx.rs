//! Debian's nginx as the peer: the configuration it runs with, and how it
//! is started.
//!
//! The configuration is the one the issue names, written per start into a
//! private directory (every choice is documented in `http_static_bench`'s
//! module docs):
//!
//! ```text
//! daemon off; master_process on; worker_processes N;
//! pid DIR/nginx.pid; error_log DIR/error.log;
//! events { worker_connections 4096; }
//! http {
//!     include /etc/nginx/mime.types; default_type application/octet-stream;
//!     access_log off; sendfile on; tcp_nopush on;
//!     keepalive_requests 1000000; keepalive_timeout 65;
//!     client_body_temp_path DIR/client_body;
//!     server { listen 127.0.0.1:PORT reuseport; root ROOT; }
//! }
//! ```

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use spindle_bench::process::{command_on_cpu, wait_timeout};

/// Where Debian keeps nginx's MIME table; included when present so nginx
/// answers `Content-Type` from the same kind of table spindle does.
pub const MIME_TYPES: &str = "/etc/nginx/mime.types";

/// One nginx start's settings.
#[derive(Debug, Clone)]
pub struct NginxConfig {
    /// `worker_processes`.
    pub workers: usize,
    /// The port on 127.0.0.1.
    pub port: u16,
    /// The document root.
    pub root: PathBuf,
    /// The private directory: configuration, pid file, error log, temp.
    pub dir: PathBuf,
    /// The MIME table to include, if any.
    pub mime_types: Option<PathBuf>,
    /// `listen ... reuseport` (a socket per worker). Without it the
    /// workers share one listening socket, which nginx (since 1.11.3, with
    /// `accept_mutex` off by default) registers with `EPOLLEXCLUSIVE`.
    pub reuseport: bool,
}

impl NginxConfig {
    /// The configuration file's path.
    pub fn conf_path(&self) -> PathBuf {
        self.dir.join("nginx.conf")
    }

    /// The error log's path (nginx writes start-up failures there too).
    pub fn error_log(&self) -> PathBuf {
        self.dir.join("error.log")
    }

    /// The configuration text.
    pub fn render(&self) -> String {
        let dir = self.dir.display();
        let types = match &self.mime_types {
            Some(path) => format!("    include {};\n", path.display()),
            None => String::new(),
        };
        format!(
            "daemon off;\n\
             master_process on;\n\
             worker_processes {workers};\n\
             pid {dir}/nginx.pid;\n\
             error_log {dir}/error.log;\n\
             events {{\n    worker_connections 4096;\n}}\n\
             http {{\n\
             {types}    default_type application/octet-stream;\n\
             \x20   access_log off;\n\
             \x20   sendfile on;\n\
             \x20   tcp_nopush on;\n\
             \x20   keepalive_requests 1000000;\n\
             \x20   keepalive_timeout 65;\n\
             \x20   client_body_temp_path {dir}/client_body;\n\
             \x20   server {{\n\
             \x20       listen 127.0.0.1:{port}{reuseport};\n\
             \x20       root {root};\n\
             \x20   }}\n\
             }}\n",
            workers = self.workers,
            port = self.port,
            reuseport = if self.reuseport { " reuseport" } else { "" },
            root = self.root.display(),
        )
    }

    /// Writes the configuration and returns the command that runs nginx
    /// with it in the foreground (`-p DIR -c CONF -e ERROR_LOG`; `-e` so
    /// that not even start-up touches the system's log), pinned to `cpu`
    /// if given; the workers nginx forks inherit the pinning.
    pub fn command(&self, nginx: &Path, cpu: Option<usize>) -> Result<Command> {
        std::fs::write(self.conf_path(), self.render())
            .with_context(|| format!("writing {}", self.conf_path().display()))?;
        let mut cmd = command_on_cpu(nginx, cpu);
        cmd.arg("-p").arg(&self.dir).arg("-c").arg(self.conf_path()).arg("-e").arg(self.error_log());
        Ok(cmd)
    }
}

/// `nginx -v`'s line (`nginx version: nginx/1.22.1`), which nginx prints
/// on stderr; also checks that nginx can be run at all.
pub fn nginx_version(nginx: &Path) -> Result<String> {
    let mut child = Command::new(nginx)
        .arg("-v")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("{} not runnable (install nginx-light)", nginx.display()))?;
    if wait_timeout(&mut child, Duration::from_secs(5))?.is_none() {
        let _ = child.kill();
        let _ = child.wait();
        bail!("{} -v did not exit", nginx.display());
    }
    // The line is far smaller than a pipe's buffer, so it is all there.
    let mut text = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        stderr.read_to_string(&mut text)?;
    }
    Ok(text.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_has_every_setting() {
        let config = NginxConfig {
            workers: 2,
            port: 18080,
            root: "/tmp/x/root".into(),
            dir: "/tmp/x/nginx-1".into(),
            mime_types: Some(MIME_TYPES.into()),
            reuseport: true,
        };
        let shared = NginxConfig { reuseport: false, ..config.clone() }.render();
        assert!(shared.contains("        listen 127.0.0.1:18080;\n"), "{shared}");
        let text = config.render();
        for want in [
            "daemon off;\n",
            "master_process on;\n",
            "worker_processes 2;\n",
            "pid /tmp/x/nginx-1/nginx.pid;\n",
            "error_log /tmp/x/nginx-1/error.log;\n",
            "worker_connections 4096;",
            "    include /etc/nginx/mime.types;\n",
            "    access_log off;\n",
            "    sendfile on;\n",
            "    tcp_nopush on;\n",
            "    keepalive_requests 1000000;\n",
            "    keepalive_timeout 65;\n",
            "        listen 127.0.0.1:18080 reuseport;\n",
            "        root /tmp/x/root;\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
        assert_eq!(text.matches('{').count(), text.matches('}').count(), "{text}");
    }

    #[test]
    fn version_of_a_missing_program_is_an_error() {
        assert!(nginx_version(Path::new("/nonexistent/nginx")).is_err());
    }
}
