//! Init mode at a terminal: the command is the foreground job, Ctrl-C ends it, job control
//! stops and continues it. Uses a real pseudo-terminal.

use crate::databases::{GROUP, PASSWD};
use crate::sandbox::{Launch, Sandbox, first_child, kill, root_or_skip};
use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(30);

/// A launch without a PID namespace: sudrop (or the script) is not PID 1, as on a host.
fn not_pid_1() -> Launch {
    Launch {
        no_pid_namespace: true,
        ..Launch::default()
    }
}

/// The state letter of a process (`R`, `S`, `T`, ...).
fn state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// Waits, within a bound, for a process to reach a state; the kernel gives no event for it.
fn wait_for_state(pid: i32, wanted: char) {
    let deadline = Instant::now() + LIMIT;
    while state(pid) != Some(wanted) {
        assert!(
            Instant::now() < deadline,
            "pid {pid} never reached state {wanted} (is {:?})",
            state(pid)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn job_control_signals_stop_and_continue_the_command_not_the_init() {
    if !root_or_skip("job_control_signals_stop_and_continue_the_command_not_the_init") {
        return;
    }
    let sandbox = Sandbox::new(Some(PASSWD), Some(GROUP));
    for stop in [libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU] {
        let mut running = sandbox.spawn_with(
            &Launch::default(),
            &[
                "sudrop",
                "-i",
                "app",
                "sh",
                "-c",
                "echo ready; exec sleep 30",
            ],
        );
        running.wait_for("ready");
        let init = running.pid();
        let command = first_child(init);
        wait_for_state(command, 'S');
        kill(init, stop);
        wait_for_state(command, 'T');
        // The init may still be handling the child's SIGCHLD at this moment ('R'); it must
        // go back to waiting ('S'), never stop ('T', which it would never leave).
        wait_for_state(init, 'S');
        kill(init, libc::SIGCONT);
        wait_for_state(command, 'S');
        kill(init, libc::SIGTERM);
        let (status, _, err) = running.finish();
        assert_eq!(status, 143, "{err}");
    }
}

#[test]
fn without_a_terminal_an_outside_stop_and_continue_do_not_freeze_the_init() {
    if !root_or_skip("without_a_terminal_an_outside_stop_and_continue_do_not_freeze_the_init") {
        return;
    }
    // Not PID 1 and no terminal (stdin is /dev/null): someone stops and continues the command
    // directly. sudrop once stopped itself along with it and, the command continued behind
    // its back, stayed stopped: no SIGTERM handling, no reaping.
    let sandbox = Sandbox::new(Some(PASSWD), Some(GROUP));
    let launch = not_pid_1();
    let mut running = sandbox.spawn_with(
        &launch,
        &[
            "sudrop",
            "-i",
            "app",
            "sh",
            "-c",
            "echo ready; exec sleep 30",
        ],
    );
    running.wait_for("ready");
    let init = running.pid();
    let command = first_child(init);
    kill(command, libc::SIGSTOP);
    wait_for_state(command, 'T');
    kill(command, libc::SIGCONT);
    wait_for_state(command, 'S');
    kill(init, libc::SIGTERM);
    let (status, _, err) = running.finish();
    assert_eq!(status, 143, "{err}");
}

/// A process in a new session whose controlling terminal is a fresh pseudo-terminal, as a
/// terminal emulator or `docker run -it` starts it; the test holds the master side.
struct Terminal {
    master: std::fs::File,
    screen: String,
    output: mpsc::Receiver<String>,
    child: std::process::Child,
}

impl Terminal {
    fn start(sandbox: &Sandbox, launch: &Launch, args: &[&str]) -> Terminal {
        let (master, slave) = crate::pty::open();
        let mut command = sandbox.command(launch, args);
        crate::pty::attach(&mut command, &slave);
        let child = command.spawn().expect("spawn");
        drop(slave);
        let (sender, output) = mpsc::channel();
        let mut reader = master.try_clone().expect("dup master");
        std::thread::spawn(move || {
            let mut buffer = [0u8; 1024];
            while let Ok(n) = reader.read(&mut buffer) {
                if n == 0
                    || sender
                        .send(String::from_utf8_lossy(&buffer[..n]).into_owned())
                        .is_err()
                {
                    break;
                }
            }
        });
        Terminal {
            master,
            screen: String::new(),
            output,
            child,
        }
    }

    /// Waits, within a bound, for the first whole line (ended by a newline) that contains
    /// `needle`, and returns it. A line is only complete once its newline arrived: the
    /// terminal may hand it over in pieces.
    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + LIMIT;
        loop {
            let mut complete = self
                .screen
                .split_inclusive('\n')
                .filter(|l| l.ends_with('\n'));
            if let Some(line) = complete.find(|l| l.contains(needle)) {
                return line.trim_end().to_string();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(text) => self.screen.push_str(&text),
                Err(_) => panic!("never saw {needle:?} on the terminal: {:?}", self.screen),
            }
        }
    }

    fn type_in(&mut self, text: &[u8]) {
        self.master.write_all(text).expect("write to the terminal");
    }

    /// The exit status, waited for within a bound.
    fn exit_code(mut self) -> Option<i32> {
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(self.child.wait());
        });
        let status = receiver.recv_timeout(LIMIT).expect("did not exit in time");
        status.expect("wait").code()
    }
}

#[test]
fn at_a_terminal_not_pid_1_sudrop_stops_with_its_command_and_resumes_it() {
    if !root_or_skip("at_a_terminal_not_pid_1_sudrop_stops_with_its_command_and_resumes_it") {
        return;
    }
    let sandbox = Sandbox::new(Some(PASSWD), Some(GROUP));
    let launch = not_pid_1();
    let mut terminal = Terminal::start(
        &sandbox,
        &launch,
        &[
            "sudrop",
            "-i",
            "app",
            "sh",
            "-c",
            "echo ready; exec sleep 30",
        ],
    );
    terminal.wait_for("ready");
    let init = terminal.child.id() as i32;
    let command = first_child(init);
    // As Ctrl-Z would: SIGTSTP to the command. sudrop, which handed it the terminal, follows
    // it, so a job-control shell would see its job stopped.
    kill(command, libc::SIGTSTP);
    wait_for_state(command, 'T');
    wait_for_state(init, 'T');
    // As `fg` would: SIGCONT to sudrop, which resumes the command.
    kill(init, libc::SIGCONT);
    wait_for_state(init, 'S');
    wait_for_state(command, 'S');
    kill(init, libc::SIGTERM);
    assert_eq!(terminal.exit_code(), Some(143));
}

#[test]
fn after_the_command_the_terminal_is_handed_back_to_whoever_had_it() {
    if !root_or_skip("after_the_command_the_terminal_is_handed_back_to_whoever_had_it") {
        return;
    }
    // A script runs sudrop (not PID 1) and then reads the terminal itself. sudrop once exited
    // with the terminal's foreground group still the dead command's, and the read failed.
    // No PID namespace: the script is the session leader, as in a terminal on a host. (Inside
    // a PID namespace whose session leader is outside it, that group has no number to give
    // back the terminal to.)
    let sandbox = Sandbox::new(Some(PASSWD), Some(GROUP));
    let launch = not_pid_1();
    let mut terminal = Terminal::start(
        &sandbox,
        &launch,
        &[
            "sh",
            "-c",
            "sudrop -i app true; echo ready; read line && echo got=$line",
        ],
    );
    terminal.wait_for("ready");
    terminal.type_in(b"hello\n");
    terminal.wait_for("got=hello");
    assert_eq!(terminal.exit_code(), Some(0));
}

#[test]
fn under_a_terminal_the_command_is_the_foreground_job_and_ctrl_c_ends_it() {
    if !root_or_skip("under_a_terminal_the_command_is_the_foreground_job_and_ctrl_c_ends_it") {
        return;
    }
    let sandbox = Sandbox::new(Some(PASSWD), Some(GROUP));
    let script = "set -- $(cat /proc/$$/stat); echo \"pgrp=$5 tpgid=$8 ready\"; sleep 30";
    let mut terminal = Terminal::start(
        &sandbox,
        &Launch::default(),
        &["sudrop", "-i", "app", "sh", "-c", script],
    );
    let line = terminal.wait_for("ready");
    let field = |name: &str| -> i32 {
        let value = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .expect(name);
        value.parse().expect("number")
    };
    let (pgrp, tpgid) = (field("pgrp="), field("tpgid="));
    assert_eq!(
        pgrp, tpgid,
        "the command's group is the terminal's foreground group: {line}"
    );
    assert_ne!(pgrp, 1, "the command has its own group, not the init's");
    terminal.type_in(b"\x03");
    assert_eq!(terminal.exit_code(), Some(130));
}

#[test]
fn a_user_command_cannot_type_into_the_terminal_it_inherits() {
    if !root_or_skip("a_user_command_cannot_type_into_the_terminal_it_inherits") {
        return;
    }
    // TIOCSTI pushes input into the terminal, as if typed: run from a root shell, a command
    // could make that shell run anything as root. sudrop's filter fails it for a user target,
    // with or without no_new_privs (the filter then goes in while CAP_SYS_ADMIN lasts).
    let sandbox = Sandbox::new(Some(PASSWD), Some(GROUP));
    // The --if-privileged fallback too: a caller that may not switch runs the command as
    // itself, and the filter still goes in (without it, the caller's own TIOCSTI works).
    let unprivileged = Launch {
        as_user: Some((1_000_650_000, 3000)),
        ..Launch::default()
    };
    let root = Launch::default();
    for (launch, args, expected) in [
        (
            &root,
            &["sudrop", "root", "probe", "tiocsti"][..],
            "tiocsti: ok",
        ),
        (
            &root,
            &["sudrop", "app", "probe", "tiocsti"][..],
            "tiocsti: EPERM",
        ),
        (
            &root,
            &["sudrop", "--allow-new-privs", "app", "probe", "tiocsti"][..],
            "tiocsti: EPERM",
        ),
        (
            &root,
            &["sudrop", "-i", "app", "probe", "tiocsti"][..],
            "tiocsti: EPERM",
        ),
        (&unprivileged, &["probe", "tiocsti"][..], "tiocsti: ok"),
        (
            &unprivileged,
            &["sudrop", "--if-privileged", "app", "probe", "tiocsti"][..],
            "tiocsti: EPERM",
        ),
    ] {
        let mut terminal = Terminal::start(&sandbox, launch, args);
        let line = terminal.wait_for("tiocsti: ");
        // An injected '#' is echoed by the terminal before the probe's line.
        let injected = line.starts_with('#');
        assert_eq!(
            line.trim_end().trim_start_matches('#'),
            expected,
            "{args:?}"
        );
        assert_eq!(injected, expected.ends_with("ok"), "{args:?}: {line:?}");
        assert_eq!(terminal.exit_code(), Some(0), "{args:?}");
    }
}

#[test]
fn the_terminal_filter_goes_in_only_when_a_terminal_is_in_reach() {
    if !root_or_skip("the_terminal_filter_goes_in_only_when_a_terminal_is_in_reach") {
        return;
    }
    // A container without a tty: a new session (no controlling terminal) and no terminal on
    // stdin, stdout or stderr. TIOCSTI cannot work there, so the filter (as costly as the
    // whole bounding-set drop) stays out; no_new_privs does not.
    let sandbox = Sandbox::new(Some(PASSWD), Some(GROUP));
    let no_terminal = Launch {
        wrapper: vec!["setsid".into()],
        ..Launch::default()
    };
    let out = sandbox.run_with(&no_terminal, &["sudrop", "app", "probe", "status"]);
    let text = crate::sandbox::stdout(&out);
    assert_eq!(
        crate::sandbox::status_field(&text, "Seccomp"),
        Some("0"),
        "{out:?}"
    );
    assert_eq!(
        crate::sandbox::status_field(&text, "NoNewPrivs"),
        Some("1"),
        "{text}"
    );
    // No terminal on 0, 1 or 2 and none controlling, but one inherited on descriptor 4: the
    // command could make it its controlling terminal (setsid, TIOCSCTTY) and type into it,
    // so the filter goes in.
    // On descriptor 4, on 1500, and on 1500 again once the open-file limit is lowered below
    // it (a poll up to the limit would miss that one).
    let (master, slave) = crate::pty::open();
    let slave_fd = std::os::fd::AsRawFd::as_raw_fd(&slave);
    // Only the copy made for the command may reach it: both ends are close-on-exec.
    for fd in [slave_fd, std::os::fd::AsRawFd::as_raw_fd(&master)] {
        // SAFETY: integer arguments only, on descriptors this test owns.
        let answer = unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        assert_eq!(answer, 0);
    }
    let small_limit = Launch {
        wrapper: vec![
            "prlimit".into(),
            "--nofile=1024:1024".into(),
            "setsid".into(),
        ],
        ..Launch::default()
    };
    // Also in init mode, whose own signalfd is open too.
    for (launch, number, mode) in [
        (&no_terminal, 4, "-v"),
        (&no_terminal, 1500, "-v"),
        (&small_limit, 1500, "-v"),
        (&no_terminal, 4, "-i"),
    ] {
        let mut command = sandbox.command(launch, &["sudrop", mode, "app", "probe", "status"]);
        // SAFETY: dup2 and fcntl are async-signal-safe; the descriptor is left open across the
        // exec.
        unsafe {
            use std::os::unix::process::CommandExt;
            command.pre_exec(move || {
                // (dup2 onto itself would keep close-on-exec: cleared here either way.)
                if libc::dup2(slave_fd, number) < 0 || libc::fcntl(number, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let out = command
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run");
        let text = crate::sandbox::stdout(&out);
        assert_eq!(
            crate::sandbox::status_field(&text, "Seccomp"),
            Some("2"),
            "{launch:?} {mode} fd {number}: {out:?}"
        );
    }
    drop(slave);
    // At a terminal: the filter (mode 2).
    let mut terminal = Terminal::start(
        &sandbox,
        &Launch::default(),
        &["sudrop", "app", "probe", "status"],
    );
    let line = terminal.wait_for("Seccomp:");
    assert_eq!(line.split_whitespace().nth(1), Some("2"), "{line:?}");
    assert_eq!(terminal.exit_code(), Some(0));
}
