//! Exec mode: the command replaces sudrop (PID 1 stays PID 1), gets its arguments untouched
//! and its environment adjusted, and sudrop's exit codes say what failed.

use crate::databases::{GROUP, PASSWD};
use crate::sandbox::{Launch, Sandbox, code, root_or_skip, stderr, stdout};

fn sandbox() -> Sandbox {
    Sandbox::new(Some(PASSWD), Some(GROUP))
}

#[test]
fn the_command_keeps_pid_1() {
    if !root_or_skip("the_command_keeps_pid_1") {
        return;
    }
    let sandbox = sandbox();
    let out = sandbox.run(&[
        "sudrop",
        "app",
        "sh",
        "-c",
        "echo $$; cat /proc/1/comm; exit 0",
    ]);
    assert_eq!(stdout(&out), "1\nsh\n", "{out:?}");
}

#[test]
fn arguments_after_the_command_are_passed_untouched() {
    if !root_or_skip("arguments_after_the_command_are_passed_untouched") {
        return;
    }
    let out = sandbox().run(&["sudrop", "app", "echo", "-i", "--init", "x", "--", "-v"]);
    assert_eq!(stdout(&out), "-i --init x -- -v\n");
}

#[test]
fn exit_codes_125_126_127_and_the_commands_own() {
    if !root_or_skip("exit_codes_125_126_127_and_the_commands_own") {
        return;
    }
    let sandbox = sandbox();
    sandbox.write("/tmp/no-shebang", "echo RAN\n", 0o755);
    let cases: &[(&[&str], i32)] = &[
        (&["sudrop", "app", "sh", "-c", "exit 42"], 42),
        (&["sudrop", "app", "no-such-command"], 127),
        (&["sudrop", "app", "/no/such/path"], 127),
        (&["sudrop", "app", "/etc/passwd"], 126),
        (&["sudrop", "app", "/tmp"], 126),
        (&["sudrop", "app", "/tmp/no-shebang"], 126),
        (&["sudrop", "bogus", "echo", "RAN"], 125),
        (&["sudrop", "app:bogus", "echo", "RAN"], 125),
        (&["sudrop", "a:b:c", "echo", "RAN"], 125),
        (&["sudrop", "4294967295", "echo", "RAN"], 125),
        (
            &["sudrop", "--keep-cap", "bogus", "app", "echo", "RAN"],
            125,
        ),
        (&["sudrop", "--bogus", "app", "echo", "RAN"], 125),
        (&["sudrop", "app"], 125),
    ];
    for (args, expected) in cases {
        let out = sandbox.run(args);
        assert_eq!(code(&out), *expected, "{args:?}: {out:?}");
        assert!(!stdout(&out).contains("RAN"), "{args:?} ran the command");
        if *expected >= 125 {
            assert!(
                stderr(&out).starts_with("sudrop: "),
                "{args:?}: {}",
                stderr(&out)
            );
        }
    }
}

#[test]
fn messages_name_what_failed() {
    if !root_or_skip("messages_name_what_failed") {
        return;
    }
    let sandbox = sandbox();
    let cases: &[(&[&str], &str)] = &[
        (
            &["sudrop", "bogus", "true"],
            "sudrop: cannot resolve 'bogus': no user 'bogus' in /etc/passwd\n",
        ),
        (
            &["sudrop", "app:bogus", "true"],
            "sudrop: cannot resolve 'app:bogus': no group 'bogus' in /etc/group\n",
        ),
        (
            &["sudrop", "1000:4294967296", "true"],
            "sudrop: invalid user spec '1000:4294967296': group id '4294967296' is out of range (ids run from 0 to 4294967294)\n",
        ),
        (
            &["sudrop", "app", "nope"],
            "sudrop: nope: command not found\n",
        ),
        (
            &["sudrop", "app", "/etc/passwd"],
            "sudrop: /etc/passwd: cannot execute: Permission denied\n",
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(stderr(&sandbox.run(args)), *expected, "{args:?}");
    }
}

#[test]
fn home_user_and_logname_follow_the_target() {
    if !root_or_skip("home_user_and_logname_follow_the_target") {
        return;
    }
    let sandbox = sandbox();
    let launch = Launch {
        env: vec![
            ("LOGNAME".into(), "root".into()),
            ("FOO".into(), "bar".into()),
        ],
        ..Launch::default()
    };
    let env = stdout(&sandbox.run_with(&launch, &["sudrop", "alice", "env"]));
    for line in ["HOME=/home/alice", "USER=alice", "LOGNAME=alice", "FOO=bar"] {
        assert!(env.lines().any(|l| l == line), "{line} missing in\n{env}");
    }
    // An id absent from passwd has no name: USER and LOGNAME are removed, HOME is /.
    let env = stdout(&sandbox.run_with(&launch, &["sudrop", "5000", "env"]));
    assert!(env.lines().any(|l| l == "HOME=/"), "{env}");
    assert!(
        !env.lines()
            .any(|l| l.starts_with("USER=") || l.starts_with("LOGNAME=")),
        "{env}"
    );
}

#[test]
fn verbose_prints_the_identity_and_each_step() {
    if !root_or_skip("verbose_prints_the_identity_and_each_step") {
        return;
    }
    let out = sandbox().run(&["sudrop", "--verbose", "alice", "true"]);
    assert_eq!(code(&out), 0);
    let err = stderr(&out);
    for part in [
        "'alice' is uid 1000 gid 1000 groups [29,50,100]",
        "setgroups(29,50,100)",
        "setresgid(1000,1000,1000)",
        "setresuid(1000,1000,1000)",
        "exec true",
    ] {
        assert!(err.contains(part), "{part} missing in\n{err}");
    }
    let quiet = sandbox().run(&["sudrop", "alice", "true"]);
    assert_eq!(stderr(&quiet), "");
}

#[test]
fn the_path_search_runs_with_the_targets_permissions() {
    if !root_or_skip("the_path_search_runs_with_the_targets_permissions") {
        return;
    }
    let sandbox = sandbox();
    sandbox.write("/private/secret", "#!/bin/sh\necho SECRET\n", 0o755);
    std::fs::set_permissions(
        sandbox.path("/private"),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("chmod");
    let launch = Launch {
        env: vec![("PATH".into(), "/private:/usr/local/bin:/bin".into())],
        ..Launch::default()
    };
    let as_root = sandbox.run_with(&launch, &["/usr/local/bin/sudrop", "root", "secret"]);
    assert_eq!(stdout(&as_root), "SECRET\n");
    // As app, the directory cannot be searched: 126, and the message names it, whether or
    // not the command is in there.
    for command in ["secret", "no-such-command"] {
        let as_app = sandbox.run_with(&launch, &["/usr/local/bin/sudrop", "app", command]);
        assert_eq!(code(&as_app), 126, "{command}: {as_app:?}");
        assert_eq!(stdout(&as_app), "");
        assert!(
            stderr(&as_app).contains("may not search the PATH directory /private"),
            "{command}: {}",
            stderr(&as_app)
        );
    }
}

#[test]
fn no_proc_is_needed() {
    if !root_or_skip("no_proc_is_needed") {
        return;
    }
    let launch = Launch {
        no_proc: true,
        ..Launch::default()
    };
    let sandbox = sandbox();
    let out = sandbox.run_with(
        &launch,
        &["sudrop", "--keep-cap", "kill", "alice", "id", "-G"],
    );
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (0, "1000 29 50 100\n"),
        "{out:?}"
    );
    assert!(!sandbox.path("/proc/self").exists());
}

#[test]
fn a_command_found_only_through_a_relative_path_entry_is_not_run() {
    if !root_or_skip("a_command_found_only_through_a_relative_path_entry_is_not_run") {
        return;
    }
    let sandbox = sandbox();
    // The sandbox starts in /, where these two files are.
    sandbox.write("/here-only", "#!/bin/sh\necho RELATIVE\n", 0o755);
    sandbox.write("/true", "#!/bin/sh\necho RELATIVE\n", 0o755);
    let with_path = |path: &str| Launch {
        env: vec![("PATH".into(), path.into())],
        ..Launch::default()
    };
    for path in [":/bin", "/bin:", "/bin::/usr/bin", ".:/bin", "sbin:.:/bin"] {
        let out = sandbox.run_with(
            &with_path(path),
            &["/usr/local/bin/sudrop", "app", "here-only"],
        );
        assert_eq!(code(&out), 127, "PATH={path}: {out:?}");
        assert_eq!(stdout(&out), "", "PATH={path}");
        assert!(
            stderr(&out).contains("relative to the current directory"),
            "PATH={path}: {}",
            stderr(&out)
        );
    }
    // An absolute entry before the relative one wins, as in execvp; a relative one first is
    // refused even though /bin has the command (gosu does the same).
    let out = sandbox.run_with(
        &with_path("/bin:"),
        &["/usr/local/bin/sudrop", "app", "true"],
    );
    assert_eq!((code(&out), stdout(&out).as_str()), (0, ""), "{out:?}");
    let out = sandbox.run_with(
        &with_path(":/bin"),
        &["/usr/local/bin/sudrop", "app", "true"],
    );
    assert_eq!((code(&out), stdout(&out).as_str()), (127, ""), "{out:?}");
    // Asked for explicitly, a file in the current directory runs.
    let out = sandbox.run_with(
        &with_path("/bin"),
        &["/usr/local/bin/sudrop", "app", "./here-only"],
    );
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (0, "RELATIVE\n"),
        "{out:?}"
    );
}

#[test]
fn umask_and_ulimits_reach_the_command() {
    if !root_or_skip("umask_and_ulimits_reach_the_command") {
        return;
    }
    let sandbox = sandbox();
    let out = sandbox.run(&[
        "sudrop",
        "--umask",
        "027",
        "--ulimit",
        "nofile=1024:2048",
        "--ulimit",
        "core=0",
        "app",
        "sh",
        "-c",
        "umask; ulimit -Sn; ulimit -Hn; ulimit -c",
    ]);
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (0, "0027\n1024\n2048\n0\n"),
        "{out:?}"
    );
    // In init mode the command inherits them too.
    let out = sandbox.run(&["sudrop", "-i", "--umask", "077", "app", "sh", "-c", "umask"]);
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (0, "0077\n"),
        "{out:?}"
    );
    // Lowering works for any caller.
    let launch = Launch {
        as_user: Some((3000, 3000)),
        ..Launch::default()
    };
    let out = sandbox.run_with(
        &launch,
        &[
            "sudrop",
            "--ulimit",
            "nofile=64",
            "app",
            "sh",
            "-c",
            "ulimit -n",
        ],
    );
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "64\n"), "{out:?}");
}

#[test]
fn raising_a_hard_limit_needs_cap_sys_resource_and_says_so() {
    if !root_or_skip("raising_a_hard_limit_needs_cap_sys_resource_and_says_so") {
        return;
    }
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into a valid rlimit.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    let above = format!("nofile={0}:{0}", limit.rlim_max + 1);
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    let has_sys_resource = crate::sandbox::status_mask(&status, "CapEff") & (1 << 24) != 0;
    let out = sandbox().run(&[
        "sudrop",
        "--ulimit",
        &above,
        "app",
        "sh",
        "-c",
        "ulimit -Hn",
    ]);
    if has_sys_resource {
        assert_eq!(code(&out), 0, "{out:?}");
        assert_eq!(stdout(&out), format!("{}\n", limit.rlim_max + 1));
    } else {
        // Root here may lack CAP_SYS_RESOURCE: then the raise is refused before anything runs.
        assert_eq!(code(&out), 125, "{out:?}");
        assert_eq!(stdout(&out), "");
        assert!(
            stderr(&out).contains("needs CAP_SYS_RESOURCE"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn group_add_and_group_of_extend_the_supplementary_groups() {
    if !root_or_skip("group_add_and_group_of_extend_the_supplementary_groups") {
        return;
    }
    let sandbox = sandbox();
    // A device-like file owned by group 4343, as /dev/dri/renderD128 is by render.
    sandbox.write("/dev-like/renderD128", "", 0o660);
    std::os::unix::fs::chown(sandbox.path("/dev-like/renderD128"), Some(0), Some(4343))
        .expect("chown");
    let out = sandbox.run(&[
        "sudrop",
        "--group-add",
        "audio,4242",
        "--group-of",
        "/dev-like/renderD128",
        "app",
        "id",
        "-G",
    ]);
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (0, "3000 29 4242 4343\n"),
        "{out:?}"
    );
    // With USER:GROUP (no groups of its own) they are still added.
    let out = sandbox.run(&["sudrop", "--group-add", "staff", "app:app", "id", "-G"]);
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (0, "3000 50\n"),
        "{out:?}"
    );
    // Errors before anything runs.
    for args in [
        &[
            "sudrop",
            "--group-of",
            "/no/such/device",
            "app",
            "echo",
            "RAN",
        ][..],
        &["sudrop", "--group-add", "nosuchgroup", "app", "echo", "RAN"][..],
    ] {
        let out = sandbox.run(args);
        assert_eq!(
            (code(&out), stdout(&out).as_str()),
            (125, ""),
            "{args:?}: {out:?}"
        );
    }
    // A caller already running as the target cannot add groups without CAP_SETGID: refused,
    // not silently left out.
    let launch = Launch {
        as_user: Some((3000, 3000)),
        ..Launch::default()
    };
    let out = sandbox.run_with(
        &launch,
        &["sudrop", "--group-add", "audio", "app", "echo", "RAN"],
    );
    assert_eq!((code(&out), stdout(&out).as_str()), (125, ""), "{out:?}");
    assert!(
        stderr(&out).contains("needs CAP_SETGID"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn group_of_never_follows_a_link_the_target_planted_nor_gives_group_0_unasked() {
    if !root_or_skip("group_of_never_follows_a_link_the_target_planted_nor_gives_group_0_unasked") {
        return;
    }
    let sandbox = sandbox();
    // A volume the target owns, where it planted links to files of group 0 and 42 (shadow).
    sandbox.write("/secret/shadow", "", 0o640);
    std::os::unix::fs::chown(sandbox.path("/secret/shadow"), Some(0), Some(42)).expect("chown");
    std::fs::create_dir_all(sandbox.path("/volume")).expect("mkdir");
    std::os::unix::fs::chown(sandbox.path("/volume"), Some(3000), Some(3000)).expect("chown");
    std::os::unix::fs::symlink("/secret/shadow", sandbox.path("/volume/app.sock")).expect("ln");
    std::os::unix::fs::symlink("/etc/passwd", sandbox.path("/volume/root.sock")).expect("ln");
    for link in ["/volume/app.sock", "/volume/root.sock"] {
        let out = sandbox.run(&["sudrop", "--group-of", link, "app", "id", "-G"]);
        assert_eq!(
            (code(&out), stdout(&out).as_str()),
            (125, ""),
            "{link}: {out:?}"
        );
        assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    }
    // Group 0 from a path (here /etc/passwd, root's) only when --group-add says 0 as well.
    let out = sandbox.run(&["sudrop", "--group-of", "/etc/passwd", "app", "id", "-G"]);
    assert_eq!((code(&out), stdout(&out).as_str()), (125, ""), "{out:?}");
    assert!(stderr(&out).contains("group 0"), "{}", stderr(&out));
    let out = sandbox.run(&[
        "sudrop",
        "--group-add",
        "root",
        "--group-of",
        "/etc/passwd",
        "app",
        "id",
        "-G",
    ]);
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (0, "3000 0\n"),
        "{out:?}"
    );
    // A real file in a directory the target can write: used, with a warning that it could be
    // replaced; in a directory it cannot write, no warning.
    sandbox.write("/volume/data.sock", "", 0o660);
    std::os::unix::fs::chown(sandbox.path("/volume/data.sock"), Some(0), Some(4343))
        .expect("chown");
    let out = sandbox.run(&[
        "sudrop",
        "--group-of",
        "/volume/data.sock",
        "app",
        "id",
        "-G",
    ]);
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (0, "3000 4343\n"),
        "{out:?}"
    );
    assert!(
        stderr(&out).contains("its directory /volume is writable by uid 3000"),
        "{}",
        stderr(&out)
    );
    sandbox.write("/dev-like/card0", "", 0o660);
    std::os::unix::fs::chown(sandbox.path("/dev-like/card0"), Some(0), Some(4343)).expect("chown");
    let out = sandbox.run(&["sudrop", "--group-of", "/dev-like/card0", "app", "id", "-G"]);
    assert_eq!((code(&out), stderr(&out).as_str()), (0, ""), "{out:?}");
}

#[test]
fn a_user_target_can_reopen_stdout_and_stderr_pipes_and_files_keep_their_owner() {
    if !root_or_skip("a_user_target_can_reopen_stdout_and_stderr_pipes_and_files_keep_their_owner")
    {
        return;
    }
    let sandbox = sandbox();
    // The sandbox's stdout and stderr are pipes owned by root, as a runtime's are.
    let reopen = "echo out > /dev/stdout; echo err > /dev/stderr";
    let out = sandbox.run(&["sudrop", "app", "sh", "-c", reopen]);
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "out\n"), "{out:?}");
    assert_eq!(stderr(&out), "err\n");
    // In init mode too.
    let out = sandbox.run(&["sudrop", "-i", "app", "sh", "-c", reopen]);
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "out\n"), "{out:?}");
    // Opted out, the pipe stays root's and the open fails, as with gosu.
    let out = sandbox.run(&[
        "sudrop",
        "--keep-stdio-owner",
        "app",
        "sh",
        "-c",
        "echo out > /dev/stdout",
    ]);
    assert_ne!(code(&out), 0, "{out:?}");
    assert_eq!(stdout(&out), "");
    // A regular file is never given away.
    let out = sandbox.run(&[
        "sh",
        "-c",
        "sudrop app true > /tmp/log; set -- $(ls -ln /tmp/log); echo owner=$3",
    ]);
    assert_eq!(stdout(&out), "owner=0\n", "{out:?}");
}

#[test]
fn the_target_may_write_its_stdout_pipe_again_but_never_read_it_or_change_its_mode() {
    if !root_or_skip(
        "the_target_may_write_its_stdout_pipe_again_but_never_read_it_or_change_its_mode",
    ) {
        return;
    }
    let sandbox = sandbox();
    // The pipe stays root's; the target's group may only write it. Reading it back would
    // show what a root sibling writes into the same pipe; a chmod would undo all that.
    // ($$: the shell's own descriptors; a command substitution has a pipe of its own.)
    let script = "set -- $(ls -lnL /proc/$$/fd/1); echo $1 $3 $4; \
                  ( exec 3< /dev/stdout ) 2>/dev/null && echo readable || echo not-readable; \
                  chmod 666 /proc/self/fd/1 2>/dev/null && echo chmod-ok || echo chmod-refused; \
                  echo again > /dev/stdout";
    let out = sandbox.run(&["sudrop", "app", "sh", "-c", script]);
    assert_eq!(
        (code(&out), stdout(&out).as_str()),
        (0, "prw--w---- 0 3000\nnot-readable\nchmod-refused\nagain\n"),
        "{out:?}"
    );
    // stdin (a pipe too): the group may read it again, never write into it.
    let script = "set -- $(ls -lnL /proc/$$/fd/0); echo $1 $3 $4";
    let command = sandbox.command(&Launch::default(), &["sudrop", "app", "sh", "-c", script]);
    let out = with_stdin_pipe(command);
    assert_eq!(stdout(&out), "prw-r----- 0 3000\n", "{out:?}");
}

/// Runs `command` with an anonymous pipe of the test's own as stdin.
fn with_stdin_pipe(mut command: std::process::Command) -> std::process::Output {
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdin = child.stdin.take();
    let output = child.wait_with_output().expect("wait");
    drop(stdin);
    output
}

#[test]
fn named_fifos_and_sockets_on_stdio_are_never_handed_over() {
    if !root_or_skip("named_fifos_and_sockets_on_stdio_are_never_handed_over") {
        return;
    }
    let sandbox = sandbox();
    // A root-only FIFO in the file system, as stdout: it keeps its owner and mode for good.
    let script = "mkfifo -m 600 /tmp/fifo; cat /tmp/fifo > /tmp/read & \
                  sudrop app sh -c 'chmod 666 /proc/self/fd/1; echo through' > /tmp/fifo; \
                  wait; cat /tmp/read; set -- $(ls -ln /tmp/fifo); echo $1 $3 $4";
    let out = sandbox.run(&["sh", "-c", script]);
    assert_eq!(stdout(&out), "through\nprw------- 0 0\n", "{out:?}");
    // A listening TCP socket as stdin: its owner stays root (/proc/net/tcp), so no process of
    // the target's uid can join the port with SO_REUSEPORT.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let socket = std::os::fd::OwnedFd::from(listener);
    let mut command = sandbox.command(&Launch::default(), &["sudrop", "app", "true"]);
    let out = command
        .stdin(std::process::Stdio::from(socket))
        .output()
        .expect("run");
    assert_eq!(code(&out), 0, "{out:?}");
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let local = format!(":{port:04X}");
    let row = table
        .lines()
        .find(|row| {
            row.split_whitespace()
                .nth(1)
                .is_some_and(|a| a.ends_with(&local))
        })
        .expect("the listener's row");
    // Columns: sl local rem st tx:rx tr:when retrnsmt uid.
    assert_eq!(row.split_whitespace().nth(7), Some("0"), "{row}");
}

#[test]
fn nothing_is_handed_over_when_the_command_is_not_going_to_run() {
    if !root_or_skip("nothing_is_handed_over_when_the_command_is_not_going_to_run") {
        return;
    }
    let sandbox = sandbox();
    // A refused limit (125) and a missing command (127) leave the caller's stdout pipe as it
    // was: root's, mode 0600.
    for (attempt, status) in [
        ("sudrop --ulimit nofile=1048577:1048577 app true", 125),
        ("sudrop app no-such-command", 127),
        ("sudrop app /no/such/path", 127),
    ] {
        let script = format!(
            "{attempt} 2>/dev/null; echo status=$?; set -- $(ls -lnL /proc/$$/fd/1); echo $1 $3 $4"
        );
        let out = sandbox.run(&["sh", "-c", &script]);
        assert_eq!(
            stdout(&out),
            format!("status={status}\nprw------- 0 0\n"),
            "{attempt}: {out:?}"
        );
    }
}
