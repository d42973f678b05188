//! Init mode: sudrop, already switched to the target user, forks the command and acts as its
//! init — reaping every zombie, forwarding signals, and draining what the command leaves behind.
//!
//! The design, and why:
//! - All signals are blocked and read from a signalfd: no handlers (nothing async-signal-unsafe
//!   ever runs), and no wakeups while idle (tini polls every second). Blocked signals are also
//!   the only ones a PID-1 init receives from inside its namespace.
//! - A signal that the launcher ignored would never be queued, so the init resets it to the
//!   default (harmless, since it is blocked). The child restores the launcher's exact mask and
//!   ignored set before it executes the command.
//! - The command gets its own process group, made the terminal's foreground group when sudrop's
//!   group was, so Ctrl-C reaches it directly and job control works. Signals go to the whole
//!   group by default, so a shell that never forwards still lets the application hear SIGTERM.
//! - When the command exits, what it left behind (group members, adopted orphans) is not left
//!   to the kernel's SIGKILL: whatever was not already sent a terminating signal gets SIGTERM,
//!   and all get `--grace` to finish before SIGKILL. Only then does sudrop exit, with the
//!   command's status.
//! - Not PID 1, sudrop makes itself a child subreaper, so orphans still come to it and nothing
//!   the command started outlives it.

use crate::cli::InitOptions;
use crate::error::Error;
use crate::exec::{self, Prepared};
use crate::signals::{last_signal, signal_name};
use crate::switch::Log;
use nix::errno::Errno;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// After SIGKILL, how long to wait for the killed to be reaped. Only processes sudrop may not
/// signal (another user's) can outlast it; sudrop then exits anyway.
const KILL_REAP_LIMIT: Duration = Duration::from_secs(5);

/// The launcher's signal state, restored in the child.
pub struct LauncherSignals {
    mask: libc::sigset_t,
    ignored: Vec<i32>,
}

/// Blocks every signal and opens a signalfd for them. Call it first, so that nothing arriving
/// during start-up is lost or acted on by default.
pub fn block_signals() -> Result<(LauncherSignals, OwnedFd), Error> {
    let mut all = MaybeUninit::<libc::sigset_t>::uninit();
    let mut original = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigfillset initialises the set it is given; sigprocmask reads `all` (initialised
    // just before) and writes the old mask into `original`.
    let all = unsafe {
        libc::sigfillset(all.as_mut_ptr());
        if libc::sigprocmask(libc::SIG_SETMASK, all.as_ptr(), original.as_mut_ptr()) != 0 {
            return Err(Error::syscall(
                "sigprocmask(SIG_SETMASK, all)",
                Errno::last(),
            ));
        }
        all.assume_init()
    };
    // SAFETY: sigprocmask succeeded, so it wrote the old mask.
    let mask = unsafe { original.assume_init() };

    let mut ignored = Vec::new();
    for signal in 1..=last_signal() {
        if signal == libc::SIGKILL || signal == libc::SIGSTOP {
            continue;
        }
        let mut action = MaybeUninit::<libc::sigaction>::uninit();
        // SAFETY: a null new action only reads the current one into `action`. Signals the libc
        // reserves for itself answer EINVAL and are skipped.
        if unsafe { libc::sigaction(signal, std::ptr::null(), action.as_mut_ptr()) } != 0 {
            continue;
        }
        // SAFETY: sigaction succeeded, so it wrote the action.
        let action = unsafe { action.assume_init() };
        if action.sa_sigaction == libc::SIG_IGN {
            ignored.push(signal);
            // SAFETY: installs the default disposition; the signal is blocked, so the default
            // action never runs in the init: it is read from the signalfd instead.
            unsafe { libc::signal(signal, libc::SIG_DFL) };
        }
    }

    // SAFETY: `all` is an initialised set; -1 asks for a new descriptor.
    let fd = unsafe { libc::signalfd(-1, &all, libc::SFD_CLOEXEC) };
    if fd < 0 {
        return Err(Error::syscall("signalfd", Errno::last()));
    }
    // SAFETY: signalfd returned a new descriptor that nothing else owns.
    Ok((LauncherSignals { mask, ignored }, unsafe {
        OwnedFd::from_raw_fd(fd)
    }))
}

/// How the exit status is computed: the command's code, or 128+N for death by signal N.
fn exit_status(wait_status: libc::c_int) -> Option<u8> {
    if libc::WIFEXITED(wait_status) {
        Some(libc::WEXITSTATUS(wait_status) as u8)
    } else if libc::WIFSIGNALED(wait_status) {
        Some((128 + libc::WTERMSIG(wait_status)) as u8)
    } else {
        None
    }
}

/// A process as /proc/PID/stat describes it.
#[derive(Debug, PartialEq, Eq)]
struct ProcStat {
    pid: i32,
    ppid: i32,
    pgrp: i32,
}

/// Reads `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
fn parse_stat(text: &str) -> Option<ProcStat> {
    let (head, rest) = text.rsplit_once(')')?;
    let pid = head.split_once(" (")?.0.trim().parse().ok()?;
    let mut fields = rest.split_whitespace();
    let _state = fields.next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some(ProcStat { pid, ppid, pgrp })
}

/// Every descendant of `root` with its process group, from /proc; `None` without /proc.
fn descendants(root: i32) -> Option<Vec<(i32, i32)>> {
    let mut processes: Vec<ProcStat> = Vec::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        // A process may be gone by now; that is not an error.
        if let Some(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .as_deref()
            .and_then(parse_stat)
        {
            processes.push(stat);
        }
    }
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(parent) = queue.pop() {
        for process in processes.iter().filter(|p| p.ppid == parent) {
            if process.pid != root && !found.iter().any(|&(pid, _)| pid == process.pid) {
                found.push((process.pid, process.pgrp));
                queue.push(process.pid);
            }
        }
    }
    Some(found)
}

fn send(target: libc::pid_t, signal: i32) -> Result<(), Errno> {
    // SAFETY: kill has no memory arguments; a stale pid only yields ESRCH.
    if unsafe { libc::kill(target, signal) } == 0 {
        Ok(())
    } else {
        Err(Errno::last())
    }
}

/// The running init.
struct Init<'a> {
    options: &'a InitOptions,
    log: Log,
    signal_fd: OwnedFd,
    child: libc::pid_t,
    is_pid_1: bool,
    /// The command's status once it has been reaped.
    status: Option<u8>,
    /// Whether a terminating signal already went to the command's whole process group.
    group_terminated: bool,
    /// Whether `waitpid` said there are no children left.
    no_children: bool,
    /// The terminal handed to the command, to hand back after a job-control stop.
    terminal: Option<libc::c_int>,
}

impl Init<'_> {
    /// Waits for one signal, up to `timeout` (`None`: forever). `None` back means time ran out.
    fn next_signal(&self, timeout: Option<Duration>) -> Option<i32> {
        loop {
            if let Some(timeout) = timeout {
                let mut poll_fd = libc::pollfd {
                    fd: self.signal_fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                let millis = libc::c_int::try_from(timeout.as_millis().saturating_add(1))
                    .unwrap_or(libc::c_int::MAX);
                // SAFETY: one valid pollfd, which poll may write `revents` into.
                match unsafe { libc::poll(&mut poll_fd, 1, millis) } {
                    0 => return None,
                    n if n < 0 && Errno::last() == Errno::EINTR => continue,
                    _ => {}
                }
            }
            let mut info = MaybeUninit::<libc::signalfd_siginfo>::uninit();
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            // SAFETY: reads at most `size` bytes into `info`, which has room for them.
            let read =
                unsafe { libc::read(self.signal_fd.as_raw_fd(), info.as_mut_ptr().cast(), size) };
            if read == size as isize {
                // SAFETY: the kernel filled the whole structure.
                return Some(unsafe { info.assume_init() }.ssi_signo as i32);
            }
            // EINTR cannot really happen with every signal blocked; anything else would be a
            // kernel bug. Either way, reap in case children died meanwhile, and wait again.
            if read < 0 && Errno::last() != Errno::EINTR {
                return Some(libc::SIGCHLD);
            }
        }
    }

    /// Reaps every child that has exited, noting the command's status.
    fn reap(&mut self) {
        loop {
            let mut wait_status = 0;
            // SAFETY: waitpid writes the status into a valid integer.
            let pid =
                unsafe { libc::waitpid(-1, &mut wait_status, libc::WNOHANG | libc::WUNTRACED) };
            match pid {
                0 => return,
                -1 => {
                    match Errno::last() {
                        Errno::EINTR => continue,
                        Errno::ECHILD => self.no_children = true,
                        _ => {}
                    }
                    return;
                }
                pid if pid == self.child && libc::WIFSTOPPED(wait_status) => self.follow_stop(),
                pid if pid == self.child => {
                    if let Some(status) = exit_status(wait_status) {
                        self.log.say(format_args!(
                            "init: the command (pid {pid}) ended with status {status}"
                        ));
                        self.status = Some(status);
                    }
                }
                pid => self.log.say(format_args!("init: reaped pid {pid}")),
            }
        }
    }

    /// The command was stopped (Ctrl-Z, SIGTSTP/TTIN/TTOU): outside a container, where a shell
    /// launched sudrop, sudrop stops too so that the shell sees its job stopped and gets its
    /// terminal back. The shell's SIGCONT then resumes sudrop, which hands the terminal back to
    /// the command and forwards the SIGCONT (read from the signalfd) to it. As PID 1 nobody
    /// waits for sudrop, and the kernel would not stop it anyway.
    fn follow_stop(&mut self) {
        self.log.say(format_args!("init: the command was stopped"));
        if self.is_pid_1 {
            return;
        }
        // SAFETY: kill and tcsetpgrp have no memory arguments. SIGSTOP cannot be blocked, so
        // this returns once sudrop has been continued; SIGTTOU is blocked, so tcsetpgrp cannot
        // stop it.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGSTOP);
            if let Some(fd) = self.terminal {
                libc::tcsetpgrp(fd, self.child);
            }
        }
        self.log.say(format_args!("init: continued"));
    }

    fn rewrite(&self, signal: i32) -> Option<i32> {
        match self
            .options
            .rewrites
            .iter()
            .find(|(from, _)| *from == signal)
        {
            Some(&(_, to)) => to,
            None => Some(signal),
        }
    }

    /// Whether sending `signal` asks a process to end (so the drain need not ask again).
    fn is_terminating(&self, signal: i32) -> bool {
        [libc::SIGTERM, libc::SIGINT, libc::SIGQUIT, libc::SIGKILL].contains(&signal)
            || self.rewrite(libc::SIGTERM) == Some(signal)
    }

    fn forward(&mut self, received: i32) {
        let Some(signal) = self.rewrite(received) else {
            self.log
                .say(format_args!("init: dropping {}", signal_name(received)));
            return;
        };
        let (target, what) = if self.options.single_child {
            (self.child, "the command")
        } else {
            (-self.child, "the command's process group")
        };
        self.log.say(format_args!(
            "init: {} -> {} to {what}",
            signal_name(received),
            signal_name(signal)
        ));
        match send(target, signal) {
            Ok(()) if !self.options.single_child && self.is_terminating(signal) => {
                self.group_terminated = true
            }
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(errno) => eprintln!(
                "sudrop: init: kill({target}, {}): {}",
                signal_name(signal),
                errno.desc()
            ),
        }
    }

    /// Runs until the command has been reaped.
    fn supervise(&mut self, pending: Option<i32>) {
        if let Some(signal) = pending {
            self.forward(signal);
        }
        while self.status.is_none() {
            match self.next_signal(None) {
                Some(libc::SIGCHLD) => self.reap(),
                Some(signal) => self.forward(signal),
                None => {}
            }
        }
    }

    /// Sends `signal` to what the command left behind; `skip_terminated` spares the members of
    /// the command's process group that were already sent a terminating signal.
    fn signal_leftovers(&self, signal: i32, skip_terminated: bool) {
        let own_pid = std::process::id() as i32;
        match descendants(own_pid) {
            Some(leftovers) => {
                for (pid, pgrp) in leftovers {
                    if skip_terminated && self.group_terminated && pgrp == self.child {
                        continue;
                    }
                    self.log.say(format_args!(
                        "init: {} to leftover pid {pid}",
                        signal_name(signal)
                    ));
                    let _ = send(pid, signal);
                }
            }
            // Without /proc: the whole namespace as PID 1, else the command's process group.
            None if skip_terminated && self.group_terminated => {}
            None if self.is_pid_1 => {
                let _ = send(-1, signal);
            }
            None => {
                let _ = send(-self.child, signal);
            }
        }
    }

    /// Waits until no child is left or `limit` has passed; signals other than SIGCHLD are
    /// ignored (a second SIGTERM does not cut the drain short). True when none is left.
    fn wait_for_leftovers(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        self.reap();
        while !self.no_children {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return false;
            }
            match self.next_signal(Some(remaining)) {
                Some(libc::SIGCHLD) => self.reap(),
                Some(signal) => self.log.say(format_args!(
                    "init: draining; {} not forwarded",
                    signal_name(signal)
                )),
                None => {}
            }
        }
        true
    }

    /// After the command: SIGTERM, the grace period, SIGKILL, reaping.
    fn drain(&mut self) {
        self.reap();
        if self.no_children {
            return;
        }
        self.log.say(format_args!(
            "init: the command left processes behind; SIGTERM and {} ms of grace",
            self.options.grace.as_millis()
        ));
        self.signal_leftovers(libc::SIGTERM, true);
        if self.wait_for_leftovers(self.options.grace) {
            return;
        }
        self.log.say(format_args!(
            "init: grace period over; SIGKILL to what is left"
        ));
        self.signal_leftovers(libc::SIGKILL, false);
        let _ = send(-self.child, libc::SIGKILL);
        if !self.wait_for_leftovers(KILL_REAP_LIMIT) {
            eprintln!("sudrop: init: processes sudrop may not kill are still running");
        }
    }
}

/// What the child does between fork and exec. Never returns.
fn start_command(
    prepared: &Prepared,
    launcher: &LauncherSignals,
    take_terminal: Option<libc::c_int>,
) -> ! {
    // SAFETY: setpgid(0, 0) only changes this process's group. tcsetpgrp is called with every
    // signal still blocked, so SIGTTOU cannot stop the child. Then the launcher's dispositions
    // and mask come back, exactly, just before the exec.
    unsafe {
        libc::setpgid(0, 0);
        if let Some(fd) = take_terminal {
            libc::tcsetpgrp(fd, libc::getpgrp());
        }
        for &signal in &launcher.ignored {
            libc::signal(signal, libc::SIG_IGN);
        }
        libc::sigprocmask(libc::SIG_SETMASK, &launcher.mask, std::ptr::null_mut());
    }
    let error = exec::execute(prepared);
    eprintln!("sudrop: {error}");
    // SAFETY: _exit ends the child without running the parent's atexit handlers.
    unsafe { libc::_exit(i32::from(error.exit_code())) }
}

/// The descriptor of the controlling terminal if sudrop's process group is its foreground
/// group (so the command may take it over), tried on stdin, stdout and stderr.
fn foreground_terminal() -> Option<libc::c_int> {
    // SAFETY: getpgrp and tcgetpgrp only read process and terminal state.
    let own_group = unsafe { libc::getpgrp() };
    (0..=2).find(|&fd| {
        // SAFETY: tcgetpgrp only reads terminal state; a non-terminal fd answers -1.
        unsafe { libc::tcgetpgrp(fd) == own_group }
    })
}

/// Prepares the parts of init mode that must precede the fork and come after the identity
/// switch: the subreaper bit and the parent-death signal. Returns a signal to forward at once
/// when the parent died before the parent-death signal was armed.
pub fn arm(options: &InitOptions, parent_before_switch: libc::pid_t) -> Result<Option<i32>, Error> {
    // SAFETY: getpid has no preconditions.
    if unsafe { libc::getpid() } != 1 {
        nix::sys::prctl::set_child_subreaper(true)
            .map_err(|e| Error::syscall("prctl(PR_SET_CHILD_SUBREAPER)", e))?;
    }
    let Some(signal) = options.pdeathsig else {
        return Ok(None);
    };
    // Set after the uid change: the kernel clears it on every credential change.
    // SAFETY: PR_SET_PDEATHSIG takes a signal number and touches no memory.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, signal as libc::c_ulong, 0, 0, 0) } != 0 {
        return Err(Error::syscall(
            format!("prctl(PR_SET_PDEATHSIG, {})", signal_name(signal)),
            Errno::last(),
        ));
    }
    // SAFETY: getppid has no preconditions.
    let parent_now = unsafe { libc::getppid() };
    Ok((parent_now != parent_before_switch).then_some(signal))
}

/// Forks the command and runs the init until everything has ended; returns the exit status.
pub fn run(
    prepared: &Prepared,
    options: &InitOptions,
    launcher: &LauncherSignals,
    signal_fd: OwnedFd,
    pending: Option<i32>,
    log: Log,
) -> Result<u8, Error> {
    let take_terminal = foreground_terminal();
    // SAFETY: sudrop is single-threaded, so the child may run anything up to its exec.
    let child = match unsafe { nix::unistd::fork() } {
        Err(errno) => return Err(Error::syscall("fork", errno)),
        Ok(nix::unistd::ForkResult::Child) => start_command(prepared, launcher, take_terminal),
        Ok(nix::unistd::ForkResult::Parent { child }) => child.as_raw(),
    };
    // Also here, so the group exists before the first signal is forwarded to it; EACCES once
    // the child has executed is fine.
    // SAFETY: setpgid and getpid have no memory arguments.
    let is_pid_1 = unsafe {
        libc::setpgid(child, child);
        libc::getpid() == 1
    };
    // The init must not keep the launch directory busy (the command keeps its own).
    let _ = std::env::set_current_dir("/");
    log.say(format_args!("init: started the command as pid {child}"));

    let mut init = Init {
        options,
        log,
        signal_fd,
        child,
        is_pid_1,
        status: None,
        group_terminated: false,
        no_children: false,
        terminal: take_terminal,
    };
    init.supervise(pending);
    init.drain();
    let status = init.status.unwrap_or(crate::error::EXIT_FAILURE);
    let remapped = options
        .remap_exit
        .iter()
        .find(|(from, _)| *from == status)
        .map_or(status, |&(_, to)| to);
    log.say(format_args!("init: exiting with {remapped}"));
    Ok(remapped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_lines_with_awkward_names() {
        assert_eq!(
            parse_stat("42 (sh) S 1 42 42 0"),
            Some(ProcStat {
                pid: 42,
                ppid: 1,
                pgrp: 42
            })
        );
        assert_eq!(
            parse_stat("7 (a) b (c)) R 3 5 5"),
            Some(ProcStat {
                pid: 7,
                ppid: 3,
                pgrp: 5
            })
        );
        assert_eq!(parse_stat("7 (x"), None);
        assert_eq!(parse_stat(""), None);
    }

    #[test]
    fn wait_statuses_become_exit_codes() {
        // Encodings as the kernel reports them: code << 8, or the signal number.
        assert_eq!(exit_status(0), Some(0));
        assert_eq!(exit_status(3 << 8), Some(3));
        assert_eq!(exit_status(255 << 8), Some(255));
        assert_eq!(exit_status(libc::SIGTERM), Some(143));
        assert_eq!(exit_status(libc::SIGKILL | 0x80), Some(137));
        assert_eq!(exit_status(0x137f), None, "stopped, not ended");
    }

    #[test]
    fn descendants_of_this_test_process() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("sleep");
        let found = descendants(std::process::id() as i32).expect("/proc");
        assert!(
            found.iter().any(|&(pid, _)| pid == child.id() as i32),
            "{found:?}"
        );
        let _ = child.kill();
        let _ = child.wait();
    }
}
