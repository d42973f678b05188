//! Entrypoint scripts in the shape the official server images use (written here, never copied),
//! with sudrop installed under the dropper's name they call: as `gosu` for redis and Debian's
//! mosquitto, as `su-exec` on a busybox image. Each: root setup, the script running itself
//! again as the service user through the dropper, the server as PID 1 and its own user, a
//! clean stop that saves, the data there after a restart, and `docker run --user` honoured.

use crate::docker::{Container, Engine, HostDir, LIMIT, image_from, is_root, record, text};
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

const IMAGES: &str = "tests/engine/images/official-style";

fn image(name: &str) -> String {
    image_from(
        Engine::Docker,
        &format!("{IMAGES}/Dockerfile.{name}"),
        &format!("sudrop-official-style-{name}"),
    )
}

/// Retries `probe` in the container until its output holds `wanted` (bounded).
fn wait_until(container: &Container, probe: &[&str], wanted: &str) -> String {
    let deadline = Instant::now() + LIMIT;
    loop {
        let out = container.exec(probe);
        let seen = text(&out.stdout) + &text(&out.stderr);
        if seen.contains(wanted) {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "{}: {probe:?} never gave {wanted:?} (last: {seen}); logs:\n{}",
            container.name,
            container.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// PID 1's name inside the container.
fn pid_1(container: &Container) -> String {
    text(&container.exec(&["cat", "/proc/1/comm"]).stdout)
        .trim()
        .to_string()
}

fn assert_unprivileged(container: &Container, label: &str) {
    let processes = container.processes();
    assert!(
        !processes.is_empty() && processes.iter().all(|(user, _)| !is_root(user)),
        "{label}: {processes:?}"
    );
}

/// The image started again on the same volume, then as `docker run --user USER` (the script
/// skips its root part and runs as it is): `probe` finds `wanted`, PID 1 is `server`, and
/// nothing runs as root.
fn restarts_with_the_data(
    image: &str,
    volume: &str,
    user: &str,
    probe: &[&str],
    wanted: &str,
    server: &str,
) {
    for as_user in [None, Some(user)] {
        let mut args = vec!["-v", volume];
        if let Some(user) = as_user {
            args.extend(["--user", user]);
        }
        args.push(image);
        let label = format!("restarted, --user {as_user:?}");
        let again = Container::start(Engine::Docker, &args);
        wait_until(&again, probe, wanted);
        assert_eq!(pid_1(&again), server, "{label}");
        assert_unprivileged(&again, &label);
    }
}

#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn redis_official_style_entrypoint_with_sudrop_as_gosu() {
    let image = image("redis");
    // Root's and closed: only the entrypoint's chown lets redis write its dump.
    let data = HostDir::new("official-redis");
    let volume = format!("{}:/data", data.arg());
    let container = Container::start(Engine::Docker, &["-v", &volume, &image]);
    wait_until(&container, &["redis-cli", "ping"], "PONG");
    assert_eq!(pid_1(&container), "redis-server", "{}", container.logs());
    assert_unprivileged(&container, "redis as gosu'd");
    let set = container.exec(&["redis-cli", "set", "kept", "yes"]);
    assert!(text(&set.stdout).contains("OK"), "{set:?}");
    let stop = container.stop(10);
    assert!(stop < Duration::from_secs(5), "stop took {stop:?}");
    assert_eq!(container.exit_code(), 0, "{}", container.logs());
    let dump = std::fs::metadata(data.path().join("dump.rdb")).expect("dump.rdb saved");
    assert_ne!(dump.uid(), 0, "the dump is redis's");
    assert_eq!(dump.mode() & 0o077, 0, "the entrypoint's umask 0077");
    // Restarted from the same volume, then as `docker run --user redis` (the script skips
    // its root part and runs as it is).
    restarts_with_the_data(
        &image,
        &volume,
        "redis",
        &["redis-cli", "get", "kept"],
        "yes",
        "redis-server",
    );
    record(&format!(
        "official-style redis entrypoint, sudrop as gosu: PID 1 redis-server as redis, stop \
         {:.2} s, key there after restart and under --user",
        stop.as_secs_f64()
    ));
}

#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn mosquitto_official_style_entrypoint_with_sudrop_as_gosu() {
    let image = image("mosquitto");
    let data = HostDir::new("official-mosquitto");
    let volume = format!("{}:/mosquitto/data", data.arg());
    let publish = [
        "mosquitto_pub",
        "-h",
        "127.0.0.1",
        "-r",
        "-t",
        "sudrop/kept",
        "-m",
        "retained",
    ];
    let subscribe = [
        "mosquitto_sub",
        "-h",
        "127.0.0.1",
        "-t",
        "sudrop/kept",
        "-C",
        "1",
        "-W",
        "5",
    ];
    let container = Container::start(Engine::Docker, &["-v", &volume, &image]);
    // Ready when a retained message is accepted (the broker's own client, inside).
    let deadline = Instant::now() + LIMIT;
    while !container.exec(&publish).status.success() {
        assert!(Instant::now() < deadline, "{}", container.logs());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(pid_1(&container), "mosquitto", "{}", container.logs());
    assert_unprivileged(&container, "mosquitto as gosu'd");
    let stop = container.stop(10);
    assert!(stop < Duration::from_secs(5), "stop took {stop:?}");
    let saved = std::fs::metadata(data.path().join("mosquitto.db")).expect("mosquitto.db");
    assert_ne!(saved.uid(), 0, "the broker's file is mosquitto's");
    restarts_with_the_data(
        &image,
        &volume,
        "mosquitto",
        &subscribe,
        "retained",
        "mosquitto",
    );
    record(&format!(
        "official-style mosquitto entrypoint, sudrop as gosu: PID 1 mosquitto as mosquitto, \
         stop {:.2} s, retained message there after restart and under --user",
        stop.as_secs_f64()
    ));
}

#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn busybox_entrypoint_with_sudrop_as_su_exec() {
    let image = image("busybox");
    let data = HostDir::new("official-busybox");
    let volume = format!("{}:/data", data.arg());
    let container = Container::start(Engine::Docker, &["-v", &volume, &image]);
    container.wait_for_log("ready");
    assert_eq!(pid_1(&container), "service.sh", "{}", container.logs());
    assert_unprivileged(&container, "busybox service as su-exec'd");
    let stop = container.stop(10);
    assert!(stop < Duration::from_secs(5), "stop took {stop:?}");
    assert_eq!(container.exit_code(), 0, "{}", container.logs());
    let again = Container::start(Engine::Docker, &["-v", &volume, &image]);
    again.wait_for_log("ready");
    drop(again);
    let journal = std::fs::read_to_string(data.path().join("journal")).expect("journal");
    assert!(
        journal.starts_with("start 10001\nclean stop 10001\nstart 10001\n"),
        "{journal}"
    );
    record(&format!(
        "busybox entrypoint, sudrop as su-exec: PID 1 the service as 10001, clean stop {:.2} s, \
         journal kept across a restart",
        stop.as_secs_f64()
    ));
}
