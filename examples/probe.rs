//! A test helper run inside the integration tests' sandboxes (not shipped).
//!
//! - `probe status`: `euid=N`, then the id, capability and signal lines of /proc/self/status.
//! - `probe bind PORT`: binds TCP 0.0.0.0:PORT; prints `bound` or the error.
//! - `probe signals N`: prints `ready`, then `got S` for each of the next N signals, and exits.
//! - `probe slow-exit MS`: prints `ready`; on SIGTERM works MS milliseconds, prints `finished`.
//! - `probe daemon MODE [MS]`: starts a daemon in a new session and returns once it is ready
//!   (it prints `daemon PID`). MODE `slow-exit MS` as above; `ignore-term` ignores SIGTERM;
//!   `report-parent` prints `adopted-by PPID` once its parent has exited, then waits.
//! - `probe signal-times N`: like `signals`, but prints `got S NANOS` (CLOCK_MONOTONIC).
//! - `probe notify`: sends `READY=1` to the datagram socket `$NOTIFY_SOCKET`; prints `notified`
//!   or the error.
//! - `probe tiocsti`: pushes a character into the terminal on stdin with TIOCSTI; prints
//!   `tiocsti: ok` or `tiocsti: ERRNO-NAME`.
//! - `probe orphans N`: makes N orphans (their parents exit), kills them all at once, and
//!   prints `reaped N in MICROS us` once the init has reaped every one.
//! - `probe ignore-sigchld COMMAND [ARG]...`: executes COMMAND with SIGCHLD ignored (a launcher
//!   that shells and `unshare` cannot be: they give SIGCHLD back its default).

use std::io::Write;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::ExitCode;
use std::time::{Duration, Instant};

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Blocks `signals` (every signal when empty) and returns a signalfd for them.
fn signal_fd(signals: &[i32]) -> OwnedFd {
    // SAFETY: plain libc calls on a local sigset; the fd returned is new and owned here.
    unsafe {
        let mut set = std::mem::zeroed::<libc::sigset_t>();
        if signals.is_empty() {
            libc::sigfillset(&mut set);
        } else {
            libc::sigemptyset(&mut set);
            for &s in signals {
                libc::sigaddset(&mut set, s);
            }
        }
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        OwnedFd::from_raw_fd(libc::signalfd(-1, &set, libc::SFD_CLOEXEC))
    }
}

fn read_signal(fd: &OwnedFd) -> i32 {
    // SAFETY: reads one siginfo into a zeroed buffer of the right size.
    unsafe {
        let mut info = std::mem::zeroed::<libc::signalfd_siginfo>();
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        while libc::read(
            fd.as_raw_fd(),
            (&mut info as *mut libc::signalfd_siginfo).cast(),
            size,
        ) != size as isize
        {}
        info.ssi_signo as i32
    }
}

fn monotonic_nanos() -> u128 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into a valid timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec as u128 * 1_000_000_000 + now.tv_nsec as u128
}

/// Makes `count` orphans in one process group, kills the group, and times the reaping.
fn orphans(count: usize) {
    let mut pids = Vec::with_capacity(count);
    let mut group = 0;
    for _ in 0..count {
        let mut fds = [0; 2];
        // SAFETY: pipe writes two new descriptors into the array.
        unsafe { libc::pipe(fds.as_mut_ptr()) };
        // SAFETY: single-threaded; the child forks the orphan-to-be and exits at once.
        let child = unsafe { libc::fork() };
        if child == 0 {
            // SAFETY: as above. The grandchild joins the group *before* it reports its pid,
            // so the group exists before the next grandchild asks to join it.
            unsafe {
                if libc::fork() == 0 {
                    libc::setpgid(0, group);
                    let pid = libc::getpid();
                    libc::write(fds[1], (&pid as *const i32).cast(), 4);
                    loop {
                        libc::pause();
                    }
                }
                libc::_exit(0);
            }
        }
        let mut pid = 0i32;
        // SAFETY: reaps the child, reads the grandchild's pid, closes the pipe.
        unsafe {
            libc::waitpid(child, std::ptr::null_mut(), 0);
            libc::read(fds[0], (&mut pid as *mut i32).cast(), 4);
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        if group == 0 {
            group = pid;
        }
        pids.push(pid);
    }
    let start = monotonic_nanos();
    // SAFETY: kills the orphans' group, which holds only the orphans.
    unsafe { libc::kill(-group, libc::SIGKILL) };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !pids.is_empty() && Instant::now() < deadline {
        pids.retain(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        std::thread::yield_now();
    }
    if pids.is_empty() {
        say(&format!(
            "reaped {count} in {} us",
            (monotonic_nanos() - start) / 1000
        ));
    } else {
        say(&format!("gave up: {} of {count} not reaped", pids.len()));
    }
}

fn slow_exit(millis: u64) {
    let fd = signal_fd(&[libc::SIGTERM]);
    say("ready");
    read_signal(&fd);
    // The "work" a real application does to shut down, e.g. saving its data.
    std::thread::sleep(Duration::from_millis(millis));
    say("finished");
}

fn daemon(mode: &str, millis: u64) -> ExitCode {
    let mut fds = [0; 2];
    // SAFETY: pipe writes two new descriptors into the array.
    unsafe { libc::pipe(fds.as_mut_ptr()) };
    // SAFETY: the probe is single-threaded here.
    let pid = unsafe { libc::fork() };
    if pid > 0 {
        // Return once the daemon says it is ready.
        let mut byte = [0u8];
        // SAFETY: reads one byte into a local buffer.
        unsafe { libc::read(fds[0], byte.as_mut_ptr().cast(), 1) };
        return ExitCode::SUCCESS;
    }
    // SAFETY: setsid, getpid, getppid and write have no memory hazards here.
    let parent = unsafe {
        libc::setsid();
        libc::getppid()
    };
    // Holds SIGTERM until the adoption is reported, so a quick drain cannot pre-empt it.
    let held_term = (mode == "report-parent").then(|| signal_fd(&[libc::SIGTERM]));
    let term = if mode == "ignore-term" {
        // SAFETY: installs SIG_IGN.
        unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
        None
    } else if mode == "slow-exit" {
        Some(signal_fd(&[libc::SIGTERM]))
    } else {
        None
    };
    say(&format!("daemon {}", std::process::id()));
    // SAFETY: writes one byte from a local buffer.
    unsafe { libc::write(fds[1], b"r".as_ptr().cast(), 1) };
    match (mode, term) {
        ("slow-exit", Some(fd)) => {
            read_signal(&fd);
            std::thread::sleep(Duration::from_millis(millis));
            say("finished");
        }
        ("report-parent", _) => {
            let deadline = Instant::now() + Duration::from_secs(5);
            // SAFETY: getppid has no preconditions.
            while unsafe { libc::getppid() } == parent && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            // SAFETY: as above.
            say(&format!("adopted-by {}", unsafe { libc::getppid() }));
            drop(held_term);
            // SAFETY: unblocks SIGTERM on a local set; a pending one then ends the daemon.
            unsafe {
                let mut set = std::mem::zeroed::<libc::sigset_t>();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGTERM);
                libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            }
            loop {
                // SAFETY: pause waits for a signal; SIGTERM's default action ends the daemon.
                unsafe { libc::pause() };
            }
        }
        _ => loop {
            // SAFETY: as above.
            unsafe { libc::pause() };
        },
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize| args.get(i).and_then(|a| a.parse::<u64>().ok()).unwrap_or(0);
    match args.first().map(String::as_str) {
        Some("status") => {
            say(&format!("euid={}", nix::unistd::geteuid()));
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            for line in status.lines() {
                let wanted = [
                    "Uid:",
                    "Gid:",
                    "Groups:",
                    "Cap",
                    "NoNewPrivs:",
                    "Seccomp:",
                    "Sig",
                ];
                if wanted.iter().any(|prefix| line.starts_with(prefix)) {
                    say(line);
                }
            }
            ExitCode::SUCCESS
        }
        Some("ignore-sigchld") if args.len() > 1 => {
            use std::os::unix::process::CommandExt;
            // SAFETY: installs SIG_IGN, no handler.
            unsafe { libc::signal(libc::SIGCHLD, libc::SIG_IGN) };
            let error = std::process::Command::new(&args[1]).args(&args[2..]).exec();
            say(&format!("exec: {error}"));
            ExitCode::FAILURE
        }
        Some("notify") => {
            let path = std::env::var_os("NOTIFY_SOCKET").unwrap_or_default();
            let sent = std::os::unix::net::UnixDatagram::unbound()
                .and_then(|socket| socket.send_to(b"READY=1", &path));
            match sent {
                Ok(_) => say("notified"),
                Err(error) => say(&format!("notify failed: {error}")),
            }
            ExitCode::SUCCESS
        }
        Some("tiocsti") => {
            let byte = b'#';
            // SAFETY: TIOCSTI reads one byte from the pointer it is given.
            let result = unsafe { libc::ioctl(0, libc::TIOCSTI, &byte) };
            let error = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            let name = match (result, error) {
                (0, _) => "ok".to_string(),
                (_, libc::EPERM) => "EPERM".to_string(),
                (_, libc::EIO) => "EIO".to_string(),
                (_, other) => format!("errno {other}"),
            };
            say(&format!("tiocsti: {name}"));
            ExitCode::SUCCESS
        }
        Some("bind") => match TcpListener::bind(format!("0.0.0.0:{}", number(1))) {
            Ok(_) => {
                say("bound");
                ExitCode::SUCCESS
            }
            Err(error) => {
                say(&format!("bind: {error}"));
                ExitCode::FAILURE
            }
        },
        Some("signals") => {
            let fd = signal_fd(&[]);
            say("ready");
            for _ in 0..number(1) {
                say(&format!("got {}", read_signal(&fd)));
            }
            ExitCode::SUCCESS
        }
        Some("signal-times") => {
            let fd = signal_fd(&[]);
            say("ready");
            for _ in 0..number(1) {
                let signal = read_signal(&fd);
                say(&format!("got {signal} {}", monotonic_nanos()));
            }
            ExitCode::SUCCESS
        }
        Some("orphans") => {
            orphans(number(1) as usize);
            ExitCode::SUCCESS
        }
        Some("slow-exit") => {
            slow_exit(number(1));
            ExitCode::SUCCESS
        }
        Some("daemon") => daemon(args.get(1).map_or("", String::as_str), number(2)),
        _ => {
            eprintln!(
                "usage: probe status | bind PORT | signals N | slow-exit MS | daemon MODE [MS]"
            );
            ExitCode::from(2)
        }
    }
}
