//! `podman kube play` of the shipped manifest, `packaging/kubernetes/pod.yaml`: root stepping
//! down, `runAsUser` with nothing to change, the init as a subreaper under a shared PID
//! namespace, and `--stop-delay` in place of the preStop hook kube play does not run. The stop
//! holds SIGTERM through the delay and ends, saved, within terminationGracePeriodSeconds.

use crate::docker::{Engine, example_image, project_root, record, text};
use std::time::{Duration, Instant};

const POD: &str = "sudrop-example";
const MANIFEST: &str = "packaging/kubernetes/pod.yaml";

/// Removes the pod, whatever the test's outcome.
struct Played;

impl Drop for Played {
    fn drop(&mut self) {
        let _ = Engine::Podman.output(&["pod", "rm", "-f", POD]);
    }
}

fn redis(container: &str, port: &str, args: &[&str]) -> String {
    let mut all = vec!["exec", container, "redis-cli", "-p", port];
    all.extend_from_slice(args);
    let out = Engine::Podman.output(&all);
    text(&out.stdout).trim().to_string()
}

fn wait_for_pong(container: &str, port: &str) {
    let deadline = Instant::now() + crate::docker::LIMIT;
    while redis(container, port, &["ping"]) != "PONG" {
        let logs = Engine::Podman.output(&["logs", container]);
        assert!(
            Instant::now() < deadline,
            "{container} never answered: {}{}",
            text(&logs.stdout),
            text(&logs.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
#[ignore = "needs the engine that cargo xtask test starts"]
fn podman_kube_play_runs_the_shipped_manifest_and_stops_it_gracefully() {
    if std::env::var_os("SUDROP_ENGINE_PODMAN_CONF").is_none() {
        panic!("podman was not set up by cargo xtask test (see its output for why)");
    }
    // The manifest's image: the redis example, under the name the manifest uses.
    let image = example_image(Engine::Podman, "redis");
    Engine::Podman.ok(&["tag", &image, "example/redis-sudrop:latest"]);
    let _ = Engine::Podman.output(&["pod", "rm", "-f", POD]);
    let manifest = project_root().join(MANIFEST);
    Engine::Podman.ok(&["kube", "play", manifest.to_str().expect("UTF-8 path")]);
    let _played = Played;
    let (app, hardened) = (format!("{POD}-app"), format!("{POD}-hardened"));
    wait_for_pong(&app, "6379");
    wait_for_pong(&hardened, "6380");
    // Nothing runs as root but the pod's pause process; the hardened container never was.
    let top = |container: &str| Engine::Podman.ok(&["top", container, "user", "args"]);
    for (container, top) in [(&app, top(&app)), (&hardened, top(&hardened))] {
        for line in top.lines().skip(1) {
            assert!(
                line.starts_with("root ") == line.contains("catatonit -P"),
                "{container}: {line}"
            );
        }
    }
    let run_as = Engine::Podman.ok(&["exec", &hardened, "id", "-u"]);
    assert_eq!(run_as.trim(), "999", "runAsUser");
    assert_eq!(redis(&app, "6379", &["set", "kept", "yes"]), "OK");
    // The stop: SIGTERM is held 5 s (--stop-delay) while redis keeps serving, then redis saves
    // and exits, well within terminationGracePeriodSeconds (30 s). (podman refuses `exec`
    // into a stopping container, so redis's own log says when SIGTERM reached it.)
    let epoch = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs()
    };
    // The container is stopped as the kubelet stops it, the pause container last. (`podman pod
    // stop` of this pod kills every process at once in podman 4.3.1: with a shared PID
    // namespace it takes down the pause process, PID 1, first; see the README.)
    let began = epoch();
    let started = Instant::now();
    Engine::Podman.ok(&["stop", &app]);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(30),
        "the stop took {took:?}: at least the 5 s delay, within the 30 s grace period"
    );
    let logs = Engine::Podman.output(&["logs", &app]);
    let logs = text(&logs.stdout) + &text(&logs.stderr);
    // redis writes `PID:signal-handler (EPOCH) Received SIGTERM scheduling shutdown...`.
    let sigterm_at: u64 = logs
        .lines()
        .find(|line| line.contains("Received SIGTERM"))
        .and_then(|line| line.split_once('(')?.1.split_once(')')?.0.parse().ok())
        .unwrap_or_else(|| panic!("redis never got SIGTERM: {logs}"));
    assert!(
        sigterm_at >= began + 4,
        "SIGTERM reached redis {} s after the stop began, not after the 5 s delay",
        sigterm_at.saturating_sub(began)
    );
    assert!(logs.contains("DB saved on disk"), "{logs}");
    let code = Engine::Podman.ok(&["inspect", "-f", "{{.State.ExitCode}}", &app]);
    assert_eq!(code.trim(), "0", "{logs}");
    record(&format!(
        "podman kube play {MANIFEST}: stop {:.2} s (stop delay 5 s, grace 30 s), redis saved",
        took.as_secs_f64()
    ));
}
