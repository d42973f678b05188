//! The init's decisions, as a state machine: events in (a signal, a child's new state, the
//! processes left behind, a deadline), actions out (send a signal, reap, list the leftovers,
//! follow a stop, exit with a status). It touches nothing itself: [`super::drive`] feeds it
//! from the kernel and carries out what it asks, so every sequence below is unit-tested with a
//! scripted kernel, by any user.
//!
//! The life of an init, in three phases:
//! 1. **Running**: signals are forwarded (rewritten first) to the command's process group, or
//!    to the command alone with `--single-child`; SIGCHLD means reap. With `--stop-delay`, the
//!    first SIGTERM is held until its deadline, which is checked on every event (a stream of
//!    other signals must not postpone it); a second SIGTERM or a SIGINT releases it at once.
//! 2. **Draining**, once the command has been reaped: whatever it left behind and was not
//!    already sent a terminating signal gets SIGTERM, and all get the grace period; signals
//!    are no longer forwarded. When the grace period ends, SIGKILL, and a last wait.
//! 3. **Done**: exit with the command's status (128+N for signal N), after `--remap-exit`.

use super::Options;
use crate::error::EXIT_FAILURE;
use crate::id::Pid;
use crate::signals::Signal;
use crate::sys::process::{ChildState, KillTarget};
use std::time::{Duration, Instant};

/// After SIGKILL, how long to wait for the killed to be reaped. Only processes sudrop may not
/// signal (another user's) can outlast it; sudrop then exits anyway.
pub const KILL_REAP_LIMIT: Duration = Duration::from_secs(5);

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A signal arrived (SIGCHLD included).
    Signal(Signal),
    /// One answer to [`Action::Reap`]: a child's new state. Each reap ends with `Running`
    /// (children are left, none has changed) or `NoChildren`.
    Child(ChildState),
    /// The answer to [`Action::ListLeftovers`]: every process below the init with its process
    /// group, or `None` when that cannot be known (no `/proc`).
    Leftovers(Option<Vec<(Pid, Pid)>>),
    /// The deadline [`Machine::deadline`] named has passed.
    Deadline,
}

/// What to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Send(KillTarget, Signal),
    /// Reap every child that has changed state, answering with [`Event::Child`] for each.
    Reap,
    /// Answer with [`Event::Leftovers`].
    ListLeftovers,
    /// The command was stopped by job control at a terminal: stop the init too, so that the
    /// shell that launched it sees its job stopped; once continued, give the command the
    /// terminal back.
    FollowStop,
    /// Say, on stderr whatever the verbosity, that some processes outlived SIGKILL.
    ReportSurvivors,
    /// Exit with this status.
    Exit(u8),
}

/// The status for a child's end: its exit code, or 128+N for death by signal N.
pub fn exit_status(state: ChildState) -> Option<u8> {
    match state {
        ChildState::Exited(_, code) => Some(code),
        ChildState::Killed(_, signal) => Some((128 + signal.0) as u8),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Running {
        /// When the held SIGTERM goes, while it is held.
        held_until: Option<Instant>,
        /// Whether a SIGTERM was held already (only the first one is).
        stop_was_held: bool,
    },
    Draining {
        deadline: Instant,
        /// Whether the grace period is over and SIGKILL went.
        killed: bool,
    },
    Done,
}

/// The init's state: everything it decides from.
pub struct Machine<'a> {
    options: &'a Options,
    child: Pid,
    is_pid_1: bool,
    /// Whether the command got a terminal to hand back after a job-control stop.
    terminal: bool,
    phase: Phase,
    /// The command's status once it has been reaped.
    status: Option<u8>,
    /// Whether a terminating signal already went to the command's whole process group.
    group_terminated: bool,
    /// Whether the last reap found no child at all.
    no_children: bool,
}

/// What the machine says it did, for `--verbose`; the driver prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    Held(Duration),
    DelayEnds(Signal),
    DelayOver,
    Dropped(Signal),
    Forwarded(Signal, Signal, KillTarget),
    Ended(Pid, u8),
    Reaped(Pid),
    Stopped,
    NotForwarded(Signal),
    Draining(Duration),
    GraceOver,
    ToLeftover(Pid, Signal),
    Exiting(u8),
}

impl<'a> Machine<'a> {
    pub fn new(options: &'a Options, child: Pid, is_pid_1: bool, terminal: bool) -> Machine<'a> {
        Machine {
            options,
            child,
            is_pid_1,
            terminal,
            phase: Phase::Running {
                held_until: None,
                stop_was_held: false,
            },
            status: None,
            group_terminated: false,
            no_children: false,
        }
    }

    /// Forwards `signal` at once, as it is (rewritten, never held): the parent-death signal
    /// that arrived before it could be armed.
    pub fn forward_now(
        &mut self,
        signal: Signal,
        actions: &mut Vec<Action>,
        notes: &mut Vec<Note>,
    ) {
        self.forward(signal, &mut Out { actions, notes });
    }

    /// When [`Event::Deadline`] is due, if anything waits for time.
    pub fn deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Running { held_until, .. } => held_until,
            Phase::Draining { deadline, .. } => Some(deadline),
            Phase::Done => None,
        }
    }

    /// Takes one event, which happened at `now`; pushes what is to be done onto `actions` and
    /// what is to be said onto `notes`.
    pub fn on(
        &mut self,
        event: Event,
        now: &mut Now<'_>,
        actions: &mut Vec<Action>,
        notes: &mut Vec<Note>,
    ) {
        let mut out = Out { actions, notes };
        // The held SIGTERM goes as soon as its time has passed, whatever woke the init.
        if let Phase::Running {
            held_until: Some(until),
            stop_was_held,
        } = self.phase
            && now.get() >= until
        {
            self.phase = Phase::Running {
                held_until: None,
                stop_was_held,
            };
            out.notes.push(Note::DelayOver);
            self.forward(Signal::TERM, &mut out);
        }
        match (self.phase, event) {
            (Phase::Done, _) => {}
            (_, Event::Signal(Signal::CHLD)) => out.actions.push(Action::Reap),
            (_, Event::Child(state)) => self.on_child(state, now, &mut out),
            (_, Event::Leftovers(leftovers)) => self.signal_leftovers(leftovers, &mut out),
            (Phase::Running { .. }, Event::Signal(signal)) => self.on_signal(signal, now, &mut out),
            (Phase::Running { .. }, Event::Deadline) => {}
            (Phase::Draining { .. }, Event::Signal(signal)) => {
                out.notes.push(Note::NotForwarded(signal))
            }
            (Phase::Draining { killed, .. }, Event::Deadline) => {
                if killed {
                    out.actions.push(Action::ReportSurvivors);
                    self.finish(&mut out);
                } else {
                    out.notes.push(Note::GraceOver);
                    self.phase = Phase::Draining {
                        deadline: now.get() + KILL_REAP_LIMIT,
                        killed: true,
                    };
                    out.actions.push(Action::ListLeftovers);
                }
            }
        }
    }

    /// Forwards a signal that arrived while the command runs, or holds the first SIGTERM.
    fn on_signal(&mut self, signal: Signal, now: &mut Now<'_>, out: &mut Out<'_>) {
        let Phase::Running {
            held_until,
            stop_was_held,
        } = self.phase
        else {
            return;
        };
        let delay = self.options.stop_delay;
        match signal {
            Signal::TERM if !stop_was_held && !delay.is_zero() => {
                self.phase = Phase::Running {
                    held_until: Some(now.get() + delay),
                    stop_was_held: true,
                };
                out.notes.push(Note::Held(delay));
            }
            Signal::TERM | Signal::INT if held_until.is_some() => {
                self.phase = Phase::Running {
                    held_until: None,
                    stop_was_held,
                };
                out.notes.push(Note::DelayEnds(signal));
                self.forward(Signal::TERM, out);
                if signal == Signal::INT {
                    self.forward(signal, out);
                }
            }
            signal => self.forward(signal, out),
        }
    }

    fn on_child(&mut self, state: ChildState, now: &mut Now<'_>, out: &mut Out<'_>) {
        match state {
            ChildState::Exited(pid, _) | ChildState::Killed(pid, _) if pid == self.child => {
                let status = exit_status(state).unwrap_or(EXIT_FAILURE);
                self.status = Some(status);
                out.notes.push(Note::Ended(pid, status));
            }
            ChildState::Exited(pid, _) | ChildState::Killed(pid, _) => {
                out.notes.push(Note::Reaped(pid))
            }
            ChildState::Stopped(pid) if pid == self.child => {
                out.notes.push(Note::Stopped);
                // At a terminal and not PID 1 (which nobody waits for), a job-control shell
                // launched sudrop: it must see its job stop. Otherwise a stop is someone
                // else's business, and following it would leave sudrop stopped when the
                // command is continued directly.
                if !self.is_pid_1 && self.terminal {
                    out.actions.push(Action::FollowStop);
                }
            }
            ChildState::Stopped(_) => {}
            // The end of one reap.
            ChildState::Running | ChildState::NoChildren => {
                self.no_children = state == ChildState::NoChildren;
                self.after_reap(now, out);
            }
        }
    }

    /// After a reap: the drain starts once the command has ended, and ends once nothing is
    /// left.
    fn after_reap(&mut self, now: &mut Now<'_>, out: &mut Out<'_>) {
        match self.phase {
            Phase::Running { .. } if self.status.is_some() => {
                if self.no_children {
                    self.finish(out);
                    return;
                }
                out.notes.push(Note::Draining(self.options.grace));
                self.phase = Phase::Draining {
                    deadline: now.get() + self.options.grace,
                    killed: false,
                };
                out.actions.push(Action::ListLeftovers);
            }
            Phase::Draining { .. } if self.no_children => self.finish(out),
            _ => {}
        }
    }

    /// Signals what the command left behind: SIGTERM at the start of the drain (sparing the
    /// command's group when it was already sent a terminating signal), SIGKILL after the grace
    /// period. Without a process list: the whole namespace as PID 1, else the command's group.
    fn signal_leftovers(&mut self, leftovers: Option<Vec<(Pid, Pid)>>, out: &mut Out<'_>) {
        let Phase::Draining { killed, .. } = self.phase else {
            return;
        };
        let (signal, spare_group) = if killed {
            (Signal::KILL, false)
        } else {
            (Signal::TERM, self.group_terminated)
        };
        match leftovers {
            Some(leftovers) => {
                for (pid, group) in leftovers {
                    if spare_group && group == self.child {
                        continue;
                    }
                    out.notes.push(Note::ToLeftover(pid, signal));
                    out.actions
                        .push(Action::Send(KillTarget::Process(pid), signal));
                }
            }
            None if spare_group => {}
            None if self.is_pid_1 => out.actions.push(Action::Send(KillTarget::Everyone, signal)),
            None => out
                .actions
                .push(Action::Send(KillTarget::Group(self.child), signal)),
        }
        if killed {
            // Members of the group that left the init's tree (a daemon's double fork) too.
            out.actions
                .push(Action::Send(KillTarget::Group(self.child), Signal::KILL));
        }
    }

    fn forward(&mut self, received: Signal, out: &mut Out<'_>) {
        let Some(signal) = self.rewrite(received) else {
            out.notes.push(Note::Dropped(received));
            return;
        };
        let target = if self.options.single_child {
            KillTarget::Process(self.child)
        } else {
            KillTarget::Group(self.child)
        };
        out.notes.push(Note::Forwarded(received, signal, target));
        if !self.options.single_child && self.is_terminating(signal) {
            self.group_terminated = true;
        }
        out.actions.push(Action::Send(target, signal));
    }

    fn rewrite(&self, signal: Signal) -> Option<Signal> {
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
    fn is_terminating(&self, signal: Signal) -> bool {
        [Signal::TERM, Signal::INT, Signal::QUIT, Signal::KILL].contains(&signal)
            || self.rewrite(Signal::TERM) == Some(signal)
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        self.phase = Phase::Done;
        let status = self.status.unwrap_or(EXIT_FAILURE);
        let status = self
            .options
            .remap_exit
            .iter()
            .find(|(from, _)| *from == status)
            .map_or(status, |&(_, to)| to);
        out.notes.push(Note::Exiting(status));
        out.actions.push(Action::Exit(status));
    }
}

/// The time an event happened, read from the clock only when the event needs it, and then
/// once: most events (a forwarded signal, a reaped child) wait for no time, and the first
/// read of the clock costs the init the page faults of mapping the vDSO.
pub struct Now<'c> {
    clock: &'c mut dyn FnMut() -> Instant,
    read: Option<Instant>,
}

impl<'c> Now<'c> {
    pub fn new(clock: &'c mut dyn FnMut() -> Instant) -> Now<'c> {
        Now { clock, read: None }
    }

    fn get(&mut self) -> Instant {
        *self.read.get_or_insert_with(|| (self.clock)())
    }
}

/// Where one step's actions and notes go.
struct Out<'a> {
    actions: &'a mut Vec<Action>,
    notes: &'a mut Vec<Note>,
}
