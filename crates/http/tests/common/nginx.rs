//! Debian's nginx, started for a test to compare spindle with.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// nginx in the foreground, single process (`master_process off`, so
/// killing it leaves no workers behind), on a unix socket; killed on drop.
pub struct Nginx {
    child: Child,
    /// The unix socket it listens on.
    pub sock: PathBuf,
    dir: PathBuf,
}

pub fn nginx_program() -> PathBuf {
    let candidates = [PathBuf::from("/usr/sbin/nginx")];
    if let Some(p) = candidates.iter().find(|p| p.exists()) {
        return p.clone();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    if let Some(p) = std::env::split_paths(&path).map(|d| d.join("nginx")).find(|p| p.exists()) {
        return p;
    }
    panic!(
        "nginx_diff needs Debian's nginx to compare against, and none was found \
         (not /usr/sbin/nginx, not on PATH). Install it with \
         `apt-get install -y nginx` (.ci/run does this), then run again."
    );
}

impl Nginx {
    /// nginx serving `root`, with `extra` directives in its `server`
    /// block.
    pub fn start(root: &Path, dir: &Path, extra: &str) -> Nginx {
        let mime = Path::new("/etc/nginx/mime.types");
        assert!(
            mime.exists(),
            "{} is missing: reinstall nginx-common (`apt-get install nginx`)",
            mime.display()
        );
        std::fs::create_dir_all(dir).unwrap();
        let sock = dir.join("nginx.sock");
        let d = dir.display();
        // Every setting spindle has a knob for is set to spindle's default
        // (most are nginx's defaults too, written out to be sure).
        let conf = format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n\
             include {mime};\ndefault_type application/octet-stream;\n\
             access_log off;\nsendfile on;\netag on;\nserver_tokens off;\n\
             keepalive_timeout 75s;\nkeepalive_requests 1000;\nclient_header_timeout 60s;\n\
             client_max_body_size 1m;\nlarge_client_header_buffers 4 8k;\nmax_ranges 64;\n\
             lingering_timeout 5s;\nlingering_time 30s;\nsend_timeout 60s;\n\
             client_body_temp_path {d}/body;\nproxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\nuwsgi_temp_path {d}/uwsgi;\nscgi_temp_path {d}/scgi;\n\
             server {{\nlisten unix:{sock};\nserver_name localhost;\nroot {root};\nindex index.html;\n{extra}\n}}\n}}\n",
            mime = mime.display(),
            sock = sock.display(),
            root = root.display(),
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(nginx_program())
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx could not be started");
        let mut n = Nginx { child, sock, dir: dir.to_path_buf() };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if UnixStream::connect(&n.sock).is_ok() {
                return n;
            }
            if let Ok(Some(status)) = n.child.try_wait() {
                panic!("nginx exited ({status}) before listening:\n{}", n.error_log());
            }
            assert!(Instant::now() < deadline, "nginx did not listen within 10 s:\n{}", n.error_log());
            // Polling for the socket: nginx has no readiness signal.
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
