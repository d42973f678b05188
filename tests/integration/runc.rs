//! End to end under a real OCI runtime: runc runs sudrop as a container's process, with
//! Docker's default capability set, and stops the container as `docker stop` would.

use crate::databases::{GROUP, PASSWD};
use crate::sandbox::{REDIS, redis_set, root_or_skip, sudrop_binary};
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(60);

/// Docker's default capabilities (runc's own default lacks SETUID and SETGID).
const DOCKER_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

const REDIS_ARGS: &[&str] = &[
    "redis-server",
    "--port",
    "0",
    "--unixsocket",
    "/data/redis.sock",
    "--dir",
    "/data",
    "--save",
    "3600 1",
    "--logfile",
    "",
];

fn json_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|i| format!("\"{}\"", i.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("[{}]", quoted.join(", "))
}

fn runc(args: &[&str]) -> Output {
    Command::new("runc").args(args).output().expect("run runc")
}

/// A bundle directory and the container made from it, deleted when dropped.
struct Container {
    id: String,
    bundle: PathBuf,
    log: PathBuf,
}

impl Container {
    fn new(name: &str, args: &[&str]) -> Container {
        let id = format!("sudrop-e2e-{name}-{}", std::process::id());
        let bundle = Path::new(env!("CARGO_TARGET_TMPDIR")).join(&id);
        let _ = fs::remove_dir_all(&bundle);
        let rootfs = bundle.join("rootfs");
        for dir in [
            "bin", "etc", "data", "proc", "dev", "sys", "tmp", "usr", "lib", "lib64", "root",
        ] {
            fs::create_dir_all(rootfs.join(dir)).expect("mkdir");
        }
        fs::copy("/bin/busybox", rootfs.join("bin/busybox")).expect("busybox");
        for applet in ["sh", "cat", "echo", "sleep", "id", "ps"] {
            symlink("busybox", rootfs.join("bin").join(applet)).expect("applet");
        }
        fs::copy(sudrop_binary(), rootfs.join("bin/sudrop")).expect("sudrop");
        fs::write(
            rootfs.join("etc/passwd"),
            format!("{PASSWD}redis:x:999:999::/data:/bin/sh\n"),
        )
        .expect("passwd");
        fs::write(rootfs.join("etc/group"), format!("{GROUP}redis:x:999:\n")).expect("group");
        let entrypoint = rootfs.join("entrypoint.sh");
        let script = format!(
            "#!/bin/sh\necho entrypoint: starting redis\n{}\necho entrypoint: redis ended with $?\n",
            shell_words(REDIS_ARGS)
        );
        fs::write(&entrypoint, script).expect("entrypoint");
        fs::set_permissions(&entrypoint, fs::Permissions::from_mode(0o755)).expect("chmod");
        fs::set_permissions(rootfs.join("tmp"), fs::Permissions::from_mode(0o1777)).expect("chmod");
        nix::unistd::chown(
            &rootfs.join("data"),
            Some(nix::unistd::Uid::from_raw(999)),
            Some(nix::unistd::Gid::from_raw(999)),
        )
        .expect("chown");

        let caps = json_list(DOCKER_CAPS);
        let config = format!(
            r#"{{
  "ociVersion": "1.0.2",
  "process": {{
    "terminal": false,
    "user": {{ "uid": 0, "gid": 0 }},
    "args": {args},
    "env": ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/root"],
    "cwd": "/",
    "capabilities": {{ "bounding": {caps}, "effective": {caps}, "permitted": {caps} }},
    "noNewPrivileges": false
  }},
  "root": {{ "path": "rootfs", "readonly": false }},
  "hostname": "sudrop-e2e",
  "mounts": [
    {{ "destination": "/proc", "type": "proc", "source": "proc" }},
    {{ "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] }},
    {{ "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] }},
    {{ "destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] }},
    {{ "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"] }},
    {{ "destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro"] }},
    {{ "destination": "/lib", "type": "bind", "source": "/lib", "options": ["rbind", "ro"] }},
    {{ "destination": "/lib64", "type": "bind", "source": "/lib64", "options": ["rbind", "ro"] }}
  ],
  "linux": {{
    "namespaces": [{{ "type": "pid" }}, {{ "type": "ipc" }}, {{ "type": "uts" }}, {{ "type": "mount" }}, {{ "type": "network" }}],
    "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }}
}}"#,
            args = json_list(args)
        );
        fs::write(bundle.join("config.json"), config).expect("config.json");
        let log = bundle.join("container.log");
        Container { id, bundle, log }
    }

    /// `runc run --detach`: the container's stdout and stderr go to the log file.
    fn start(&self) {
        let log = fs::File::create(&self.log).expect("log");
        let status = Command::new("runc")
            .args(["run", "--detach", "--bundle"])
            .arg(&self.bundle)
            .arg(&self.id)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().expect("dup"))
            .stderr(log)
            .status()
            .expect("runc run");
        assert!(status.success(), "runc run failed: {}", self.log_text());
    }

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits, within a bound, for the log to contain `needle`; the log has no other event.
    fn wait_for_log(&self, needle: &str) {
        let deadline = Instant::now() + LIMIT;
        while !self.log_text().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in the log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_until_stopped(&self) {
        let deadline = Instant::now() + LIMIT;
        loop {
            let state = String::from_utf8_lossy(&runc(&["state", &self.id]).stdout).into_owned();
            if state.contains("\"status\": \"stopped\"") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "container still running: {state}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The uid of every process in the container, from `runc ps`.
    fn process_uids(&self) -> Vec<(u32, String)> {
        // runc needs a PID column (with its header) to pick the container's processes.
        let out = runc(&["ps", &self.id, "-e", "-o", "uid,pid,args"]);
        assert!(
            out.status.success(),
            "runc ps: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .skip(1)
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                let uid = words.next()?.parse().ok()?;
                let _pid = words.next()?;
                Some((uid, words.collect::<Vec<_>>().join(" ")))
            })
            .collect()
    }

    fn data(&self, path: &str) -> PathBuf {
        self.bundle.join("rootfs/data").join(path)
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = runc(&["delete", "--force", &self.id]);
        let _ = fs::remove_dir_all(&self.bundle);
    }
}

fn shell_words(words: &[&str]) -> String {
    words
        .iter()
        .map(|w| {
            if w.is_empty() || w.contains(' ') {
                format!("'{w}'")
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn runc_or_skip(test: &str) -> bool {
    if !root_or_skip(test) {
        return false;
    }
    let missing = ["runc", "/bin/busybox", REDIS].iter().find(|tool| {
        if tool.starts_with('/') {
            !Path::new(tool).exists()
        } else {
            Command::new(tool).arg("--version").output().is_err()
        }
    });
    match missing {
        None => true,
        Some(tool) => {
            assert!(
                std::env::var_os("SUDROP_REQUIRE_ROOT_TESTS").is_none(),
                "{test}: {tool} is not installed"
            );
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {tool} is not installed");
            false
        }
    }
}

fn write_key(container: &Container) {
    redis_set(&container.data("redis.sock"), "key", "saved-by-e2e");
}

/// `runc kill TERM`, then: stopped, redis said it saved, the RDB holds the key, owned by redis.
fn stop_and_check_saved(container: &Container) {
    let out = runc(&["kill", &container.id, "TERM"]);
    assert!(
        out.status.success(),
        "runc kill: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    container.wait_until_stopped();
    let log = container.log_text();
    assert!(log.contains("DB saved on disk"), "{log}");
    let rdb = fs::metadata(container.data("dump.rdb")).expect("dump.rdb exists");
    assert_eq!(
        std::os::unix::fs::MetadataExt::uid(&rdb),
        999,
        "owned by redis"
    );
    let data = fs::read(container.data("dump.rdb")).expect("read dump.rdb");
    assert!(
        data.windows(12).any(|w| w == b"saved-by-e2e"),
        "the key is in the RDB file"
    );
}

#[test]
fn runc_exec_mode_makes_redis_pid_1_and_stops_it_cleanly() {
    if !runc_or_skip("runc_exec_mode_makes_redis_pid_1_and_stops_it_cleanly") {
        return;
    }
    let args: Vec<&str> = ["/bin/sudrop", "redis"]
        .iter()
        .chain(REDIS_ARGS)
        .copied()
        .collect();
    let container = Container::new("exec", &args);
    container.start();
    container.wait_for_log("ready to accept connections");
    write_key(&container);
    let processes = container.process_uids();
    assert_eq!(processes.len(), 1, "redis alone, as PID 1: {processes:?}");
    assert!(processes[0].1.starts_with("redis-server"), "{processes:?}");
    assert!(
        processes.iter().all(|(uid, _)| *uid == 999),
        "a root process: {processes:?}"
    );
    stop_and_check_saved(&container);
}

#[test]
fn runc_init_mode_saves_redis_data_when_the_entrypoint_forgot_exec() {
    if !runc_or_skip("runc_init_mode_saves_redis_data_when_the_entrypoint_forgot_exec") {
        return;
    }
    let container = Container::new(
        "init",
        &["/bin/sudrop", "--init", "redis", "/entrypoint.sh"],
    );
    container.start();
    container.wait_for_log("ready to accept connections");
    write_key(&container);
    let processes = container.process_uids();
    assert_eq!(
        processes.len(),
        3,
        "sudrop, the entrypoint shell and redis: {processes:?}"
    );
    assert!(
        processes.iter().all(|(uid, _)| *uid == 999),
        "a root process: {processes:?}"
    );
    stop_and_check_saved(&container);
}
