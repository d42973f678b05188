//! The command line, as any user sees it (no root needed).

#[path = "support/process.rs"]
mod support;

use std::process::{Command, Output};

fn sudrop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sudrop"))
        .args(args)
        .output()
        .expect("run sudrop")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_every_option_and_the_exit_codes() {
    for flag in ["--help", "-h"] {
        let out = sudrop(&[flag]);
        assert_eq!(out.status.code(), Some(0));
        let help = text(&out.stdout);
        for part in [
            "Usage: sudrop [OPTIONS] USER-SPEC COMMAND [ARG]...",
            "--keep-cap",
            "--no-new-privs",
            "--verbose",
            "--version",
            "125",
            "126",
            "127",
        ] {
            assert!(help.contains(part), "{part} missing in\n{help}");
        }
    }
}

#[test]
fn version_prints_name_and_version() {
    for flag in ["--version", "-V"] {
        let out = sudrop(&[flag]);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(
            text(&out.stdout),
            format!("sudrop {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn usage_errors_exit_125_with_a_one_line_hint() {
    let cases: &[(&[&str], &str)] = &[
        (&[], "sudrop: missing USER-SPEC and COMMAND\n"),
        (&["-v"], "sudrop: missing USER-SPEC and COMMAND\n"),
        (&["nobody"], "sudrop: missing COMMAND after USER-SPEC\n"),
        (
            &["--bogus", "nobody", "id"],
            "sudrop: unexpected argument '--bogus' found\n",
        ),
        (
            &["--keep-cap", "bogus", "nobody", "id"],
            "sudrop: unknown capability 'bogus' in --keep-cap\n",
        ),
        (
            &["--keep-cap"],
            "sudrop: a value is required for '--keep-cap <CAP[,CAP...]>' but none was supplied\n",
        ),
    ];
    for (args, first_line) in cases {
        let out = sudrop(args);
        assert_eq!(out.status.code(), Some(125), "{args:?}");
        assert_eq!(out.stdout, b"", "{args:?}");
        let err = text(&out.stderr);
        let mut lines = err.lines();
        assert_eq!(
            format!("{}\n", lines.next().unwrap_or_default()),
            *first_line,
            "{args:?}"
        );
        assert_eq!(
            lines.next(),
            Some("sudrop: try 'sudrop --help' for more information"),
            "{args:?}"
        );
        assert_eq!(lines.next(), None, "{args:?}: {err}");
    }
}

#[test]
fn the_init_drains_and_exits_with_the_commands_status_when_stderr_breaks() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    // `sudrop -v --init … 2>&1 | grep -m1 …`: the reader of stderr goes away after one line,
    // and every later diagnostic meets a broken pipe with all signals blocked. That once
    // panicked twice and aborted (134), leaving the background sleep running.
    let mut child = Command::new(env!("CARGO_BIN_EXE_sudrop"))
        .args([
            "-v",
            "--init",
            "",
            "sh",
            "-c",
            "sleep 30 & echo $!; sleep 1; exit 3",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sudrop");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    stderr.read_line(&mut first).expect("first line");
    assert!(first.starts_with("sudrop: "), "{first}");
    drop(stderr);
    let mut pid = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut pid)
        .expect("pid of the background sleep");
    let pid = pid.trim().to_string();
    assert_eq!(
        support::wait_bounded(&mut child, std::time::Duration::from_secs(30)),
        3
    );
    // The drain gave the leftover SIGTERM and reaped it before sudrop exited.
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the background sleep {pid} outlived sudrop"
    );
}

#[test]
fn a_failure_report_into_a_broken_or_closed_stderr_still_exits_125() {
    use std::process::Stdio;
    // The launcher ignores SIGPIPE, so writing the message fails instead of killing sudrop.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let broken = Command::new("sh")
        .args(["-c", "trap '' PIPE; exec \"$0\" bogususer true"])
        .arg(env!("CARGO_BIN_EXE_sudrop"))
        .stderr(Stdio::from(writer))
        .status()
        .expect("run");
    assert_eq!(broken.code(), Some(125), "{broken:?}");
    let closed = Command::new("sh")
        .args(["-c", "exec \"$0\" bogususer true 2>&-"])
        .arg(env!("CARGO_BIN_EXE_sudrop"))
        .status()
        .expect("run");
    assert_eq!(closed.code(), Some(125), "{closed:?}");
}

#[test]
fn the_init_does_not_hold_inherited_descriptors_open() {
    use std::io::{Read, Write};
    use std::process::Stdio;
    // Descriptor 5 is the test's pipe. The command closes its copy at once, then waits for a
    // line on stdin, which the test sends only after EOF on the pipe (or after giving up): so
    // EOF can only come from the command's close if the init closed its own copy.
    let mut child = Command::new("sh")
        .args([
            "-c",
            "exec 5>&1 1>/dev/null; exec \"$0\" --init '' sh -c 'exec 5>&-; read line'",
        ])
        .arg(env!("CARGO_BIN_EXE_sudrop"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start");
    let mut pipe = child.stdout.take().expect("stdout");
    let (sender, eof) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut rest = Vec::new();
        let _ = sender.send(pipe.read_to_end(&mut rest).is_ok());
    });
    let closed = eof.recv_timeout(std::time::Duration::from_secs(10));
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"go\n").expect("release the command");
    drop(stdin);
    assert_eq!(
        support::wait_bounded(&mut child, std::time::Duration::from_secs(30)),
        0
    );
    assert_eq!(
        closed,
        Ok(true),
        "no EOF while the command ran: the init held descriptor 5"
    );
}

#[test]
fn an_option_after_user_spec_is_not_found_with_a_hint() {
    // "" is the caller itself: no switch, so any user can run this.
    for option in ["--init", "-v", "--stop-delay=5s"] {
        let out = Command::new(env!("CARGO_BIN_EXE_sudrop"))
            .args(["", option, "id"])
            .env("PATH", "/usr/bin:/bin")
            .output()
            .expect("run sudrop");
        assert_eq!(out.status.code(), Some(127), "{option}: {out:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains("options go before USER-SPEC"),
            "{option}: {err}"
        );
    }
    // A command that merely looks like an option gets no hint.
    let out = Command::new(env!("CARGO_BIN_EXE_sudrop"))
        .args(["", "--no-such-option", "id"])
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("run sudrop");
    assert_eq!(out.status.code(), Some(127), "{out:?}");
    assert!(!text(&out.stderr).contains("options go before"), "{out:?}");
}
