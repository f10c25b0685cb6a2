//! A throwaway PostgreSQL cluster for one test: `initdb` in a temporary folder, the server
//! on a free 127.0.0.1 port with its socket in that folder, run as an unprivileged user
//! (PostgreSQL refuses root; under root the cluster runs as `nobody`), stopped and removed
//! when dropped. The server binaries are Debian's (`postgresql`, installed by
//! `scripts/postgres.sh`), or those of `XUNCHA_PG_BIN`.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Postgres {
    dir: tempfile::TempDir,
    port: u16,
    server: Option<Child>,
    next_db: std::sync::atomic::AtomicU32,
    durable: bool,
}

fn bin_dir() -> PathBuf {
    if let Ok(d) = std::env::var("XUNCHA_PG_BIN") {
        return d.into();
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop().unwrap_or_else(|| {
        panic!("no PostgreSQL server binaries (initdb): run `bash scripts/postgres.sh install`, or set XUNCHA_PG_BIN")
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// `program args…`, as `nobody` when this process is root.
fn unprivileged(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(program);
        c
    } else {
        Command::new(program)
    }
}

impl Postgres {
    /// A cluster for tests: `fsync` off, since nothing here outlives the machine.
    pub fn start() -> Postgres {
        Postgres::start_with(false)
    }

    /// A cluster that writes as a real one does (`fsync` on), for measurements.
    pub fn start_durable() -> Postgres {
        Postgres::start_with(true)
    }

    fn start_with(durable: bool) -> Postgres {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("xuncha-pg-")
            .tempdir()
            .unwrap();
        if is_root() {
            let status = Command::new("chown")
                .args(["nobody:nogroup"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown of the cluster folder");
        }
        let data = dir.path().join("data");
        let out = unprivileged(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "xuncha",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "-N",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut pg = Postgres {
            dir,
            port: 0,
            server: None,
            next_db: 0.into(),
            durable,
        };
        pg.start_server();
        pg
    }

    fn start_server(&mut self) {
        let bin = bin_dir();
        let port = if self.port == 0 {
            free_port()
        } else {
            self.port
        };
        let log = std::fs::File::create(self.dir.path().join("server.log")).unwrap();
        let child = unprivileged(&bin.join("postgres"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-p", &port.to_string(), "-k"])
            .arg(self.dir.path())
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                if self.durable {
                    "fsync=on"
                } else {
                    "fsync=off"
                },
                "-c",
                "max_connections=100",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.port = port;
        self.server = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok()
                && postgres::Client::connect(&self.url("postgres"), postgres::NoTls).is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not start: {}",
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (fast shutdown: open connections are cut), keeping its data.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.server.take() {
            let _ = Command::new("kill")
                .args(["-INT", &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.start_server();
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://xuncha@127.0.0.1:{}/{db}", self.port)
    }

    /// A new, empty database; its URL.
    pub fn new_database(&self) -> String {
        let n = self
            .next_db
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("t{n}");
        let mut c = postgres::Client::connect(&self.url("postgres"), postgres::NoTls).unwrap();
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        self.url(&name)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}
