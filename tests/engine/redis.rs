//! `docker stop` on redis holding 200,000 keys: does the data reach `dump.rdb`?
//!
//! redis saves on SIGTERM (its default save points are set), so the data survives exactly when
//! SIGTERM reaches redis-server and the container waits for it. The losing set-ups run beside
//! the winning ones, in the same run: a script that forgets `exec` as PID 1 (the shell ignores
//! SIGTERM, the engine kills everything at the timeout) and the same under `docker run --init`
//! (tini signals the shell alone, exits when it dies, and the kernel kills redis).

use crate::docker::{Container, Engine, HostDir, LIMIT, example_image, is_root, record, text};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KEYS: u32 = 200_000;

/// The entrypoint script that forgets `exec`: redis-server is its child, not its successor.
const FORGETS_EXEC: &str = "#!/bin/sh\nredis-server --dir /data\n";

/// How many keys redis-check-rdb reads from the dump, or 0 without one.
fn keys_in_dump(dir: &HostDir) -> u32 {
    let dump = dir.path().join("dump.rdb");
    if !dump.exists() {
        return 0;
    }
    let out = Command::new("redis-check-rdb")
        .arg(&dump)
        .output()
        .expect("redis-check-rdb (redis-tools) on the host");
    text(&out.stdout)
        .lines()
        .find_map(|line| {
            line.split_once("] ")?
                .1
                .strip_suffix(" keys read")?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

fn wait_until_ready(container: &Container) {
    let deadline = Instant::now() + LIMIT;
    loop {
        let out = container.exec(&["redis-cli", "ping"]);
        if text(&out.stdout).trim() == "PONG" {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{}: redis never answered; logs:\n{}",
            container.name,
            container.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn load_keys(container: &Container) {
    let mut load = container
        .engine
        .command(&["exec", "-i", &container.name, "redis-cli", "--pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("redis-cli --pipe");
    let mut commands = String::with_capacity(KEYS as usize * 24);
    for key in 0..KEYS {
        commands.push_str(&format!("SET key:{key} {key}\r\n"));
    }
    load.stdin
        .take()
        .expect("stdin")
        .write_all(commands.as_bytes())
        .expect("writing the keys");
    let out = load.wait_with_output().expect("redis-cli --pipe");
    assert!(
        text(&out.stdout).contains(&format!("errors: 0, replies: {KEYS}")),
        "loading: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let size = container.exec(&["redis-cli", "dbsize"]);
    assert_eq!(text(&size.stdout).trim(), KEYS.to_string());
}

/// What one set-up did on stop.
struct Outcome {
    stop: Duration,
    keys_saved: u32,
    processes: Vec<(String, String)>,
}

/// Starts redis with a bind-mounted /data, loads the keys, stops the container.
fn stop_with_keys(engine: Engine, label: &str, stop_timeout: u32, args: &[&str]) -> Outcome {
    let data = HostDir::new("redis-data");
    let script_dir = HostDir::new("redis-script");
    let script = script_dir.path().join("forgets-exec.sh");
    std::fs::write(&script, FORGETS_EXEC).expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    // redis (uid 999 in the stand-in image, as in the official one) must be able to write the dump in every set-up,
    // even where no entrypoint hands /data over.
    std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o1777)).expect("chmod");
    let image = example_image(engine, "redis");
    let volume = format!("{}:/data", data.arg());
    let script_volume = format!("{}:/scripts:ro", script_dir.arg());
    let mut all = vec!["-v", &volume, "-v", &script_volume];
    all.extend(
        args.iter()
            .map(|a| if *a == "IMAGE" { image.as_str() } else { a }),
    );
    let container = Container::start(engine, &all);
    wait_until_ready(&container);
    load_keys(&container);
    let processes = container.processes();
    let stop = container.stop(stop_timeout);
    let outcome = Outcome {
        stop,
        keys_saved: keys_in_dump(&data),
        processes,
    };
    record(&format!(
        "redis {label}: stop {:.2} s (timeout {stop_timeout} s), {} of {KEYS} keys in dump.rdb, \
         processes {:?}",
        outcome.stop.as_secs_f64(),
        outcome.keys_saved,
        outcome.processes
    ));
    outcome
}

/// `docker run --init` as Docker's stock init gives it (the suite's dockerd has sudrop as its
/// init): the stock `docker-init` (tini) mounted where the engine mounts its init and run as the
/// engine runs it, `docker-init -- ENTRYPOINT CMD`. `args` end with IMAGE, then the command.
fn stock_docker_init<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let image_at = args.iter().position(|a| *a == "IMAGE").expect("IMAGE");
    let mut all = vec![
        "-v",
        "/usr/bin/docker-init:/sbin/stock-init:ro",
        "--entrypoint",
        "/sbin/stock-init",
    ];
    all.extend_from_slice(&args[..=image_at]);
    all.push("--");
    all.extend_from_slice(&args[image_at + 1..]);
    all
}

/// sudrop's set-ups: every key saved, well inside the timeout, nothing running as root.
fn assert_saved(outcome: &Outcome, label: &str) {
    assert_eq!(outcome.keys_saved, KEYS, "{label}: keys in dump.rdb");
    assert!(
        outcome.stop < Duration::from_secs(5),
        "{label}: docker stop took {:?} of its 10 s",
        outcome.stop
    );
    assert!(
        outcome
            .processes
            .iter()
            .any(|(_, args)| args.contains("redis-server")),
        "{label}: redis-server not among {:?}",
        outcome.processes
    );
    assert!(
        outcome.processes.iter().all(|(user, _)| !is_root(user)),
        "{label}: a process runs as root: {:?}",
        outcome.processes
    );
}

#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn exec_mode_redis_is_pid_1_and_saves_on_docker_stop() {
    let outcome = stop_with_keys(
        Engine::Docker,
        "exec mode as PID 1 (--entrypoint sudrop redis redis-server)",
        10,
        &[
            "--entrypoint",
            "sudrop",
            "IMAGE",
            "redis",
            "redis-server",
            "--dir",
            "/data",
        ],
    );
    assert_saved(&outcome, "exec mode");
}

#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn init_mode_saves_when_the_script_forgets_exec() {
    let outcome = stop_with_keys(
        Engine::Docker,
        "ENTRYPOINT sudrop --init redis, script without exec",
        10,
        &[
            "--entrypoint",
            "sudrop",
            "IMAGE",
            "--init",
            "redis",
            "/scripts/forgets-exec.sh",
        ],
    );
    assert_saved(&outcome, "sudrop --init, script without exec");
}

#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn official_entrypoint_with_exec_sudrop_init_saves() {
    let outcome = stop_with_keys(
        Engine::Docker,
        "official-style entrypoint, exec sudrop --init redis (Dockerfile.redis as shipped)",
        10,
        &["IMAGE"],
    );
    assert_saved(&outcome, "official entrypoint with sudrop");
}

/// The README's comparison, measured: without an init, or with tini, the same script loses the
/// data. A short timeout: the outcome does not depend on it.
#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn without_sudrop_the_script_that_forgets_exec_loses_the_data() {
    let no_init = stop_with_keys(
        Engine::Docker,
        "no init, script without exec as PID 1",
        3,
        &[
            "--user",
            "redis",
            "--entrypoint",
            "/scripts/forgets-exec.sh",
            "IMAGE",
        ],
    );
    let tini = stop_with_keys(
        Engine::Docker,
        "Docker's stock init (tini), script without exec",
        3,
        &stock_docker_init(&["--user", "redis", "IMAGE", "/scripts/forgets-exec.sh"]),
    );
    assert_eq!(
        no_init.keys_saved, 0,
        "no init: the shell as PID 1 ignores SIGTERM"
    );
    assert!(
        no_init.stop >= Duration::from_secs(3),
        "no init: stopped only by the timeout's SIGKILL, took {:?}",
        no_init.stop
    );
    assert_eq!(
        tini.keys_saved, 0,
        "tini signals the shell alone; redis is killed unsaved"
    );
}

#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn podman_stop_saves_with_the_official_style_entrypoint() {
    if std::env::var_os("SUDROP_ENGINE_PODMAN_CONF").is_none() {
        panic!("podman was not set up by cargo xtask test (see its output for why)");
    }
    let outcome = stop_with_keys(
        Engine::Podman,
        "podman, official-style entrypoint with exec sudrop --init redis",
        10,
        &["IMAGE"],
    );
    assert_eq!(outcome.keys_saved, KEYS, "podman: keys in dump.rdb");
    assert!(
        outcome.stop < Duration::from_secs(5),
        "podman stop took {:?}",
        outcome.stop
    );
    assert!(
        outcome.processes.iter().all(|(user, _)| !is_root(user)),
        "{:?}",
        outcome.processes
    );
}

/// dockerd's `--init-path` is sudrop: every `docker run --init` gets sudrop as tini. The script
/// that forgets `exec` keeps every key, where the stock init (the control, same run) loses
/// them all.
#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn docker_run_init_with_sudrop_as_the_engines_init_saves_what_the_stock_init_loses() {
    let args = ["--user", "redis", "IMAGE", "/scripts/forgets-exec.sh"];
    let mut with_sudrop = vec!["--init"];
    with_sudrop.extend_from_slice(&args);
    let sudrop = stop_with_keys(
        Engine::Docker,
        "docker run --init, sudrop as dockerd's init-path, script without exec",
        10,
        &with_sudrop,
    );
    assert_saved(&sudrop, "sudrop as the engine's init");
    assert!(
        sudrop
            .processes
            .iter()
            .any(|(_, args)| args.starts_with("/sbin/docker-init")),
        "the engine's init is PID 1: {:?}",
        sudrop.processes
    );
    let stock = stop_with_keys(
        Engine::Docker,
        "Docker's stock init (tini), script without exec, the control",
        10,
        &stock_docker_init(&args),
    );
    assert_eq!(stock.keys_saved, 0, "the stock init loses the keys");
}

/// An official-style entrypoint under `docker run --init` with sudrop as the engine's init:
/// the init changed nothing, so the script still runs as root, hands /data over with chown,
/// and steps down itself with `exec gosu redis` (the real gosu in this image).
#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn the_official_style_entrypoint_does_its_root_setup_under_sudrop_as_the_engines_init() {
    let outcome = stop_with_keys(
        Engine::Docker,
        "docker run --init (sudrop as init-path), official-style entrypoint with gosu",
        10,
        &["--init", "redis:7-bookworm"],
    );
    // The engine's init stays what the engine started (root here, as tini would be); the
    // entrypoint stepped redis down itself.
    assert_eq!(outcome.keys_saved, KEYS, "keys in dump.rdb");
    assert!(
        outcome.stop < Duration::from_secs(5),
        "stop took {:?}",
        outcome.stop
    );
    assert!(
        outcome.processes.iter().any(|(user, args)| is_root(user)
            && args.starts_with("/sbin/docker-init -- docker-entrypoint.sh")),
        "the engine's init as PID 1: {:?}",
        outcome.processes
    );
    assert!(
        outcome
            .processes
            .iter()
            .all(|(user, args)| args.starts_with("/sbin/docker-init") || !is_root(user)),
        "only the init runs as root; redis as its own user: {:?}",
        outcome.processes
    );
}

/// podman's per-container `--init-path`, with its stock init (catatonit) as the control.
#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn podman_run_init_path_sudrop_saves_what_catatonit_loses() {
    if std::env::var_os("SUDROP_ENGINE_PODMAN_CONF").is_none() {
        panic!("podman was not set up by cargo xtask test (see its output for why)");
    }
    let sudrop = crate::docker::static_sudrop();
    let init_path = format!("--init-path={}", sudrop.display());
    let args = [
        "--user",
        "redis",
        "--entrypoint",
        "/scripts/forgets-exec.sh",
    ];
    let mut with_sudrop = vec!["--init", init_path.as_str()];
    with_sudrop.extend_from_slice(&args);
    with_sudrop.push("redis:7-bookworm");
    let outcome = stop_with_keys(
        Engine::Podman,
        "podman run --init --init-path sudrop, script without exec",
        10,
        &with_sudrop,
    );
    assert_eq!(outcome.keys_saved, KEYS, "podman with sudrop as init");
    let mut stock = vec!["--init"];
    stock.extend_from_slice(&args);
    stock.push("redis:7-bookworm");
    let control = stop_with_keys(
        Engine::Podman,
        "podman run --init (catatonit), script without exec, the control",
        10,
        &stock,
    );
    assert_eq!(control.keys_saved, 0, "catatonit loses the keys");
}
