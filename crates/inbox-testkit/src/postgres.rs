//! A real, throwaway PostgreSQL server for tests, started from the system's server binaries
//! (`initdb`, `pg_ctl`) on loopback, one per test process, and a fresh database for each
//! test that asks.
//!
//! PostgreSQL refuses to run as root: as root, the binaries run as the `postgres` user
//! (`runuser -u postgres --`). The server is stopped and its folder removed by a watchdog
//! once the test process is gone, however it ended. Nothing here skips: a machine without
//! the binaries fails the test, naming what is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A PostgreSQL server this process started.
#[derive(Debug)]
pub struct Postgres {
    bin: PathBuf,
    port: u16,
}

/// Where the server binaries are: `$INBOX_PG_BIN`, else the newest
/// `/usr/lib/postgresql/<version>/bin` holding `initdb`.
fn binaries() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("INBOX_PG_BIN") {
        let dir = PathBuf::from(dir);
        return if dir.join("initdb").exists() {
            Ok(dir)
        } else {
            Err(format!("$INBOX_PG_BIN={} holds no initdb", dir.display()))
        };
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).ok_or_else(|| {
        "PostgreSQL's server binaries (initdb, pg_ctl) are not in /usr/lib/postgresql/<version>/bin: \
         install the `postgresql` package (apt-get install postgresql) or set $INBOX_PG_BIN"
            .to_owned()
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `program args…`, as the `postgres` user when this process is root.
fn command(program: &Path, as_postgres: bool) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(mut command: Command, what: &str) -> Result<(), String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

impl Postgres {
    /// The server of this test process, started on first use.
    ///
    /// # Panics
    ///
    /// When it cannot be started (binaries missing, `initdb` or `pg_ctl` failing), with
    /// what failed: a test that needs PostgreSQL cannot go on without it.
    pub fn shared() -> &'static Postgres {
        static SERVER: OnceLock<Result<Postgres, String>> = OnceLock::new();
        match SERVER.get_or_init(Postgres::start) {
            Ok(server) => server,
            Err(e) => panic!("cannot start PostgreSQL for the tests: {e}"),
        }
    }

    fn start() -> Result<Postgres, String> {
        let bin = binaries()?;
        let root = is_root();
        let dir = std::env::temp_dir().join(format!("inbox-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if root {
            run(
                {
                    let mut c = Command::new("chown");
                    c.arg("postgres:").arg(&dir);
                    c
                },
                "chown the data folder to postgres",
            )?;
        }
        let data = dir.join("data");
        let mut initdb = command(&bin.join("initdb"), root);
        initdb.arg("-D").arg(&data).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        ]);
        run(initdb, "initdb")?;
        // A port taken between the check and the start fails the start: try a few.
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port()?;
            let options = format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
                 -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
                dir.display()
            );
            let mut pg_ctl = command(&bin.join("pg_ctl"), root);
            pg_ctl
                .arg("-D")
                .arg(&data)
                .args(["-o", &options, "-l"])
                .arg(dir.join("server.log"))
                .args(["-w", "-t", "30", "start"]);
            match run(pg_ctl, "pg_ctl start") {
                Ok(()) => {
                    watchdog(&bin, &dir, &data, root);
                    return Ok(Postgres { bin, port });
                }
                Err(e) => {
                    let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                    last = format!("{e}\n{log}");
                }
            }
        }
        Err(last)
    }

    /// The server's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A new, empty database named after `name` (made unique), and its URL.
    ///
    /// # Panics
    ///
    /// When `createdb` fails.
    pub fn database(&self, name: &str) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let clean: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        let db = format!("t_{clean}_{n}");
        let mut createdb = Command::new(self.bin.join("createdb"));
        createdb.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            &db,
        ]);
        if let Err(e) = run(createdb, "createdb") {
            panic!("{e}");
        }
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

/// Stops the server and removes its folder once this process is gone.
fn watchdog(bin: &Path, dir: &Path, data: &Path, root: bool) {
    let script = format!(
        "while [ -d /proc/{pid} ]; do sleep 0.5; done; \
         {pg_ctl} -D {data} -m immediate stop >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        pg_ctl = bin.join("pg_ctl").display(),
        data = data.display(),
        dir = dir.display(),
    );
    let mut sh = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "setsid", "sh", "-c", &script]);
        c
    } else {
        let mut c = Command::new("setsid");
        c.args(["sh", "-c", &script]);
        c
    };
    let _ = sh
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}
