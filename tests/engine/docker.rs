//! Talking to the engine that `cargo xtask test` started, and the images shared by the tests.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const DOCKER: &str = "/usr/bin/docker";
pub const PODMAN: &str = "/usr/bin/podman";
/// The bound on every wait for a container to reach a state.
pub const LIMIT: Duration = Duration::from_secs(60);

pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The static build the images copy, and the engines' init (dockerd's `--init-path`).
pub fn static_sudrop() -> PathBuf {
    project_root().join("target/x86_64-unknown-linux-musl/release/sudrop")
}

/// The engine's address; panics (never passes) when the suite runs without it.
pub fn docker_host() -> String {
    std::env::var("SUDROP_ENGINE_DOCKER_HOST").unwrap_or_else(|_| {
        panic!(
            "no engine: these tests run under `cargo xtask test`, which starts dockerd and sets \
             SUDROP_ENGINE_DOCKER_HOST"
        )
    })
}

/// Which engine a command goes to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Engine {
    Docker,
    Podman,
}

impl Engine {
    pub fn command(self, args: &[&str]) -> Command {
        let mut command = match self {
            Engine::Docker => {
                let mut c = Command::new(DOCKER);
                c.env("DOCKER_HOST", docker_host());
                c
            }
            Engine::Podman => {
                let mut c = Command::new(PODMAN);
                let conf = std::env::var("SUDROP_ENGINE_PODMAN_CONF")
                    .expect("podman is configured by cargo xtask test");
                c.env("CONTAINERS_CONF", conf);
                c
            }
        };
        command.args(args).stdin(Stdio::null());
        command
    }

    pub fn output(self, args: &[&str]) -> Output {
        self.command(args)
            .output()
            .unwrap_or_else(|e| panic!("{self:?} {args:?}: {e}"))
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "{self:?} {args:?}: {}\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

pub fn docker(args: &[&str]) -> Output {
    Engine::Docker.output(args)
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Builds `packaging/docker/Dockerfile.<example>` from the project root, once per run and
/// engine; returns the image name.
pub fn example_image(engine: Engine, example: &str) -> String {
    image_from(
        engine,
        &format!("packaging/docker/Dockerfile.{example}"),
        &format!("sudrop-example-{example}"),
    )
}

/// Builds the Dockerfile at `dockerfile` (relative to the project root, which is the
/// context) as `name`, once per run and engine; returns the name.
pub fn image_from(engine: Engine, dockerfile: &str, name: &str) -> String {
    static BUILT: OnceLock<Mutex<HashSet<(String, bool)>>> = OnceLock::new();
    let key = (name.to_string(), engine == Engine::Podman);
    let built = BUILT.get_or_init(Default::default);
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if !built.contains(&key) {
        let root = project_root();
        let root = root.to_str().expect("UTF-8 path");
        engine.ok(&[
            "build",
            "-q",
            "-f",
            &format!("{root}/{dockerfile}"),
            "-t",
            name,
            root,
        ]);
        built.insert(key);
    }
    name.to_string()
}

/// A container removed when dropped, whatever the test's outcome.
pub struct Container {
    pub engine: Engine,
    pub name: String,
}

static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

impl Container {
    /// `run -d --name <unique> ARGS...`.
    pub fn start(engine: Engine, args: &[&str]) -> Container {
        let name = format!(
            "sudrop-e2e-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        // Made before the run, so that a container the engine created but could not start
        // is removed too.
        let container = Container { engine, name };
        let mut all = vec!["run", "-d", "--name", &container.name];
        all.extend_from_slice(args);
        engine.ok(&all);
        container
    }

    pub fn exec(&self, args: &[&str]) -> Output {
        let mut all = vec!["exec", &self.name];
        all.extend_from_slice(args);
        self.engine.output(&all)
    }

    pub fn logs(&self) -> String {
        let out = self.engine.output(&["logs", &self.name]);
        text(&out.stdout) + &text(&out.stderr)
    }

    /// Waits (bounded) until the container's output contains `text`.
    pub fn wait_for_log(&self, text: &str) {
        let deadline = Instant::now() + LIMIT;
        loop {
            let logs = self.logs();
            if logs.contains(text) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}: never printed {text:?}; logs:\n{logs}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `stop -t SECONDS`, timed.
    pub fn stop(&self, seconds: u32) -> Duration {
        let started = Instant::now();
        self.engine
            .ok(&["stop", "-t", &seconds.to_string(), &self.name]);
        started.elapsed()
    }

    pub fn exit_code(&self) -> i32 {
        self.engine
            .ok(&["inspect", "--format", "{{.State.ExitCode}}", &self.name])
            .trim()
            .parse()
            .expect("an exit code")
    }

    /// The user (a uid from docker, a name from podman) and command line of every process in
    /// the container, as the engine's `top` sees them.
    pub fn processes(&self) -> Vec<(String, String)> {
        let out = match self.engine {
            Engine::Docker => self.engine.ok(&["top", &self.name, "-eo", "uid,pid,args"]),
            Engine::Podman => self.engine.ok(&["top", &self.name, "user", "pid", "args"]),
        };
        out.lines()
            .skip(1)
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                let user = fields.next()?.to_string();
                let _pid = fields.next()?;
                Some((user, fields.collect::<Vec<_>>().join(" ")))
            })
            .collect()
    }
}

/// Whether a user from [`Container::processes`] is root.
pub fn is_root(user: &str) -> bool {
    user == "0" || user == "root"
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = self
            .engine
            .command(&["rm", "-f", "-v", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A scratch directory on the host, removed when dropped.
pub struct HostDir(pub PathBuf);

impl HostDir {
    pub fn new(label: &str) -> HostDir {
        let path = std::env::temp_dir().join(format!(
            "sudrop-e2e-{label}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("scratch directory");
        HostDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn arg(&self) -> &str {
        self.0.to_str().expect("UTF-8 path")
    }
}

impl Drop for HostDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Records a measured figure for the closing report (`target/engine/results.txt`).
pub fn record(line: &str) {
    let path = project_root().join("target/engine/results.txt");
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "{line}");
    }
}
