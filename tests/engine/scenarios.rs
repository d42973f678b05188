//! The shipped examples, a terminal through the engine, `docker exec`, the runtimes' `--user`,
//! and the options whose natural proof is an engine.

use crate::docker::{
    Container, Engine, HostDir, LIMIT, docker, docker_host, example_image, is_root, record, text,
};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::{Duration, Instant};

/// The Debian example image, with sudrop as the entrypoint instead of the script.
fn debian() -> String {
    example_image(Engine::Docker, "debian-slim")
}

/// `docker run --rm --entrypoint sudrop IMAGE ARGS...` with extra `docker run` options first.
fn run_sudrop(docker_options: &[&str], args: &[&str]) -> std::process::Output {
    let image = debian();
    let mut all = vec!["run", "--rm"];
    all.extend_from_slice(docker_options);
    all.extend_from_slice(&["--entrypoint", "sudrop", &image]);
    all.extend_from_slice(args);
    docker(&all)
}

fn app_uid() -> String {
    let out = run_sudrop(&[], &["app", "id", "-u"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim().to_string()
}

#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn scratch_example_serves_http_as_app() {
    let image = example_image(Engine::Docker, "scratch");
    let container = Container::start(Engine::Docker, &[&image]);
    // No shell in the image: busybox, which is the application, fetches its own page.
    let deadline = Instant::now() + LIMIT;
    let page = loop {
        let out = container.exec(&["/bin/busybox", "wget", "-qO-", "http://127.0.0.1:8080/"]);
        if out.status.success() {
            break text(&out.stdout);
        }
        assert!(
            Instant::now() < deadline,
            "httpd never answered: {}",
            container.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(page.contains("served by an unprivileged httpd"), "{page}");
    let processes = container.processes();
    assert!(
        processes
            .iter()
            .any(|(uid, args)| uid == "10001" && args.contains("httpd")),
        "{processes:?}"
    );
    assert!(
        processes.iter().all(|(uid, _)| !is_root(uid)),
        "{processes:?}"
    );
    let stop = container.stop(10);
    // httpd dies of the forwarded SIGTERM; the init reports it as 128 + 15.
    assert_eq!(container.exit_code(), 143, "{}", container.logs());
    assert!(stop < Duration::from_secs(5), "stop took {stop:?}");
    record(&format!(
        "scratch example: httpd as 10001, stop {:.2} s",
        stop.as_secs_f64()
    ));
}

#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn debian_example_runs_as_root_and_as_app() {
    let image = debian();
    // As shipped: the root entrypoint prepares /home/app/data, then sudrop --init app.
    let container = Container::start(Engine::Docker, &[&image]);
    container.wait_for_log("running as app in /home/app");
    let owner = container.exec(&["stat", "-c", "%U", "/home/app/data"]);
    assert_eq!(text(&owner.stdout).trim(), "app");
    let processes = container.processes();
    assert!(
        processes.iter().all(|(uid, _)| !is_root(uid)),
        "{processes:?}"
    );
    let stop = container.stop(10);
    assert!(stop < Duration::from_secs(5), "stop took {stop:?}");
    assert!(container.logs().contains("stopped"), "{}", container.logs());
    assert_eq!(container.exit_code(), 0);
    // Already app (`--user app`, as Kubernetes runAsUser would start it): the guarded set-up
    // is skipped and sudrop simply execs.
    let out = docker(&["run", "--rm", "--user", "app", &image, "id", "-un"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "app");
    record(&format!(
        "debian-slim example: stop {:.2} s",
        stop.as_secs_f64()
    ));
}

/// A new session on a fresh pty with `docker run -it` in it; Ctrl-C typed into the terminal
/// goes through the engine to the container's terminal, whose foreground job is the command.
#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn ctrl_c_through_docker_run_it_ends_the_command_with_130() {
    let image = debian();
    let (mut master, slave) = crate::pty::open();
    let mut command = Command::new(crate::docker::DOCKER);
    command
        .env("DOCKER_HOST", docker_host())
        .args(["run", "-it", "--rm", "--entrypoint", "sudrop", &image])
        .args([
            "--init",
            "app",
            "sh",
            "-c",
            "echo READY; read line; echo GOT-$line; sleep 100",
        ]);
    crate::pty::attach(&mut command, &slave);
    let mut child = command.spawn().expect("docker run -it");
    drop(slave);
    let mut seen = String::new();
    read_until(&mut master, &mut seen, "READY");
    // The client puts the terminal into raw mode on its own schedule, possibly after the
    // container's first output: until then a typed Ctrl-C would signal the client itself.
    wait_for_raw_mode(&master);
    // Readiness of the whole input path, not a guess at it: a line typed now must reach the
    // command through the client, the engine and the container's terminal. Only then is
    // Ctrl-C typed, down the same path. (Typed as soon as the output showed READY, it was
    // lost once in fifteen runs: the client can show output before it forwards input.)
    use std::io::Write;
    master.write_all(b"ok\r").expect("typing a line");
    read_until(&mut master, &mut seen, "GOT-ok");
    let mut typist = master.try_clone().expect("dup master");
    typist.write_all(b"\x03").expect("typing Ctrl-C");
    // Keep draining the terminal so the client never blocks on a full buffer, and keep what
    // it showed for the failure message.
    let screen = std::sync::Arc::new(std::sync::Mutex::new(seen));
    let shown = screen.clone();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 512];
        while let Ok(n) = master.read(&mut buffer) {
            if n == 0 {
                break;
            }
            if let Ok(mut shown) = shown.lock() {
                shown.push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        }
    });
    // A typed Ctrl-C was lost in the engine about once in twenty runs, after the input path
    // had just carried a line (the cause is not established; the container never saw SIGINT).
    // So, after ten seconds, a second one: still a Ctrl-C typed at the terminal, down the
    // same path, and the results say that it was needed.
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().expect("wait").is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if child.try_wait().expect("wait").is_none() {
        crate::docker::record("docker run -it: the first Ctrl-C was lost; a second one was typed");
        typist.write_all(b"\x03").expect("typing Ctrl-C again");
    }
    let code = crate::support::wait_bounded(&mut child, LIMIT);
    let screen = screen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(
        code, 130,
        "docker run -it after Ctrl-C; the terminal showed {screen:?}"
    );
}

/// Reads the terminal into `seen` until it holds `needle`, within [`LIMIT`] (the read itself
/// blocks; a container that says nothing more ends the test at the engine's own limit).
fn read_until(master: &mut std::fs::File, seen: &mut String, needle: &str) {
    let deadline = Instant::now() + LIMIT;
    while !seen.contains(needle) {
        assert!(Instant::now() < deadline, "never saw {needle:?}: {seen:?}");
        let mut buffer = [0u8; 512];
        match master.read(&mut buffer) {
            Ok(0) | Err(_) => panic!("the terminal closed early: {seen:?}"),
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buffer[..n])),
        }
    }
}

/// Waits (bounded) until the terminal no longer turns Ctrl-C into a signal of its own.
fn wait_for_raw_mode(master: &std::fs::File) {
    let deadline = Instant::now() + LIMIT;
    loop {
        // SAFETY: tcgetattr fills the zeroed termios it is given; the descriptor is open.
        let local_flags = unsafe {
            let mut settings = std::mem::zeroed::<libc::termios>();
            assert_eq!(
                libc::tcgetattr(master.as_raw_fd(), &mut settings),
                0,
                "tcgetattr"
            );
            settings.c_lflag
        };
        if local_flags & libc::ISIG == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "docker never made the terminal raw"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `docker exec` of `sudrop --init` in a running container: not PID 1, it is the subreaper
/// of what the command leaves behind, and ends it before exiting.
#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn docker_exec_of_sudrop_init_leaves_nothing_behind() {
    let image = debian();
    let container = Container::start(Engine::Docker, &[&image]);
    container.wait_for_log("running as app");
    // The shell starts an orphan and exits at once; the orphan would outlive a plain exec.
    let out = container.exec(&[
        "sudrop",
        "--verbose",
        "--grace",
        "5s",
        "--init",
        "app",
        "sh",
        "-c",
        "sleep 1234 & echo orphan $!",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("orphan"),
        "{}",
        text(&out.stdout)
    );
    let processes = container.processes();
    assert!(
        !processes
            .iter()
            .any(|(_, args)| args.contains("sleep 1234")),
        "an orphan outlived sudrop --init: {processes:?}"
    );
    // The contrast: without sudrop the orphan survives the exec.
    let plain = container.exec(&["sh", "-c", "sleep 4321 & echo started"]);
    assert!(plain.status.success());
    let processes = container.processes();
    assert!(
        processes
            .iter()
            .any(|(_, args)| args.contains("sleep 4321")),
        "{processes:?}"
    );
}

/// OpenShift's random uid (in group 0, as OpenShift runs it): without the privilege to switch,
/// `--if-privileged` runs the command as the caller when the target is in group 0 too (as
/// OpenShift asks of images); for a target outside group 0, and without the flag, that is an
/// error (125): the fallback never adds group 0, nor root.
#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn random_uid_with_if_privileged_and_matching_user() {
    let out = run_sudrop(
        &["--user", "1000650000"],
        &["--if-privileged", "app:0", "id", "-u"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "1000650000");
    for args in [
        &["--if-privileged", "app", "id", "-u"][..],
        &["app:0", "id", "-u"][..],
    ] {
        let refused = run_sudrop(&["--user", "1000650000"], args);
        assert_eq!(
            (refused.status.code(), text(&refused.stdout).as_str()),
            (Some(125), ""),
            "{args:?}: {}",
            text(&refused.stderr)
        );
    }
    // Root without CAP_SETUID and CAP_SETGID is never a fallback either.
    let refused = run_sudrop(
        &["--cap-drop", "SETUID", "--cap-drop", "SETGID"],
        &["--if-privileged", "app", "id", "-u"],
    );
    assert_eq!(
        (refused.status.code(), text(&refused.stdout).as_str()),
        (Some(125), ""),
        "{}",
        text(&refused.stderr)
    );
    // Kubernetes style: the pod already runs as the target's uid; nothing needs to change.
    let uid = app_uid();
    let out = run_sudrop(&["--user", &uid], &["app", "id", "-un"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "app");
}

/// `--stop-delay` holds the first SIGTERM of `docker stop -t`, inside its grace period.
#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn stop_delay_holds_docker_stops_sigterm() {
    let image = debian();
    let container = Container::start(
        Engine::Docker,
        &[
            "--entrypoint",
            "sudrop",
            &image,
            "--init",
            "--stop-delay",
            "2s",
            "app",
            "sh",
            "-c",
            "trap 'echo TERM-RECEIVED; exit 0' TERM; echo READY; while :; do sleep 0.1; done",
        ],
    );
    container.wait_for_log("READY");
    let stop = container.stop(8);
    assert!(
        stop >= Duration::from_secs(2),
        "SIGTERM was not held: {stop:?}"
    );
    assert!(
        stop < Duration::from_secs(7),
        "the SIGKILL came instead: {stop:?}"
    );
    assert!(
        container.logs().contains("TERM-RECEIVED"),
        "{}",
        container.logs()
    );
    assert_eq!(container.exit_code(), 0);
    record(&format!(
        "--stop-delay 2s under docker stop -t 8: stopped after {:.2} s",
        stop.as_secs_f64()
    ));
}

/// The engine's stdout is a pipe owned by root: sudrop hands it to the target, so an
/// application that opens /dev/stdout after the drop can write its log (moby issue 31243).
#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn application_opening_dev_stdout_after_the_drop() {
    let out = run_sudrop(
        &[],
        &["app", "sh", "-c", "echo via-dev-stdout > /dev/stdout"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "via-dev-stdout");
    let kept = run_sudrop(
        &[],
        &[
            "--keep-stdio-owner",
            "app",
            "sh",
            "-c",
            "echo x > /dev/stdout",
        ],
    );
    assert!(
        !kept.status.success(),
        "without the hand-over the open is refused"
    );
    assert!(
        text(&kept.stderr).contains("Permission denied"),
        "{}",
        text(&kept.stderr)
    );
}

/// A socket bind-mounted from the host, owned by a group the image does not know:
/// `--group-of` adds that group, and only then may the application write to it.
#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn group_of_a_bind_mounted_socket() {
    let dir = HostDir::new("socket");
    let socket = dir.path().join("service.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).expect("bind");
    std::os::unix::fs::chown(&socket, Some(0), Some(4242)).expect("chown");
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o660)).expect("chmod");
    let volume = format!("{}:/run/service.sock", socket.display());
    let check = "id -G; if test -w /run/service.sock; then echo writable; else echo refused; fi";
    let with = run_sudrop(
        &["-v", &volume],
        &["--group-of", "/run/service.sock", "app", "sh", "-c", check],
    );
    assert!(with.status.success(), "{}", text(&with.stderr));
    let with = text(&with.stdout);
    assert!(with.split_whitespace().any(|g| g == "4242"), "{with}");
    assert!(with.contains("writable"), "{with}");
    let without = run_sudrop(&["-v", &volume], &["app", "sh", "-c", check]);
    assert!(
        text(&without.stdout).contains("refused"),
        "{}",
        text(&without.stdout)
    );
    let added = run_sudrop(
        &["-v", &volume],
        &["--group-add", "4242", "app", "sh", "-c", check],
    );
    assert!(
        text(&added.stdout).contains("writable"),
        "{}",
        text(&added.stdout)
    );
}

/// `--ulimit` against the limits the engine set: lowering works; raising a hard limit needs
/// CAP_SYS_RESOURCE, which Docker's default set lacks, so it fails closed with 125.
#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn ulimit_against_the_engines_limits() {
    let engine_limit = ["--ulimit", "nofile=1024:2048"];
    let lowered = run_sudrop(
        &engine_limit,
        &[
            "--ulimit",
            "nofile=256:512",
            "app",
            "sh",
            "-c",
            "ulimit -Sn; ulimit -Hn",
        ],
    );
    assert!(lowered.status.success(), "{}", text(&lowered.stderr));
    assert_eq!(
        text(&lowered.stdout).split_whitespace().collect::<Vec<_>>(),
        ["256", "512"]
    );
    let raised = run_sudrop(&engine_limit, &["--ulimit", "nofile=4096", "app", "true"]);
    assert_eq!(raised.status.code(), Some(125), "{}", text(&raised.stderr));
    assert!(
        text(&raised.stderr).contains("nofile"),
        "{}",
        text(&raised.stderr)
    );
    // What the engine gives by default, for the record.
    let default = run_sudrop(&[], &["app", "sh", "-c", "ulimit -Sn; ulimit -Hn"]);
    record(&format!(
        "engine default nofile (soft hard): {}",
        text(&default.stdout)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    ));
}

/// dockerd runs its init with `--version` for `docker info`, and parses `tini version X -
/// git.Y`: with sudrop as the init-path it reads sudrop's version, with nothing logged.
#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn docker_info_reads_the_version_of_sudrop_as_the_engines_init() {
    let out = docker(&["info", "--format", "{{json .InitCommit}}"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let info = text(&out.stdout);
    assert!(
        info.contains(&format!(
            "\"ID\":\"sudrop-{}\"",
            env!("CARGO_PKG_VERSION").replace('.', "_")
        )),
        "docker info: {info}"
    );
    let log =
        std::fs::read_to_string(crate::docker::project_root().join("target/engine/dockerd.log"))
            .unwrap_or_default();
    assert!(
        !log.contains("unknown output format"),
        "dockerd could not read the init's version: {}",
        log.lines()
            .filter(|l| l.contains("init"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    record(&format!(
        "docker info with sudrop as init-path: {}",
        info.trim()
    ));
}

/// `docker run --init` with sudrop as the engine's init: a command's exit status comes back,
/// and `docker stop` of a plain `sleep` (which dies of SIGTERM) takes well under a second.
#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn docker_run_init_with_sudrop_passes_the_status_and_stops_sleep_at_once() {
    let image = debian();
    let out = docker(&["run", "--rm", "--init", &image, "sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let container = Container::start(
        Engine::Docker,
        &["--init", "--entrypoint", "sleep", &image, "1000"],
    );
    let processes = container.processes();
    assert!(
        processes
            .iter()
            .any(|(_, args)| args.starts_with("/sbin/docker-init -- sleep")),
        "{processes:?}"
    );
    let stop = container.stop(10);
    assert!(stop < Duration::from_secs(1), "stop took {stop:?}");
    assert_eq!(container.exit_code(), 143, "{}", container.logs());
    record(&format!(
        "docker run --init (sudrop) sleep: stop {:.2} s",
        stop.as_secs_f64()
    ));
}
