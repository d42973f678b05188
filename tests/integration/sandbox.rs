//! Container-like sandboxes for the root tests: a chroot with busybox, sudrop, gosu and the
//! probe, entered through fresh mount and PID namespaces by util-linux `unshare` (which, unlike
//! a shell, passes the launcher's signal mask and ignored set through untouched).
//!
//! The shared rootfs is built once per test run; each sandbox is a tree of hard links to it
//! with its own `/etc`, so tests run in parallel and may add or chmod their own files.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{OnceLock, mpsc};
use std::time::Duration;

/// No scenario takes more than a second or two; this only bounds a hang.
const TIME_LIMIT: Duration = Duration::from_secs(60);

const APPLETS: &[&str] = &[
    "sh", "cat", "id", "grep", "echo", "env", "true", "false", "yes", "head", "sleep", "kill",
    "ls", "printf", "test", "chmod", "touch", "wc", "tr", "mkfifo",
];

/// Whether the root tests can run here; prints why not when they cannot. Set
/// `SUDROP_REQUIRE_ROOT_TESTS=1` (the project's test command does) to make that a failure.
pub fn root_or_skip(test: &str) -> bool {
    let missing = if !nix::unistd::geteuid().is_root() {
        Some("not running as root")
    } else if Command::new("unshare").arg("--version").output().is_err() {
        Some("util-linux unshare is not installed")
    } else {
        namespaces_missing()
    };
    match missing {
        None => true,
        Some(reason) if std::env::var_os("SUDROP_REQUIRE_ROOT_TESTS").is_some() => {
            panic!("{test}: cannot run: {reason}")
        }
        Some(reason) => {
            // Straight to stderr: libtest would hide an eprintln! of a passing test.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}");
            false
        }
    }
}

/// Why mount and PID namespaces cannot be made here (root without CAP_SYS_ADMIN, as in a
/// default `docker run`, or a chroot whose root is no mount point), checked once per run;
/// `None` when they can.
fn namespaces_missing() -> Option<&'static str> {
    static MISSING: OnceLock<Option<String>> = OnceLock::new();
    MISSING
        .get_or_init(|| {
            let out = Command::new("unshare")
                .args(["--mount", "--pid", "--fork", "--mount-proc", "true"])
                .output();
            match out {
                Ok(out) if out.status.success() => None,
                // What unshare said, as it said it: root without CAP_SYS_ADMIN (a default
                // `docker run`) and a chroot whose root is no mount point fail differently.
                Ok(out) => Some(format!(
                    "`unshare --mount --pid --fork --mount-proc true` failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )),
                Err(error) => Some(format!("cannot run unshare: {error}")),
            }
        })
        .as_deref()
}

/// The sudrop binary under test: `SUDROP_TEST_BIN` (the static release build the project's
/// test command makes) or this build's own.
pub fn sudrop_binary() -> PathBuf {
    std::env::var_os("SUDROP_TEST_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_sudrop")),
        PathBuf::from,
    )
}

fn probe_binary() -> PathBuf {
    // Cargo builds examples next to the binaries' directory for integration tests.
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_sudrop"));
    bin.parent().expect("target dir").join("examples/probe")
}

pub const REDIS: &str = "/usr/bin/redis-server";

pub fn gosu_path() -> Option<PathBuf> {
    ["/usr/sbin/gosu", "/usr/bin/gosu"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn shared_rootfs() -> &'static Path {
    static ROOTFS: OnceLock<PathBuf> = OnceLock::new();
    ROOTFS.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rootfs");
        let _ = fs::remove_dir_all(&root);
        for dir in [
            "bin",
            "usr/bin",
            "usr/local/bin",
            "usr/sbin",
            "proc",
            "tmp",
            "root",
            "home",
        ] {
            fs::create_dir_all(root.join(dir)).expect("rootfs dir");
        }
        fs::set_permissions(root.join("tmp"), fs::Permissions::from_mode(0o1777))
            .expect("chmod tmp");
        fs::set_permissions(root.join("root"), fs::Permissions::from_mode(0o700))
            .expect("chmod root");
        fs::create_dir_all(root.join("dev")).expect("dev");
        // As container runtimes provide them.
        for (name, target) in [
            ("stdin", "/proc/self/fd/0"),
            ("stdout", "/proc/self/fd/1"),
            ("stderr", "/proc/self/fd/2"),
            ("fd", "/proc/self/fd"),
        ] {
            symlink(target, root.join("dev").join(name)).expect("dev link");
        }
        // /dev/tty is the controlling terminal, if any.
        for (name, major, minor) in [("null", 1, 3), ("zero", 1, 5), ("tty", 5, 0)] {
            use nix::sys::stat::{Mode, SFlag, makedev, mknod};
            mknod(
                &root.join("dev").join(name),
                SFlag::S_IFCHR,
                Mode::from_bits_truncate(0o666),
                makedev(major, minor),
            )
            .expect("mknod");
            // mknod applies the umask.
            fs::set_permissions(
                root.join("dev").join(name),
                fs::Permissions::from_mode(0o666),
            )
            .expect("chmod dev");
        }
        install(&root, Path::new("/bin/busybox"), "bin/busybox");
        for applet in APPLETS {
            symlink("busybox", root.join("bin").join(applet)).expect("applet link");
        }
        install(&root, &sudrop_binary(), "usr/local/bin/sudrop");
        install(&root, &probe_binary(), "usr/local/bin/probe");
        if let Some(gosu) = gosu_path() {
            install(&root, &gosu, "usr/sbin/gosu");
        }
        if Path::new(REDIS).exists() {
            install(&root, Path::new(REDIS), "usr/bin/redis-server");
        }
        root
    })
}

/// Copies a binary into the rootfs, with the shared libraries it needs if it is dynamic.
fn install(root: &Path, from: &Path, to: &str) {
    fs::copy(from, root.join(to)).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    let ldd = Command::new("ldd").arg(from).output().expect("ldd");
    for word in String::from_utf8_lossy(&ldd.stdout).split_whitespace() {
        if word.starts_with('/') && Path::new(word).exists() {
            let dest = root.join(word.trim_start_matches('/'));
            fs::create_dir_all(dest.parent().expect("lib dir")).expect("lib dir");
            if !dest.exists() {
                fs::copy(word, &dest).expect("copy lib");
            }
        }
    }
}

/// Recreates `from` below `to`: directories made, files hard-linked, symlinks copied.
fn link_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("sandbox dir");
    fs::set_permissions(to, fs::metadata(from).expect("stat").permissions()).expect("chmod");
    for entry in fs::read_dir(from).expect("read rootfs") {
        let entry = entry.expect("entry");
        let (source, dest) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().expect("type");
        if kind.is_symlink() {
            symlink(fs::read_link(&source).expect("readlink"), &dest).expect("symlink");
        } else if kind.is_dir() {
            link_tree(&source, &dest);
        } else {
            fs::hard_link(&source, &dest).expect("hard link");
        }
    }
}

/// How the command is launched into the sandbox.
#[derive(Clone, Debug, Default)]
pub struct Launch {
    /// Run as this uid:gid (no supplementary groups) instead of root.
    pub as_user: Option<(u32, u32)>,
    /// Signals the launcher ignores, and blocks, before it starts the sandbox.
    pub ignore: Vec<nix::sys::signal::Signal>,
    pub block: Vec<nix::sys::signal::Signal>,
    /// Mount /proc inside (default true; false shows sudrop does not need it).
    pub no_proc: bool,
    /// A fresh network namespace (for binding ports).
    pub own_network: bool,
    /// Extra environment variables (besides PATH, HOME=/bogus-home, USER=root).
    pub env: Vec<(String, String)>,
    /// Commands run as root on the host before entering, e.g. setcap on sandbox files.
    pub host_setup: Vec<Vec<String>>,
    /// A host command line that starts `unshare` (e.g. `setpriv --bounding-set=-setpcap`).
    pub wrapper: Vec<String>,
    /// No PID namespace: the command is not PID 1 and its pid is the spawned process's.
    pub no_pid_namespace: bool,
}

pub struct Sandbox {
    pub root: PathBuf,
}

impl Sandbox {
    /// A sandbox whose /etc holds exactly these passwd and group files (`None`: absent).
    pub fn new(passwd: Option<&str>, group: Option<&str>) -> Sandbox {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let shared = shared_rootfs();
        let root =
            shared.with_file_name(format!("sandbox-{}", NEXT.fetch_add(1, Ordering::Relaxed)));
        let _ = fs::remove_dir_all(&root);
        link_tree(shared, &root);
        fs::create_dir_all(root.join("etc")).expect("etc");
        if let Some(passwd) = passwd {
            fs::write(root.join("etc/passwd"), passwd).expect("passwd");
        }
        if let Some(group) = group {
            fs::write(root.join("etc/group"), group).expect("group");
        }
        Sandbox { root }
    }

    /// The host path of a file inside the sandbox.
    pub fn path(&self, inside: &str) -> PathBuf {
        self.root.join(inside.trim_start_matches('/'))
    }

    /// Writes a file inside the sandbox with the given mode.
    pub fn write(&self, inside: &str, content: &str, mode: u32) {
        let path = self.path(inside);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let _ = fs::remove_file(&path);
        fs::write(&path, content).expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
    }

    /// Replaces a hard-linked file by a private copy (before chmod/setcap on it).
    pub fn copy(&self, from: &str, to: &str, mode: u32) {
        let (source, dest) = (self.path(from), self.path(to));
        let _ = fs::remove_file(&dest);
        fs::copy(source, &dest).expect("copy");
        fs::set_permissions(&dest, fs::Permissions::from_mode(mode)).expect("chmod");
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(&Launch::default(), args)
    }

    pub fn run_with(&self, launch: &Launch, args: &[&str]) -> Output {
        run_bounded(self.command(launch, args))
    }

    /// Starts the command and returns at once, with its output streamed.
    pub fn spawn_with(&self, launch: &Launch, args: &[&str]) -> Running {
        Running::start(self.command(launch, args), !launch.no_pid_namespace)
    }

    /// The `unshare` command line that runs `args` in the sandbox.
    pub fn command(&self, launch: &Launch, args: &[&str]) -> Command {
        for setup in &launch.host_setup {
            let status = Command::new(&setup[0])
                .args(&setup[1..])
                .status()
                .expect("host setup");
            assert!(status.success(), "host setup {setup:?} failed");
        }
        let mut command = match launch.wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg("unshare");
                command
            }
            None => Command::new("unshare"),
        };
        command.arg("--mount");
        if !launch.no_pid_namespace {
            command.args(["--pid", "--fork", "--kill-child"]);
        }
        if !launch.no_proc {
            command.arg("--mount-proc=/proc");
        }
        if launch.own_network {
            command.arg("--net");
        }
        command.arg(OsStr::new("--root")).arg(&self.root);
        if let Some((uid, gid)) = launch.as_user {
            command
                .arg(format!("--setuid={uid}"))
                .arg(format!("--setgid={gid}"));
        }
        command.arg("--").args(args);
        command
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin")
            .env("HOME", "/bogus-home")
            .env("USER", "root");
        command.envs(launch.env.iter().map(|(k, v)| (k, v)));
        let (ignore, block) = (launch.ignore.clone(), launch.block.clone());
        // SAFETY: the closure runs between fork and exec and only calls async-signal-safe
        // functions (sigaction, sigprocmask) on values prepared before the fork.
        unsafe {
            use std::os::unix::process::CommandExt;
            command.pre_exec(move || {
                use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, signal, sigprocmask};
                for &sig in &ignore {
                    signal(sig, SigHandler::SigIgn).map_err(std::io::Error::from)?;
                }
                let mut set = SigSet::empty();
                for &sig in &block {
                    set.add(sig);
                }
                sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
                    .map_err(std::io::Error::from)?;
                Ok(())
            });
        }
        command
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// Runs a command to completion, killing it if it outlives [`TIME_LIMIT`].
fn run_bounded(mut command: Command) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn unshare");
    let pid = child.id();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    match receiver.recv_timeout(TIME_LIMIT) {
        Ok(output) => output.expect("wait"),
        Err(_) => {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            panic!("sandbox command did not finish within {TIME_LIMIT:?}");
        }
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

/// The value of a `Key:` line of /proc/<pid>/status as printed by the probe or cat.
pub fn status_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .map(str::trim)
}

/// A hexadecimal mask line of /proc/<pid>/status (`SigIgn`, `CapBnd`, ...) as a number; panics,
/// showing `text`, when the line is missing or not hexadecimal.
pub fn status_mask(text: &str, key: &str) -> u64 {
    let field = status_field(text, key).unwrap_or_else(|| panic!("no {key} in {text}"));
    u64::from_str_radix(field, 16).unwrap_or_else(|_| panic!("{key} is not hexadecimal: {text}"))
}

/// A sandbox command still running, its stdout read line by line in the background.
pub struct Running {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    stderr: mpsc::Receiver<String>,
    in_pid_namespace: bool,
    pid: std::cell::OnceCell<i32>,
}

impl Running {
    fn start(mut command: Command, in_pid_namespace: bool) -> Running {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn unshare");
        let (line_sender, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if line_sender.send(line).is_err() {
                    break;
                }
            }
        });
        let (err_sender, stderr) = mpsc::channel();
        let mut stderr_pipe = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            use std::io::Read;
            let mut text = String::new();
            let _ = stderr_pipe.read_to_string(&mut text);
            let _ = err_sender.send(text);
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
            stderr,
            in_pid_namespace,
            pid: std::cell::OnceCell::new(),
        }
    }

    /// The host pid of the sandbox's first process: sudrop, or whatever the command line
    /// started (PID 1 of the namespace, the child of `unshare --fork`).
    pub fn pid(&self) -> i32 {
        *self.pid.get_or_init(|| self.find_pid())
    }

    fn find_pid(&self) -> i32 {
        if self.in_pid_namespace {
            first_child(self.child.id() as i32)
        } else {
            self.child.id() as i32
        }
    }

    /// Waits for a stdout line that contains `needle`, returning it.
    pub fn wait_for(&mut self, needle: &str) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.contains(needle)) {
            return line.clone();
        }
        let deadline = std::time::Instant::now() + TIME_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no line with {needle:?} within {TIME_LIMIT:?}; saw {:?}",
                    self.seen
                ),
            }
        }
    }

    /// Sends a signal to the sandbox's first process; false once it is gone.
    pub fn try_signal(&self, signal: i32) -> bool {
        // SAFETY: kill has no memory arguments.
        unsafe { libc::kill(self.pid(), signal) == 0 }
    }

    pub fn signal(&self, signal: i32) {
        kill(self.pid(), signal);
    }

    /// Waits for the end; returns the exit code, every stdout line and stderr.
    pub fn finish(mut self) -> (i32, Vec<String>, String) {
        let deadline = std::time::Instant::now() + TIME_LIMIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            // Bounded: a hung sandbox fails the test (and Drop kills it) instead of hanging it.
            assert!(
                std::time::Instant::now() < deadline,
                "sandbox command did not finish within {TIME_LIMIT:?}; saw {:?}",
                self.seen
            );
            std::thread::sleep(Duration::from_millis(2));
        };
        // Whatever is left in the pipe; a leftover that keeps the pipe open is bounded too.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
        {
            self.seen.push(line);
        }
        let stderr = self
            .stderr
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_default();
        (
            status.code().unwrap_or(-1),
            std::mem::take(&mut self.seen),
            stderr,
        )
    }
}

impl Drop for Running {
    /// A failed test must not leave its sandbox running. `unshare --kill-child` is not enough:
    /// it relies on a parent-death signal, which the kernel clears when sudrop changes its uid.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let first = children(self.child.id() as i32);
            for pid in first.into_iter().chain(self.pid.get().copied()) {
                // SAFETY: kill has no memory arguments.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The children of a process, from /proc (empty once it is gone).
pub fn children(pid: i32) -> Vec<i32> {
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Waits, within a bound, for a process to have a child, and returns the first.
pub fn first_child(pid: i32) -> i32 {
    let deadline = std::time::Instant::now() + TIME_LIMIT;
    loop {
        if let Some(&child) = children(pid).first() {
            return child;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "pid {pid} never had a child"
        );
        std::thread::yield_now();
    }
}

/// Sends a signal, which must be delivered.
pub fn kill(pid: i32, signal: i32) {
    // SAFETY: kill has no memory arguments.
    let result = unsafe { libc::kill(pid, signal) };
    assert_eq!(result, 0, "kill({pid}, {signal})");
}

/// Sets `key` to `value` through a redis unix socket, as any client would.
pub fn redis_set(socket: &Path, key: &str, value: &str) {
    use std::io::{Read, Write};
    let mut client = std::os::unix::net::UnixStream::connect(socket).expect("connect to redis");
    let request = format!(
        "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n{value}\r\n",
        key.len(),
        value.len()
    );
    client.write_all(request.as_bytes()).expect("SET");
    let mut reply = [0u8; 5];
    client.read_exact(&mut reply).expect("reply");
    assert_eq!(&reply, b"+OK\r\n");
}
