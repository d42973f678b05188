//! Init mode: sudrop, already switched to the target user, forks the command and acts as its
//! init — reaping every zombie, forwarding signals, and draining what the command leaves behind.
//!
//! The design, and why:
//! - All signals are blocked and read from a signalfd: no handlers (nothing async-signal-unsafe
//!   ever runs), and no wakeups while idle (tini polls every second). Blocked signals are also
//!   the only ones a PID-1 init receives from inside its namespace.
//! - The launcher's ignored signals stay ignored: the kernel queues a blocked signal even when
//!   its disposition is "ignore" (the disposition may change before it is unblocked), so the
//!   signalfd reads them all the same, and the command inherits the set untouched. SIGCHLD is
//!   the one exception: ignored, it makes the kernel reap the init's children unasked and send
//!   no SIGCHLD at all, so the init gives it the default and the child ignores it again. The
//!   child restores the launcher's exact mask before it executes the command.
//! - The command gets its own process group, made the terminal's foreground group when sudrop's
//!   group was, so Ctrl-C reaches it directly and job control works. Signals go to the whole
//!   group by default, so a shell that never forwards still lets the application hear SIGTERM.
//! - When the command exits, what it left behind (group members, adopted orphans) is not left
//!   to the kernel's SIGKILL: whatever was not already sent a terminating signal gets SIGTERM,
//!   and all get `--grace` to finish before SIGKILL. Only then does sudrop exit, with the
//!   command's status.
//! - Socket activation passes through: a `LISTEN_PID` naming sudrop names the command in the
//!   command's environment, and the `LISTEN_FDS` descriptors reach it unchanged.
//! - The init keeps nothing it inherited but stdin, stdout and stderr (descriptors 3 and up are
//!   closed once the command has its copies), and works from `/`.
//! - Not PID 1, sudrop makes itself a child subreaper, so orphans still come to it and nothing
//!   the command started outlives it.

pub mod machine;
#[cfg(test)]
mod scripted;

use crate::call::Call;
use crate::error::Error;
use crate::exec::{self, Prepared};
use crate::id::Pid;
use crate::log::{self, Log};
use crate::signals::{Signal, signal_name};
use crate::sys::Errno;
use crate::sys::process::{self, ChildState, KillTarget};
use crate::sys::signal::{self, Mask, SignalFd};
use machine::{Action, Event, Machine, Note, Now};
use std::time::{Duration, Instant};

/// What `--init` and its options ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Forward to the command alone instead of its process group.
    pub single_child: bool,
    /// Signal rewrites, first match wins; `None` drops the signal.
    pub rewrites: Vec<(Signal, Option<Signal>)>,
    pub remap_exit: Vec<(u8, u8)>,
    /// How long leftovers get between SIGTERM and SIGKILL.
    pub grace: Duration,
    /// How long the first SIGTERM is held before it is forwarded (zero: not held).
    pub stop_delay: Duration,
    pub pdeathsig: Option<Signal>,
}

pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// The launcher's signal state, restored in the child.
pub struct LauncherSignals {
    mask: Mask,
    /// Whether the launcher ignored SIGCHLD, which the init itself cannot.
    ignored_child_signal: bool,
}

/// Blocks every signal and opens a signalfd for them. Call it first, so that nothing arriving
/// during start-up is lost or acted on by default.
pub fn block_signals() -> Result<(LauncherSignals, SignalFd), Error> {
    let mask = signal::block_all().map_err(|e| Error::syscall(Call::BlockSignals, e))?;
    // Blocked, every other ignored signal is still queued; an ignored SIGCHLD is not even sent.
    let ignored_child_signal = signal::is_ignored(Signal::CHLD) == Some(true);
    if ignored_child_signal {
        signal::set_default(Signal::CHLD);
    }
    let signal_fd = SignalFd::all().map_err(|e| Error::syscall(Call::SignalFd, e))?;
    Ok((
        LauncherSignals {
            mask,
            ignored_child_signal,
        },
        signal_fd,
    ))
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
    Some(descendants_in(root, processes))
}

/// The descendants of `root` in a process table, with their process groups: n log n (the
/// table sorted by parent, each process visited once even if racing reads made a cycle).
///
/// Pid reuse: the init does not reap between this scan and signalling what it found, so its
/// own children (every orphan, since it is a subreaper or PID 1) cannot be replaced by an
/// unrelated process meanwhile; a deeper descendant reaped by its own parent can.
fn descendants_in(root: i32, mut processes: Vec<ProcStat>) -> Vec<(i32, i32)> {
    processes.sort_unstable_by_key(|process| process.ppid);
    let mut visited = vec![false; processes.len()];
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(parent) = queue.pop() {
        let first = processes.partition_point(|process| process.ppid < parent);
        for index in first..processes.len() {
            let process = &processes[index];
            if process.ppid != parent {
                break;
            }
            if process.pid != root && !visited[index] {
                visited[index] = true;
                found.push((process.pid, process.pgrp));
                queue.push(process.pid);
            }
        }
    }
    found
}

/// The calls the init makes, behind which the kernel stands; [`LinuxInit`] is the real one.
pub trait Kernel {
    /// The next signal, or `None` once `deadline` has passed.
    fn next_signal(&mut self, deadline: Option<Instant>) -> Option<Signal>;
    fn now(&self) -> Instant;
    fn reap_one(&mut self) -> Result<ChildState, Errno>;
    fn send(&mut self, target: KillTarget, signal: Signal) -> Result<(), Errno>;
    /// Every process below the init with its process group; `None` without `/proc`.
    fn leftovers(&mut self) -> Option<Vec<(Pid, Pid)>>;
    /// Stops the init until it is continued, then gives the command the terminal back.
    fn follow_stop(&mut self);
}

/// Runs `machine` against `kernel` until it exits; returns the exit status. `pending` is a
/// signal to forward at once (the parent died before the parent-death signal was armed).
pub fn drive(
    kernel: &mut impl Kernel,
    machine: &mut Machine<'_>,
    pending: Option<Signal>,
    log: Log,
) -> u8 {
    let mut actions = Vec::new();
    let mut notes = Vec::new();
    if let Some(signal) = pending {
        machine.forward_now(signal, &mut actions, &mut notes);
    }
    loop {
        let mut next = 0;
        while let Some(action) = actions.get(next).cloned() {
            next += 1;
            match action {
                Action::Send(target, signal) => match kernel.send(target, signal) {
                    Ok(()) | Err(Errno::ESRCH) => {}
                    Err(errno) => log::error(format_args!(
                        "init: kill({target:?}, {}): {}",
                        signal_name(signal),
                        errno.desc()
                    )),
                },
                Action::Reap => loop {
                    // An error other than ECHILD would be a kernel bug: end the reap.
                    let state = kernel.reap_one().unwrap_or(ChildState::Running);
                    let last = matches!(state, ChildState::Running | ChildState::NoChildren);
                    machine.on(
                        Event::Child(state),
                        &mut Now::new(&mut || kernel.now()),
                        &mut actions,
                        &mut notes,
                    );
                    say(log, &mut notes);
                    if last {
                        break;
                    }
                },
                Action::ListLeftovers => {
                    let leftovers = kernel.leftovers();
                    machine.on(
                        Event::Leftovers(leftovers),
                        &mut Now::new(&mut || kernel.now()),
                        &mut actions,
                        &mut notes,
                    );
                }
                Action::FollowStop => {
                    kernel.follow_stop();
                    log.say(format_args!("init: continued"));
                }
                Action::ReportSurvivors => log::error(format_args!(
                    "init: processes sudrop may not kill are still running"
                )),
                Action::Exit(status) => {
                    say(log, &mut notes);
                    return status;
                }
            }
            say(log, &mut notes);
        }
        actions.clear();
        let event = match kernel.next_signal(machine.deadline()) {
            Some(signal) => Event::Signal(signal),
            None => Event::Deadline,
        };
        machine.on(
            event,
            &mut Now::new(&mut || kernel.now()),
            &mut actions,
            &mut notes,
        );
        say(log, &mut notes);
    }
}

/// Says what the machine noted, for `--verbose`.
fn say(log: Log, notes: &mut Vec<Note>) {
    for note in notes.drain(..) {
        match note {
            Note::Held(delay) => log.say(format_args!(
                "init: SIGTERM held for {} ms (--stop-delay)",
                delay.as_millis()
            )),
            Note::DelayEnds(signal) => log.say(format_args!(
                "init: {}: the stop delay ends",
                signal_name(signal)
            )),
            Note::DelayOver => log.say(format_args!("init: the stop delay is over")),
            Note::Dropped(signal) => {
                log.say(format_args!("init: dropping {}", signal_name(signal)))
            }
            Note::Forwarded(received, sent, target) => log.say(format_args!(
                "init: {} -> {} to {}",
                signal_name(received),
                signal_name(sent),
                match target {
                    KillTarget::Process(_) => "the command",
                    _ => "the command's process group",
                }
            )),
            Note::Ended(pid, status) => log.say(format_args!(
                "init: the command (pid {pid}) ended with status {status}"
            )),
            Note::Reaped(pid) => log.say(format_args!("init: reaped pid {pid}")),
            Note::Stopped => log.say(format_args!("init: the command was stopped")),
            Note::NotForwarded(signal) => log.say(format_args!(
                "init: draining; {} not forwarded",
                signal_name(signal)
            )),
            Note::Draining(grace) => log.say(format_args!(
                "init: the command left processes behind; SIGTERM and {} ms of grace",
                grace.as_millis()
            )),
            Note::GraceOver => log.say(format_args!(
                "init: grace period over; SIGKILL to what is left"
            )),
            Note::ToLeftover(pid, signal) => log.say(format_args!(
                "init: {} to leftover pid {pid}",
                signal_name(signal)
            )),
            Note::Exiting(status) => log.say(format_args!("init: exiting with {status}")),
        }
    }
}

/// The real kernel, through the syscall layer.
pub struct LinuxInit {
    signal_fd: SignalFd,
    own_pid: Pid,
    child: Pid,
    /// The terminal handed to the command, to hand back after a job-control stop.
    terminal: Option<i32>,
}

impl Kernel for LinuxInit {
    /// A signal the init caused itself is dropped: a write to a broken stderr queues a SIGPIPE
    /// from the init to the init, and forwarding it would only lead to the next one.
    fn next_signal(&mut self, deadline: Option<Instant>) -> Option<Signal> {
        loop {
            let timeout =
                deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
            return match self.signal_fd.next(timeout) {
                // (The one signal the init sends itself on purpose, SIGSTOP, is never read.)
                Ok(Some(received)) if received.sender == self.own_pid => continue,
                Ok(received) => received.map(|received| received.signal),
                // EINTR cannot really happen with every signal blocked; anything else would be
                // a kernel bug. Either way, reap in case children died meanwhile.
                Err(Errno::EINTR) => continue,
                Err(_) => Some(Signal::CHLD),
            };
        }
    }

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn reap_one(&mut self) -> Result<ChildState, Errno> {
        process::reap_one()
    }

    fn send(&mut self, target: KillTarget, signal: Signal) -> Result<(), Errno> {
        process::kill(target, signal)
    }

    fn leftovers(&mut self) -> Option<Vec<(Pid, Pid)>> {
        descendants(self.own_pid.0).map(|found| {
            found
                .into_iter()
                .map(|(pid, group)| (Pid(pid), Pid(group)))
                .collect()
        })
    }

    fn follow_stop(&mut self) {
        // SIGSTOP cannot be blocked, so this returns once sudrop has been continued; SIGTTOU
        // is blocked, so handing the terminal back cannot stop it.
        let _ = process::kill(KillTarget::Process(self.own_pid), Signal::STOP);
        if let Some(fd) = self.terminal {
            let _ = process::set_terminal_foreground(fd, self.child);
        }
    }
}

/// What the child does until it executes, in the init's memory (see [`process::spawn`]).
/// Never returns.
fn start_command(
    prepared: &Prepared<'_>,
    launcher: &LauncherSignals,
    take_terminal: Option<i32>,
    init_pid: Pid,
) -> ! {
    // Its own process group, which therefore exists before the init resumes and forwards a
    // first signal to it; the terminal is taken with every signal still blocked, so SIGTTOU
    // cannot stop the child. Then the launcher's SIGCHLD disposition and mask come back,
    // just before the exec.
    let _ = process::start_process_group();
    if let Some(fd) = take_terminal {
        let _ = process::set_terminal_foreground(fd, process::process_group());
    }
    if launcher.ignored_child_signal {
        signal::set_ignored(Signal::CHLD);
    }
    let _ = signal::set_mask(&launcher.mask);
    let error = exec::execute_as_listen_pid(prepared, init_pid.0, || process::pid().0);
    log::error(format_args!("{error}"));
    process::exit_now(error.exit_code())
}

/// The descriptor of the controlling terminal if sudrop's process group is its foreground
/// group (so the command may take it over), tried on stdin, stdout and stderr; not asked
/// when the switch already found that no terminal is reachable.
fn foreground_terminal(terminal_reachable: bool) -> Option<i32> {
    if !terminal_reachable {
        return None;
    }
    let own_group = process::process_group();
    (0..=2).find(|&fd| process::terminal_foreground(fd) == Ok(own_group))
}

/// Prepares the parts of init mode that must precede the fork and come after the identity
/// switch: the subreaper bit and the parent-death signal. Returns a signal to forward at once
/// when the parent died before the parent-death signal was armed.
fn arm(
    options: &Options,
    own_pid: Pid,
    parent_before_switch: Pid,
) -> Result<Option<Signal>, Error> {
    if own_pid != Pid(1) {
        process::set_child_subreaper().map_err(|e| Error::syscall(Call::ChildSubreaper, e))?;
    }
    let Some(signal) = options.pdeathsig else {
        return Ok(None);
    };
    // Set after the uid change: the kernel clears it on every credential change.
    process::set_parent_death_signal(signal)
        .map_err(|e| Error::syscall(Call::ParentDeathSignal(signal), e))?;
    Ok((process::parent_pid() != parent_before_switch).then_some(signal))
}

/// Arms the init (`arm`: the subreaper bit, the parent-death signal), forks the command and
/// runs the init until everything has ended; returns the exit status. `parent_before_switch`
/// is sudrop's parent as it was before the identity switch.
pub fn run(
    prepared: &Prepared<'_>,
    options: &Options,
    launcher: &LauncherSignals,
    signal_fd: SignalFd,
    parent_before_switch: Pid,
    terminal_reachable: bool,
    log: Log,
) -> Result<u8, Error> {
    let init_pid = process::pid();
    let pending = arm(options, init_pid, parent_before_switch)?;
    let take_terminal = foreground_terminal(terminal_reachable);
    let child = process::spawn(&mut || start_command(prepared, launcher, take_terminal, init_pid))
        .map_err(|errno| Error::syscall(Call::Clone, errno))?;
    let is_pid_1 = init_pid == Pid(1);
    // The init must not keep the launch directory busy (the command keeps its own), nor hold
    // open what it inherited: a parent waiting for EOF on a pipe the command closes would
    // otherwise wait for the init too. The command got every descriptor before this.
    let _ = std::env::set_current_dir("/");
    crate::sys::io::close_all_from(3, signal_fd.raw());
    log.say(format_args!("init: started the command as pid {child}"));

    let mut kernel = LinuxInit {
        signal_fd,
        own_pid: init_pid,
        child,
        terminal: take_terminal,
    };
    let mut machine = Machine::new(options, child, is_pid_1, take_terminal.is_some());
    let status = drive(&mut kernel, &mut machine, pending, log);
    // Not PID 1, a shell or other job is waiting to read the terminal sudrop handed to the
    // command: give the foreground back to sudrop's own group, as it found it. (SIGTTOU is
    // blocked, so this works from what is now a background group.)
    if let (Some(fd), false) = (take_terminal, is_pid_1) {
        let _ = process::set_terminal_foreground(fd, process::process_group());
    }
    // The process exits with `status` next: its exit closes the signalfd, one system call
    // fewer than closing it here.
    std::mem::forget(kernel);
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::machine::exit_status;
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
        let status = |raw| exit_status(process::decode_wait_status(Pid(7), raw));
        assert_eq!(status(0), Some(0));
        assert_eq!(status(3 << 8), Some(3));
        assert_eq!(status(255 << 8), Some(255));
        assert_eq!(status(libc::SIGTERM), Some(143));
        assert_eq!(status(libc::SIGKILL | 0x80), Some(137));
        assert_eq!(status(0x137f), None, "stopped, not ended");
    }

    #[test]
    fn descendants_are_found_in_n_log_n_through_every_generation() {
        // A chain and a fan: 6,000 leftovers once took seconds (quadratic), and a cycle from
        // racing reads must not loop.
        let mut table = Vec::new();
        for pid in 2..3_002 {
            table.push(ProcStat {
                pid,
                ppid: pid - 1,
                pgrp: 2,
            });
        }
        for pid in 10_000..13_000 {
            table.push(ProcStat {
                pid,
                ppid: 1,
                pgrp: 7,
            });
        }
        table.push(ProcStat {
            pid: 99_999,
            ppid: 42_424,
            pgrp: 9,
        });
        table.push(ProcStat {
            pid: 42_424,
            ppid: 99_999,
            pgrp: 9,
        });
        let started = std::time::Instant::now();
        let mut found = descendants_in(1, table);
        assert!(started.elapsed() < Duration::from_secs(2));
        found.sort_unstable();
        assert_eq!(found.len(), 6_000);
        assert_eq!(found[0], (2, 2));
        assert_eq!(found[5_999], (12_999, 7));
        assert!(!found.iter().any(|&(pid, _)| pid == 99_999 || pid == 42_424));
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
