//! Capability sets after the switch, read back from /proc/self/status by the command itself.

use crate::databases::{GROUP, PASSWD};
use crate::sandbox::{
    Launch, Sandbox, code, gosu_path, root_or_skip, status_field, status_mask, stderr, stdout,
};

const EMPTY: &str = "0000000000000000";
const NET_BIND_SERVICE: &str = "0000000000000400";
const SETS: [&str; 5] = ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"];

fn sandbox() -> Sandbox {
    Sandbox::new(Some(PASSWD), Some(GROUP))
}

#[test]
fn a_user_target_has_every_capability_set_empty() {
    if !root_or_skip("a_user_target_has_every_capability_set_empty") {
        return;
    }
    let sandbox = sandbox();
    let out = sandbox.run(&["sudrop", "nobody", "probe", "status"]);
    assert_eq!(code(&out), 0, "{out:?}");
    let text = stdout(&out);
    assert!(text.starts_with("euid=65534\n"), "{text}");
    for set in SETS {
        assert_eq!(status_field(&text, set), Some(EMPTY), "{set} in\n{text}");
    }
    assert_eq!(
        status_field(&text, "NoNewPrivs"),
        Some("1"),
        "the default for a user"
    );
    // gosu, for contrast, leaves the bounding set full.
    if gosu_path().is_some() {
        let gosu = stdout(&sandbox.run(&["gosu", "nobody", "probe", "status"]));
        assert_ne!(status_field(&gosu, "CapBnd"), Some(EMPTY), "{gosu}");
    }
}

#[test]
fn a_root_target_keeps_roots_capabilities_unless_told() {
    if !root_or_skip("a_root_target_keeps_roots_capabilities_unless_told") {
        return;
    }
    let sandbox = sandbox();
    let direct = stdout(&sandbox.run(&["probe", "status"]));
    let via_sudrop = stdout(&sandbox.run(&["sudrop", "root", "probe", "status"]));
    assert_eq!(
        status_field(&via_sudrop, "CapEff"),
        status_field(&direct, "CapEff")
    );
    assert_eq!(
        status_field(&via_sudrop, "CapBnd"),
        status_field(&direct, "CapBnd")
    );
    let narrowed = stdout(&sandbox.run(&[
        "sudrop",
        "--keep-cap",
        "net_bind_service",
        "root",
        "probe",
        "status",
    ]));
    for set in ["CapPrm", "CapEff", "CapBnd"] {
        assert_eq!(
            status_field(&narrowed, set),
            Some(NET_BIND_SERVICE),
            "{set} in\n{narrowed}"
        );
    }
}

#[test]
fn keep_cap_lets_nobody_bind_port_80() {
    if !root_or_skip("keep_cap_lets_nobody_bind_port_80") {
        return;
    }
    let sandbox = sandbox();
    let launch = Launch {
        own_network: true,
        ..Launch::default()
    };
    let denied = sandbox.run_with(&launch, &["sudrop", "nobody", "probe", "bind", "80"]);
    assert_eq!(code(&denied), 1);
    assert!(stdout(&denied).contains("Permission denied"), "{denied:?}");

    let kept = sandbox.run_with(
        &launch,
        &[
            "sudrop",
            "--keep-cap",
            "NET_BIND_SERVICE",
            "nobody",
            "probe",
            "bind",
            "80",
        ],
    );
    assert_eq!(
        (code(&kept), stdout(&kept).as_str()),
        (0, "bound\n"),
        "{kept:?}"
    );

    let status = stdout(&sandbox.run(&[
        "sudrop",
        "--keep-cap",
        "CAP_NET_BIND_SERVICE",
        "nobody",
        "probe",
        "status",
    ]));
    assert!(status.starts_with("euid=65534\n"), "{status}");
    for set in SETS {
        assert_eq!(
            status_field(&status, set),
            Some(NET_BIND_SERVICE),
            "{set} in\n{status}"
        );
    }
}

#[test]
fn a_setuid_root_program_run_after_the_drop_gains_nothing_and_no_capability_when_allowed() {
    if !root_or_skip(
        "a_setuid_root_program_run_after_the_drop_gains_nothing_and_no_capability_when_allowed",
    ) {
        return;
    }
    let sandbox = sandbox();
    sandbox.copy("/usr/local/bin/probe", "/usr/local/bin/suid-probe", 0o4755);
    // Without sudrop, the setuid-root probe started by nobody has root's capabilities.
    let control = stdout(&sandbox.run_with(
        &Launch {
            as_user: Some((65534, 65534)),
            ..Launch::default()
        },
        &["suid-probe", "status"],
    ));
    assert!(control.starts_with("euid=0\n"), "{control}");
    assert_ne!(status_field(&control, "CapEff"), Some(EMPTY), "{control}");

    // By default no_new_privs: the setuid bit grants nothing, not even euid 0 (which would own
    // every root-owned file).
    let default = stdout(&sandbox.run(&["sudrop", "nobody", "suid-probe", "status"]));
    assert!(default.starts_with("euid=65534\n"), "{default}");
    assert_eq!(status_field(&default, "NoNewPrivs"), Some("1"));

    // Allowed, euid 0 comes back (as with gosu), but with no capability at all.
    let allowed = stdout(&sandbox.run(&[
        "sudrop",
        "--allow-new-privs",
        "nobody",
        "suid-probe",
        "status",
    ]));
    assert!(allowed.starts_with("euid=0\n"), "{allowed}");
    assert_eq!(status_field(&allowed, "CapEff"), Some(EMPTY), "{allowed}");
    assert_eq!(status_field(&allowed, "CapPrm"), Some(EMPTY), "{allowed}");
    assert_eq!(status_field(&allowed, "NoNewPrivs"), Some("0"));
}

#[test]
fn no_new_privs_reaches_a_root_target_only_when_asked() {
    if !root_or_skip("no_new_privs_reaches_a_root_target_only_when_asked") {
        return;
    }
    let sandbox = sandbox();
    let asked = stdout(&sandbox.run(&["sudrop", "--no-new-privs", "root", "probe", "status"]));
    assert_eq!(status_field(&asked, "NoNewPrivs"), Some("1"), "{asked}");
    let root = stdout(&sandbox.run(&["sudrop", "root", "probe", "status"]));
    assert_eq!(status_field(&root, "NoNewPrivs"), Some("0"), "{root}");
    // The variable works like the flag, and never reaches the command.
    let launch = Launch {
        env: vec![("SUDROP_ALLOW_NEW_PRIVS".into(), "1".into())],
        ..Launch::default()
    };
    let out = sandbox.run_with(
        &launch,
        &[
            "sudrop",
            "app",
            "sh",
            "-c",
            "grep NoNewPrivs /proc/self/status; env",
        ],
    );
    let text = stdout(&out);
    assert!(text.contains("NoNewPrivs:\t0"), "{text}");
    assert!(!text.contains("SUDROP_ALLOW_NEW_PRIVS"), "{text}");
}

#[test]
fn without_setpcap_the_bounding_set_stays_and_verbose_says_so() {
    if !root_or_skip("without_setpcap_the_bounding_set_stays_and_verbose_says_so") {
        return;
    }
    let sandbox = sandbox();
    let launch = Launch {
        wrapper: vec!["setpriv".into(), "--bounding-set=-setpcap".into()],
        ..Launch::default()
    };
    let out = sandbox.run_with(&launch, &["sudrop", "-v", "nobody", "probe", "status"]);
    assert_eq!(code(&out), 0, "{out:?}");
    let text = stdout(&out);
    assert!(stderr(&out).contains("no CAP_SETPCAP"), "{}", stderr(&out));
    let bounding = status_mask(&text, "CapBnd");
    assert_eq!(
        bounding & (1 << 8),
        0,
        "CAP_SETPCAP was dropped by the launcher"
    );
    assert_ne!(bounding, 0, "the bounding set could not shrink");
    assert_eq!(status_field(&text, "CapEff"), Some(EMPTY));
    assert_eq!(status_field(&text, "CapPrm"), Some(EMPTY));
    // With no_new_privs nothing can raise a capability from the bounding set again, so that
    // stays a verbose note; without it, a warning whatever the verbosity.
    let quiet = sandbox.run_with(&launch, &["sudrop", "nobody", "true"]);
    assert_eq!(stderr(&quiet), "");
    let allowed = sandbox.run_with(&launch, &["sudrop", "--allow-new-privs", "nobody", "true"]);
    assert_eq!(code(&allowed), 0, "{allowed:?}");
    assert!(
        stderr(&allowed).starts_with("sudrop: warning: bounding set left as it is"),
        "{}",
        stderr(&allowed)
    );
}
