//! Who may call sudrop: root, a non-root user already running as the target (Kubernetes
//! `runAsUser`), and never a setuid, setgid or file-capability install.

use crate::databases::{GROUP, PASSWD};
use crate::sandbox::{Launch, Sandbox, code, root_or_skip, stderr, stdout};

fn as_user(uid: u32, gid: u32) -> Launch {
    Launch {
        as_user: Some((uid, gid)),
        ..Launch::default()
    }
}

#[test]
fn a_non_root_caller_already_the_target_just_execs() {
    if !root_or_skip("a_non_root_caller_already_the_target_just_execs") {
        return;
    }
    let sandbox = Sandbox::new(Some(PASSWD), Some(GROUP));
    for spec in ["app", "3000", "3000:3000", "app:app", "", ":"] {
        let out = sandbox.run_with(
            &as_user(3000, 3000),
            &["sudrop", spec, "sh", "-c", "id -u; id -g; echo $HOME"],
        );
        assert_eq!(
            (code(&out), stdout(&out).as_str()),
            (0, "3000\n3000\n/home/app\n"),
            "{spec:?}: {out:?}"
        );
    }
    // alice's /etc/group memberships cannot be set without CAP_SETGID: the runtime's groups stay.
    let out = sandbox.run_with(&as_user(1000, 1000), &["sudrop", "-v", "alice", "id", "-G"]);
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (0, "1000\n"),
        "{out:?}"
    );
    assert!(
        stderr(&out).contains("keeping the supplementary groups"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_non_root_caller_cannot_become_anyone_else() {
    if !root_or_skip("a_non_root_caller_cannot_become_anyone_else") {
        return;
    }
    let sandbox = Sandbox::new(Some(PASSWD), Some(GROUP));
    for spec in ["root", "0", "alice", "3000:0", "3001", ":50"] {
        let out = sandbox.run_with(&as_user(3000, 3000), &["sudrop", spec, "echo", "RAN"]);
        assert_eq!(code(&out), 125, "{spec}: {out:?}");
        assert_eq!(stdout(&out), "");
        assert!(
            stderr(&out).contains("needs root or CAP_SETUID and CAP_SETGID"),
            "{spec}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn setuid_setgid_and_file_capability_copies_refuse_to_run() {
    if !root_or_skip("setuid_setgid_and_file_capability_copies_refuse_to_run") {
        return;
    }
    let sandbox = Sandbox::new(Some(PASSWD), Some(GROUP));
    sandbox.copy(
        "/usr/local/bin/sudrop",
        "/usr/local/bin/sudrop-suid",
        0o4755,
    );
    sandbox.copy(
        "/usr/local/bin/sudrop",
        "/usr/local/bin/sudrop-sgid",
        0o2755,
    );
    sandbox.copy("/usr/local/bin/sudrop", "/usr/local/bin/sudrop-fcap", 0o755);
    let setcap = vec![
        "setcap".to_string(),
        "cap_setuid,cap_setgid+ep".to_string(),
        sandbox
            .path("/usr/local/bin/sudrop-fcap")
            .display()
            .to_string(),
    ];
    let has_setcap = std::process::Command::new("setcap")
        .arg("-v")
        .output()
        .is_ok();
    if !has_setcap && std::env::var_os("SUDROP_REQUIRE_ROOT_TESTS").is_some() {
        panic!("setcap is not installed (apt-get install libcap2-bin)");
    }
    let mut copies = vec!["sudrop-suid", "sudrop-sgid"];
    let mut launch = as_user(65534, 65534);
    if has_setcap {
        copies.push("sudrop-fcap");
        launch.host_setup.push(setcap);
    } else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED the file-capability copy: setcap is not installed"
        );
    }
    for copy in copies {
        let out = sandbox.run_with(&launch, &[copy, "root", "echo", "RAN"]);
        assert_eq!(code(&out), 125, "{copy}: {out:?}");
        assert_eq!(stdout(&out), "", "{copy} ran the command");
        assert!(
            stderr(&out).contains("refusing to run"),
            "{copy}: {}",
            stderr(&out)
        );
    }
}

/// A copy of the binary under test that any user may execute, whatever the checkout's mode.
fn world_executable_binary() -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("sudrop-callers.{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let copy = dir.join("sudrop");
    std::fs::copy(crate::sandbox::sudrop_binary(), &copy).expect("copy sudrop");
    copy
}

#[test]
fn runtime_groups_kept_against_an_explicit_group_are_reported_without_verbose() {
    if !root_or_skip("runtime_groups_kept_against_an_explicit_group_are_reported_without_verbose") {
        return;
    }
    // The runtime already made us nobody, with supplementary group 2000, and no capability
    // (setpriv on the host: the sandbox's launcher clears supplementary groups).
    let binary = world_executable_binary();
    let run = |spec: &str| {
        std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--groups=2000", "--"])
            .arg(&binary)
            .args([spec, "id", "-G"])
            .output()
            .expect("setpriv")
    };
    // USER:GROUP asks for no supplementary groups; they cannot be dropped, and that is said.
    let out = run("65534:65534");
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (0, "65534 2000\n"),
        "{out:?}"
    );
    let err = stderr(&out);
    assert!(err.starts_with("sudrop: warning: "), "{err}");
    assert!(err.contains("(2000)"), "{err}");
    // Without a group in the spec (Kubernetes runAsUser with fsGroup), it stays quiet.
    let out = run("65534");
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (0, "65534 2000\n"),
        "{out:?}"
    );
    assert_eq!(stderr(&out), "");
    let _ = std::fs::remove_dir_all(binary.parent().expect("dir"));
}

#[test]
fn if_privileged_runs_as_an_arbitrary_uid_instead_of_failing() {
    if !root_or_skip("if_privileged_runs_as_an_arbitrary_uid_instead_of_failing") {
        return;
    }
    // OpenShift: a random uid with no passwd entry, group 0, no capability; the image's user
    // is in group 0 too (`useradd -g 0`), as OpenShift asks of images.
    let passwd = format!("{PASSWD}ocp:x:1001:0::/opt/app:/bin/sh\n");
    let sandbox = Sandbox::new(Some(&passwd), Some(GROUP));
    let openshift = as_user(1_000_650_000, 0);
    let script = "id -u; id -g; echo $HOME; grep NoNewPrivs /proc/self/status; exit 42";
    let strict = sandbox.run_with(&openshift, &["sudrop", "ocp", "sh", "-c", script]);
    assert_eq!(
        (code(&strict), stdout(&strict).as_str()),
        (125, ""),
        "{strict:?}"
    );
    let out = sandbox.run_with(
        &openshift,
        &[
            "sudrop",
            "-v",
            "--if-privileged",
            "--group-add",
            "audio",
            "ocp",
            "sh",
            "-c",
            script,
        ],
    );
    // As itself, with the environment as it was (HOME untouched), no_new_privs still set,
    // and the command's status passed through.
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (42, "1000650000\n0\n/bogus-home\nNoNewPrivs:\t1\n"),
        "{out:?}"
    );
    // Verbose says what the spec resolved to, then what is used instead (it once printed
    // the caller's ids as if they were the target's).
    let err = stderr(&out);
    assert!(err.contains("'ocp' is uid 1001 gid 0 "), "{err}");
    assert!(
        err.contains(
            "asked for uid 1001 gid 0, but uid 1000650000 may not switch (no CAP_SETUID and \
             CAP_SETGID): running as uid 1000650000 gid 0 instead"
        ),
        "{err}"
    );
    assert!(err.contains("are not added"), "{err}");
    // Root switches as usual.
    let out = sandbox.run(&["sudrop", "--if-privileged", "app", "id", "-u"]);
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (0, "3000\n"),
        "{out:?}"
    );
}

#[test]
fn if_privileged_never_runs_the_command_as_root_or_in_group_0_instead_of_the_target() {
    if !root_or_skip(
        "if_privileged_never_runs_the_command_as_root_or_in_group_0_instead_of_the_target",
    ) {
        return;
    }
    let sandbox = Sandbox::new(Some(PASSWD), Some(GROUP));
    // Root without CAP_SETUID and CAP_SETGID (Kubernetes `drop: [ALL]` without runAsNonRoot):
    // it once ran the command as uid 0 with every other capability.
    let capless_root = Launch {
        wrapper: vec!["setpriv".into(), "--bounding-set=-setuid,-setgid".into()],
        ..Launch::default()
    };
    let out = sandbox.run_with(
        &capless_root,
        &["sudrop", "--if-privileged", "app", "probe", "status"],
    );
    assert_eq!((code(&out), stdout(&out).as_str()), (125, ""), "{out:?}");
    assert!(
        stderr(&out).contains("has uid 0 but not CAP_SETUID and CAP_SETGID"),
        "{}",
        stderr(&out)
    );
    // A caller in group 0 for a target that is not: refused the same way.
    let out = sandbox.run_with(
        &as_user(1_000_650_000, 0),
        &["sudrop", "--if-privileged", "app", "probe", "status"],
    );
    assert_eq!((code(&out), stdout(&out).as_str()), (125, ""), "{out:?}");
    assert!(stderr(&out).contains("has group 0"), "{}", stderr(&out));
}

#[test]
fn the_if_privileged_fallback_still_drops_every_capability() {
    if !root_or_skip("the_if_privileged_fallback_still_drops_every_capability") {
        return;
    }
    // The caller: a non-root uid holding CAP_NET_BIND_SERVICE in every set, ambient included
    // (sudrop itself makes it). It may not switch, so the command runs as the caller: with no
    // capability left and no_new_privs.
    let sandbox = Sandbox::new(Some(PASSWD), Some(GROUP));
    let out = sandbox.run(&[
        "sudrop",
        "--keep-cap",
        "net_bind_service",
        "1000650000:3000",
        "sudrop",
        "--if-privileged",
        "app",
        "probe",
        "status",
    ]);
    assert_eq!(code(&out), 0, "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("Uid:\t1000650000\t"), "{text}");
    for set in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        assert_eq!(
            crate::sandbox::status_field(&text, set),
            Some("0000000000000000"),
            "{set}: {text}"
        );
    }
    assert_eq!(crate::sandbox::status_field(&text, "NoNewPrivs"), Some("1"));
}
