//! Capability sets after the switch, read back from /proc/self/status by the command itself.

use crate::databases::{GROUP, PASSWD};
use crate::sandbox::{
    Launch, Sandbox, code, gosu_path, root_or_skip, status_field, stderr, stdout,
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
    assert_eq!(status_field(&text, "NoNewPrivs"), Some("0"));
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
fn a_setuid_root_program_run_after_the_drop_gains_no_capability() {
    if !root_or_skip("a_setuid_root_program_run_after_the_drop_gains_no_capability") {
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

    let dropped = stdout(&sandbox.run(&["sudrop", "nobody", "suid-probe", "status"]));
    assert_eq!(status_field(&dropped, "CapEff"), Some(EMPTY), "{dropped}");
    assert_eq!(status_field(&dropped, "CapPrm"), Some(EMPTY), "{dropped}");

    let no_new_privs =
        stdout(&sandbox.run(&["sudrop", "--no-new-privs", "nobody", "suid-probe", "status"]));
    assert!(no_new_privs.starts_with("euid=65534\n"), "{no_new_privs}");
    assert_eq!(status_field(&no_new_privs, "NoNewPrivs"), Some("1"));
}

#[test]
fn no_new_privs_is_set_for_the_command() {
    if !root_or_skip("no_new_privs_is_set_for_the_command") {
        return;
    }
    let out = stdout(&sandbox().run(&["sudrop", "--no-new-privs", "app", "probe", "status"]));
    assert_eq!(status_field(&out, "NoNewPrivs"), Some("1"), "{out}");
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
    let bounding =
        u64::from_str_radix(status_field(&text, "CapBnd").expect("CapBnd"), 16).expect("hex");
    assert_eq!(
        bounding & (1 << 8),
        0,
        "CAP_SETPCAP was dropped by the launcher"
    );
    assert_ne!(bounding, 0, "the bounding set could not shrink");
    assert_eq!(status_field(&text, "CapEff"), Some(EMPTY));
    assert_eq!(status_field(&text, "CapPrm"), Some(EMPTY));
}
