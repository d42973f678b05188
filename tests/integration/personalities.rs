//! sudrop under other tools' names (gosu, su-exec, docker-init, dumb-init, catatonit), USER-SPEC
//! `-` (nobody to switch to) and USER-SPEC as a path (its owner). What each must never hand
//! out is tested beside what it does: the engine's init gives the command nothing the engine
//! did not, a path never makes the command root or follows a link the target planted, and a
//! setuid or file-capability command is told why it gets nothing.

use crate::databases::{GROUP, PASSWD};
use crate::sandbox::{Launch, Sandbox, code, root_or_skip, stderr, stdout};
use nix::sys::signal::Signal;

const NAMES: [&str; 5] = ["gosu", "su-exec", "docker-init", "dumb-init", "catatonit"];

/// A sandbox with sudrop linked under the other tools' names.
fn sandbox() -> Sandbox {
    let sandbox = Sandbox::new(Some(PASSWD), Some(GROUP));
    for name in NAMES {
        let link = sandbox.path(&format!("/usr/local/bin/{name}"));
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("sudrop", link).expect("link");
    }
    sandbox
}

#[test]
fn each_name_takes_its_tools_command_line_and_exit_codes() {
    if !root_or_skip("each_name_takes_its_tools_command_line_and_exit_codes") {
        return;
    }
    let sandbox = sandbox();
    let out = sandbox.run(&["gosu", "app", "sh", "-c", "id -u; id -G"]);
    assert_eq!(stdout(&out), "3000\n3000\n", "{out:?}");
    let out = sandbox.run(&["su-exec", "alice:staff", "id", "-G"]);
    assert_eq!(stdout(&out), "50\n", "{out:?}");
    // Under the droppers' names a spec is only what gosu reads as one: `-` never means "stay
    // as the caller" (root here) and a path is not its owner.
    for spec in ["-", "/etc"] {
        let out = sandbox.run(&["gosu", spec, "echo", "RAN"]);
        assert_eq!(code(&out), 125, "gosu {spec}: {out:?}");
        assert_eq!(stdout(&out), "", "gosu {spec} ran");
    }
    // gosu has no options: what looks like one is the user spec.
    let out = sandbox.run(&["gosu", "--init", "true"]);
    assert_eq!(code(&out), 125, "{out:?}");
    assert!(stderr(&out).contains("--init"), "{out:?}");
    for (line, status) in [
        (&["gosu"][..], 1),
        (&["gosu", "app"][..], 1),
        (&["su-exec", "--help"][..], 1),
        (&["docker-init"][..], 1),
        (&["docker-init", "-x", "true"][..], 1),
        (&["dumb-init", "--yolo", "true"][..], 1),
        (&["catatonit", "-P"][..], 1),
        (&["gosu", "--version"][..], 0),
        (&["docker-init", "-h"][..], 0),
        (&["docker-init", "--", "sh", "-c", "exit 3"][..], 3),
        (&["dumb-init", "sh", "-c", "exit 4"][..], 4),
        (&["catatonit", "--", "sh", "-c", "kill -TERM $$"][..], 143),
        (
            &[
                "docker-init",
                "-e",
                "143",
                "--",
                "sh",
                "-c",
                "kill -TERM $$",
            ][..],
            0,
        ),
    ] {
        let out = sandbox.run(line);
        assert_eq!(code(&out), status, "{line:?}: {out:?}");
    }
    // The version in the form dockerd parses (`tini version X - git.Y`, no dot in Y).
    let out = sandbox.run(&["docker-init", "--version"]);
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        stdout(&out),
        format!(
            "tini version {version}_sudrop - git.sudrop-{}\n",
            version.replace('.', "_")
        ),
        "{out:?}"
    );
    let out = sandbox.run(&["dumb-init", "--version"]);
    assert!(stderr(&out).starts_with("dumb-init v"), "{out:?}");
}

/// The process's identity, capability, signal and no_new_privs state, as the command sees it.
const STATE: &str = "grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|SigIgn|SigBlk):' /proc/self/status; test -e /proc/self/fd/5 && echo fd5";

#[test]
fn the_engines_init_gives_the_command_exactly_what_the_engine_gave() {
    if !root_or_skip("the_engines_init_gives_the_command_exactly_what_the_engine_gave") {
        return;
    }
    let sandbox = sandbox();
    // Root with every capability, a uid-0 caller with only three and none inheritable, and a
    // plain user: the init neither takes anything away nor adds anything.
    let callers = [
        Launch::default(),
        Launch {
            wrapper: [
                "setpriv",
                "--bounding-set=-all,+chown,+setuid,+setgid,+sys_admin,+sys_chroot",
                "--inh-caps=-all",
            ]
            .map(String::from)
            .to_vec(),
            ..Launch::default()
        },
        Launch {
            as_user: Some((3000, 3000)),
            ..Launch::default()
        },
    ];
    for launch in callers {
        let launch = Launch {
            ignore: vec![Signal::SIGHUP],
            block: vec![Signal::SIGUSR2],
            ..launch
        };
        let direct = format!("exec 5</etc/passwd; exec sh -c \"{STATE}\"");
        let expected = sandbox.run_with(&launch, &["sh", "-c", &direct]);
        assert_eq!(code(&expected), 0, "{expected:?}");
        assert!(stdout(&expected).contains("fd5"), "{expected:?}");
        for init in [
            "docker-init --",
            "dumb-init",
            "catatonit --",
            "sudrop --init -",
            "sudrop -",
        ] {
            let line = format!("exec 5</etc/passwd; exec {init} sh -c \"{STATE}\"");
            let out = sandbox.run_with(&launch, &["sh", "-c", &line]);
            assert_eq!(code(&out), 0, "{init}: {out:?}");
            assert_eq!(
                stdout(&out),
                stdout(&expected),
                "{init} as {:?} changed what the command got",
                launch.as_user
            );
        }
    }
}

#[test]
fn nobody_to_switch_refuses_the_options_of_a_switch() {
    if !root_or_skip("nobody_to_switch_refuses_the_options_of_a_switch") {
        return;
    }
    let sandbox = sandbox();
    for option in [
        &["--keep-cap", "CHOWN"][..],
        &["--group-add", "audio"][..],
        &["--if-privileged"][..],
        &["--allow-new-privs"][..],
    ] {
        let mut line = vec!["sudrop"];
        line.extend_from_slice(option);
        line.extend_from_slice(&["-", "echo", "RAN"]);
        let out = sandbox.run(&line);
        assert_eq!(code(&out), 125, "{line:?}: {out:?}");
        assert_eq!(stdout(&out), "", "{line:?} ran");
    }
    // What is asked for by name still applies.
    let out = sandbox.run(&[
        "sudrop",
        "--umask",
        "027",
        "--no-new-privs",
        "-",
        "sh",
        "-c",
        "umask; grep NoNewPrivs /proc/self/status; id -u",
    ]);
    assert_eq!(stdout(&out), "0027\nNoNewPrivs:\t1\n0\n", "{out:?}");
}

#[test]
fn the_droppers_names_say_why_a_setuid_or_file_capability_command_gets_nothing() {
    if !root_or_skip("the_droppers_names_say_why_a_setuid_or_file_capability_command_gets_nothing")
    {
        return;
    }
    let sandbox = sandbox();
    // busybox copies, named for the applet they run.
    std::fs::create_dir_all(sandbox.path("/opt/cap")).expect("mkdir");
    sandbox.copy("/bin/busybox", "/opt/cap/true", 0o755);
    sandbox.copy("/bin/busybox", "/opt/id", 0o4755);
    let launch = Launch {
        host_setup: vec![vec![
            "setcap".into(),
            "cap_net_raw+ep".into(),
            sandbox.path("/opt/cap/true").display().to_string(),
        ]],
        ..Launch::default()
    };
    // The set-user-ID root copy does not make the command root: the warning says why.
    let out = sandbox.run_with(&launch, &["gosu", "app", "/opt/id", "-u"]);
    assert_eq!(stdout(&out), "3000\n", "{out:?}");
    assert!(
        stderr(&out).contains("/opt/id is set-user-ID")
            && stderr(&out).contains("SUDROP_ALLOW_NEW_PRIVS=1"),
        "{out:?}"
    );
    // The file-capability copy cannot run at all with the bounding set empty; the warning
    // names the capability and the option that keeps it.
    let out = sandbox.run_with(&launch, &["su-exec", "app", "/opt/cap/true"]);
    assert_eq!(code(&out), 126, "{out:?}");
    assert!(
        stderr(&out).contains("/opt/cap/true has file capabilities (CAP_NET_RAW)")
            && stderr(&out).contains("--keep-cap CAP_NET_RAW"),
        "{out:?}"
    );
    let out = sandbox.run_with(
        &launch,
        &["sudrop", "--keep-cap", "NET_RAW", "app", "/opt/cap/true"],
    );
    assert_eq!(code(&out), 0, "{out:?}");
    // Under sudrop's own name the check is not made (its cost stays off the exec path).
    let out = sandbox.run_with(&launch, &["sudrop", "app", "/opt/id", "-u"]);
    assert_eq!(stderr(&out), "", "{out:?}");
}

#[test]
fn a_path_as_user_spec_runs_as_its_owner_and_never_follows_a_link_or_gives_root() {
    if !root_or_skip("a_path_as_user_spec_runs_as_its_owner_and_never_follows_a_link_or_gives_root")
    {
        return;
    }
    let sandbox = sandbox();
    let own = |inside: &str, uid: u32, gid: u32| {
        let path = sandbox.path(inside);
        std::fs::create_dir_all(&path).expect("mkdir");
        std::os::unix::fs::chown(&path, Some(uid), Some(gid)).expect("chown");
    };
    own("/data", 3000, 3000);
    own("/home/alice", 1000, 1000);
    own("/srv/shared", 3000, 0);
    std::fs::set_permissions(
        sandbox.path("/data"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let out = sandbox.run(&["sudrop", "/data", "sh", "-c", "id -u; id -g; id -G"]);
    assert_eq!(stdout(&out), "3000\n3000\n3000\n", "{out:?}");
    assert_eq!(stderr(&out), "", "/ is not writable by app: {out:?}");
    // Links the target planted in its own directory, to root's and to another user's.
    for (link, to) in [("/data/etc", "/etc"), ("/data/alice", "/home/alice")] {
        std::os::unix::fs::symlink(to, sandbox.path(link)).expect("symlink");
        let out = sandbox.run(&["sudrop", link, "echo", "RAN"]);
        assert_eq!(code(&out), 125, "{link}: {out:?}");
        assert!(stderr(&out).contains("symbolic link"), "{out:?}");
        assert_eq!(stdout(&out), "");
    }
    for (path, says) in [("/etc", "uid 0"), ("/srv/shared", "group 0")] {
        let out = sandbox.run(&["sudrop", path, "echo", "RAN"]);
        assert_eq!(code(&out), 125, "{path}: {out:?}");
        assert!(stderr(&out).contains(says), "{out:?}");
    }
    let out = sandbox.run(&["sudrop", "--group-add", "0", "/srv/shared", "id", "-g"]);
    assert_eq!(stdout(&out), "0\n", "group 0 when asked for: {out:?}");
    // A file in a directory the target may write could be swapped before the next start.
    own("/data/sub", 3000, 3000);
    let out = sandbox.run(&["sudrop", "/data/sub", "id", "-u"]);
    assert_eq!(stdout(&out), "3000\n");
    assert!(
        stderr(&out).contains("its directory /data is writable by uid 3000"),
        "{out:?}"
    );
}
