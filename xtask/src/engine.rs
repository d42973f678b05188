//! The container engines for the end-to-end suite (`tests/engine/`): a Docker daemon of our
//! own, started here and stopped after the suite, podman configured to run without systemd,
//! and the base images a registry would serve, made locally under the public names.
//!
//! Nothing here needs the network but `debootstrap` (Debian's archive) on the first run; the
//! Debian root file system is kept in `target/engine/` for later runs.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's engine packages and the tools that make the base images.
pub const PACKAGES: &[(&str, &str)] = &[
    ("docker.io", "/usr/sbin/dockerd"),
    ("podman", "/usr/bin/podman"),
    ("debootstrap", "/usr/sbin/debootstrap"),
    // `docker top` runs the host's ps.
    ("procps", "/usr/bin/ps"),
];

/// The Docker client of Debian's `docker.io`, whatever else is on PATH.
pub const DOCKER: &str = "/usr/bin/docker";
const PODMAN: &str = "/usr/bin/podman";
const DEBIAN_MIRROR: &str = "http://deb.debian.org/debian";

/// A running engine: what the suite is told through its environment.
pub struct Engine {
    daemon: Child,
    exec_root: PathBuf,
    pub docker_host: String,
    /// `CONTAINERS_CONF` for podman, when podman works here.
    pub podman_conf: Option<PathBuf>,
}

fn work_dir() -> PathBuf {
    crate::project_root().join("target/engine")
}

fn docker(host: &str, args: &[&str]) -> Command {
    let mut command = Command::new(DOCKER);
    command.env("DOCKER_HOST", host).args(args);
    command
}

/// Starts dockerd (its own socket, data and exec roots, so a daemon already running here is
/// left alone) with `sudrop` as its init (`--init-path`: what every `docker run --init` gets),
/// makes the base images, and configures podman. `Err` says why the suite cannot run here.
pub fn start(sudrop: &Path) -> Result<Engine, String> {
    if !crate::is_root() {
        return Err("not running as root".into());
    }
    crate::install(PACKAGES)?;
    let dir = work_dir();
    let run_dir = PathBuf::from("/run/sudrop-engine");
    let exec_root = run_dir.join("exec");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::create_dir_all(&run_dir).map_err(|e| format!("{}: {e}", run_dir.display()))?;
    let socket = run_dir.join("docker.sock");
    let docker_host = format!("unix://{}", socket.display());
    // dockerd runs its init by this path for `docker info` (`docker-init --version`): the
    // name makes sudrop answer as tini. (In a container the engine mounts the file itself at
    // /sbin/docker-init.)
    let init = dir.join("docker-init");
    let _ = std::fs::remove_file(&init);
    std::os::unix::fs::symlink(sudrop, &init).map_err(|e| format!("{}: {e}", init.display()))?;
    let log_path = dir.join("dockerd.log");
    let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let mut daemon = Command::new("/usr/sbin/dockerd");
    daemon
        .args([
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            "--storage-driver=overlay2",
        ])
        .arg(format!("--host={docker_host}"))
        .arg(format!("--init-path={}", init.display()))
        .arg(format!("--data-root={}", "/var/lib/sudrop-engine/docker"))
        .arg(format!("--exec-root={}", exec_root.display()))
        .arg(format!(
            "--pidfile={}",
            run_dir.join("dockerd.pid").display()
        ))
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log);
    // Its own session, so that a terminal's signals for the test run do not reach it.
    // SAFETY: setsid is async-signal-safe and touches no memory.
    unsafe {
        use std::os::unix::process::CommandExt;
        daemon.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    eprintln!("xtask: starting dockerd (log: {})", log_path.display());
    let daemon = daemon
        .spawn()
        .map_err(|e| format!("cannot start dockerd: {e}"))?;
    let mut engine = Engine {
        daemon,
        exec_root,
        docker_host,
        podman_conf: None,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = docker(
            &engine.docker_host,
            &["info", "--format", "{{.ServerVersion}}"],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
        if answer.is_ok_and(|s| s.success()) {
            break;
        }
        if let Ok(Some(status)) = engine.daemon.try_wait() {
            let tail = std::fs::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(5).collect();
            return Err(format!("dockerd exited ({status}): {}", tail.join(" | ")));
        }
        if Instant::now() > deadline {
            engine.stop();
            return Err("dockerd did not answer within 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if let Err(error) = make_images(&engine.docker_host) {
        engine.stop();
        return Err(error);
    }
    engine.podman_conf = match podman_setup(&dir) {
        Ok(conf) => Some(conf),
        Err(reason) => {
            eprintln!("xtask: the podman scenario will be skipped: {reason}");
            None
        }
    };
    Ok(engine)
}

impl Engine {
    /// Stops dockerd by its pid and unmounts what it may leave behind.
    pub fn stop(&mut self) {
        // SAFETY: kill has no memory arguments; the pid is our own child's.
        unsafe { libc::kill(self.daemon.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while matches!(self.daemon.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
        let netns = self.exec_root.join("netns/default");
        if netns.exists() {
            let _ = Command::new("umount").arg(&netns).status();
        }
    }
}

/// The Debian packages in the root file system beyond minbase: the servers the suite runs.
const ROOTFS_PACKAGES: &str = "redis-server,mosquitto,mosquitto-clients";

/// Whether `marker` records the current package list (what was made or imported last).
fn is_current(marker: &Path) -> bool {
    std::fs::read_to_string(marker).is_ok_and(|text| text == ROOTFS_PACKAGES)
}

/// The Debian root file system, made once by debootstrap and kept for later runs (made again
/// when the package list changed).
fn debian_rootfs(dir: &Path) -> Result<PathBuf, String> {
    let rootfs = dir.join("bookworm");
    let done = dir.join("bookworm.done");
    if is_current(&done) {
        return Ok(rootfs);
    }
    let _ = std::fs::remove_dir_all(&rootfs);
    eprintln!(
        "xtask: debootstrap bookworm (minbase, {ROOTFS_PACKAGES}) into {}",
        rootfs.display()
    );
    crate::stdout_of({
        let mut c = Command::new("/usr/sbin/debootstrap");
        c.arg("--variant=minbase")
            .arg(format!("--include={ROOTFS_PACKAGES}"))
            .arg("bookworm")
            .arg(&rootfs)
            .arg(DEBIAN_MIRROR);
        c
    })?;
    std::fs::write(&done, ROOTFS_PACKAGES).map_err(|e| e.to_string())?;
    Ok(rootfs)
}

/// Imports the root file system as `debian:bookworm-slim` into an engine unless it holds the
/// current one already (`marker` records what was imported last).
fn import_base(
    engine: &str,
    exists: bool,
    marker: &Path,
    import_command: &mut Command,
    rootfs: &Path,
) -> Result<(), String> {
    if exists && is_current(marker) {
        return Ok(());
    }
    eprintln!("xtask: {engine} import debian:bookworm-slim");
    import(import_command, rootfs)?;
    std::fs::write(marker, ROOTFS_PACKAGES).map_err(|e| e.to_string())
}

fn has_image(host: &str, name: &str) -> bool {
    docker(host, &["image", "inspect", name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `tar` of a directory into `<engine> import`.
fn import(engine: &mut Command, rootfs: &Path) -> Result<(), String> {
    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(rootfs)
        .args(["--numeric-owner", "-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("tar: {e}"))?;
    let stdout = tar.stdout.take().ok_or("tar has no stdout")?;
    let imported = engine
        .stdin(stdout)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("import: {e}"))?;
    let tarred = tar.wait().map_err(|e| e.to_string())?;
    if imported.success() && tarred.success() {
        Ok(())
    } else {
        Err(format!(
            "importing {}: {imported}, tar {tarred}",
            rootfs.display()
        ))
    }
}

/// Stand-ins for the public images the examples start from, under the same names:
/// `debian:bookworm-slim` (debootstrap, with redis-server and mosquitto), `redis:7-bookworm` (the official
/// image's layout: redis user, /data, an entrypoint ending in `exec gosu redis`) and
/// `busybox:musl` (a static busybox).
fn make_images(host: &str) -> Result<(), String> {
    let dir = work_dir();
    let rootfs = debian_rootfs(&dir)?;
    import_base(
        "docker",
        has_image(host, "debian:bookworm-slim"),
        &dir.join("bookworm.docker"),
        &mut docker(host, &["import", "-", "debian:bookworm-slim"]),
        &rootfs,
    )?;
    let images = crate::project_root().join("tests/engine/images");
    // Each context gets the host's static tool that the real image carries too.
    for (name, context, tool, path) in [
        ("redis:7-bookworm", "redis", "gosu", "/usr/sbin/gosu"),
        ("busybox:musl", "busybox", "busybox", "/bin/busybox"),
    ] {
        let context = images.join(context);
        std::fs::copy(path, context.join(tool)).map_err(|e| format!("{path}: {e}"))?;
        eprintln!("xtask: docker build {name}");
        crate::stdout_of({
            let mut c = docker(host, &["build", "-q", "-t", name]);
            c.arg(&context);
            c
        })?;
    }
    Ok(())
}

/// podman without systemd, with the host's nofile limit and no network namespace setup;
/// the stand-in images imported into its own storage.
fn podman_setup(dir: &Path) -> Result<PathBuf, String> {
    let hard_limit = |resource| {
        // SAFETY: getrlimit fills the zeroed struct it is given.
        let limit = unsafe {
            let mut limit = std::mem::zeroed::<libc::rlimit>();
            libc::getrlimit(resource, &mut limit);
            limit
        };
        limit.rlim_max
    };
    // podman's defaults (1048576 files, the kernel's process maximum) are above what this
    // machine allows, and every `podman run` fails setting them; runc here could not set more
    // than 32768 processes either.
    let nofile = hard_limit(libc::RLIMIT_NOFILE);
    let nproc = hard_limit(libc::RLIMIT_NPROC).min(32768);
    let conf = dir.join("containers.conf");
    std::fs::write(
        &conf,
        format!(
            "[containers]\ndefault_ulimits = [\"nofile={nofile}:{nofile}\", \
             \"nproc={nproc}:{nproc}\"]\nnetns = \"none\"\n\n\
             [engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    let podman = |args: &[&str]| {
        let mut c = Command::new(PODMAN);
        c.env("CONTAINERS_CONF", &conf).args(args);
        c
    };
    let has_base = podman(&["image", "exists", "debian:bookworm-slim"])
        .status()
        .is_ok_and(|s| s.success());
    import_base(
        "podman",
        has_base,
        &dir.join("bookworm.podman"),
        &mut podman(&["import", "-", "debian:bookworm-slim"]),
        &dir.join("bookworm"),
    )?;
    // Built every run (from cache when unchanged), so an edited stand-in is never stale.
    // (make_images has put gosu into this context already.)
    eprintln!("xtask: podman build redis:7-bookworm");
    let context = crate::project_root().join("tests/engine/images/redis");
    crate::stdout_of({
        let mut c = podman(&["build", "-q", "-t", "redis:7-bookworm"]);
        c.arg(&context);
        c
    })?;
    Ok(conf)
}
