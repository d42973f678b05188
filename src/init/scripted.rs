//! The init driven through scripted sequences, by any user: a kernel of a few processes on a
//! virtual clock, whose signals arrive when the script says and whose processes end when the
//! signals they get say. Each test is one promise of the README's init section; the root
//! integration tests hold the same promises against the real kernel.

use super::machine::{KILL_REAP_LIMIT, Machine};
use super::{DEFAULT_GRACE, Kernel, Options, drive};
use crate::id::Pid;
use crate::log::Log;
use crate::signals::Signal;
use crate::sys::Errno;
use crate::sys::process::{ChildState, KillTarget};
use std::time::{Duration, Instant};

const COMMAND: Pid = Pid(10);
const QUIET: Log = Log {
    verbose: false,
    warnings: false,
};

/// How a process answers a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    /// Ends, killed by it, after this long.
    DiesAfter(Duration),
    /// Ends with this exit code, after this long (a handler that cleans up).
    ExitsAfter(u8, Duration),
    Ignores,
}

#[derive(Clone, Debug)]
struct Process {
    pid: Pid,
    group: Pid,
    /// How it answers each signal; an unlisted one kills it at once.
    answers: Vec<(Signal, Answer)>,
    /// When it ends by itself, and with which code.
    ends: Option<(Duration, u8)>,
    alive: bool,
}

impl Process {
    fn new(pid: i32, group: Pid) -> Process {
        Process {
            pid: Pid(pid),
            group,
            answers: Vec::new(),
            ends: None,
            alive: true,
        }
    }

    fn answers(mut self, signal: Signal, answer: Answer) -> Process {
        self.answers.retain(|(known, _)| *known != signal);
        self.answers.push((signal, answer));
        self
    }

    fn ends_at(mut self, at: Duration, code: u8) -> Process {
        self.ends = Some((at, code));
        self
    }
}

/// The scripted kernel: what it was asked, and what happened when.
struct Script {
    start: Instant,
    elapsed: Duration,
    /// Signals to the init, at their times, in order.
    incoming: std::collections::VecDeque<(Duration, Signal)>,
    processes: Vec<Process>,
    /// Ends to come: (when, the state the reap will show).
    ends: Vec<(Duration, ChildState)>,
    /// Ended, not yet reaped; stops, not yet reported.
    changed: Vec<ChildState>,
    /// Every signal sent, with its time.
    sent: Vec<(Duration, KillTarget, Signal)>,
    /// Whether `/proc` can list the leftovers.
    proc: bool,
    /// How long the init takes to read one signal: time passes while it is busy, and what
    /// arrives meanwhile is pending when it next looks.
    cost_per_signal: Duration,
    stops_followed: usize,
    /// How often the init read the clock.
    clock_reads: std::cell::Cell<usize>,
}

impl Script {
    fn new(processes: Vec<Process>) -> Script {
        let mut script = Script {
            start: Instant::now(),
            elapsed: Duration::ZERO,
            incoming: std::collections::VecDeque::new(),
            processes,
            ends: Vec::new(),
            changed: Vec::new(),
            sent: Vec::new(),
            proc: true,
            cost_per_signal: Duration::ZERO,
            stops_followed: 0,
            clock_reads: std::cell::Cell::new(0),
        };
        for process in script.processes.clone() {
            if let Some((at, code)) = process.ends {
                script
                    .ends
                    .push((at, ChildState::Exited(process.pid, code)));
            }
        }
        script
    }

    /// A signal for the init at `at`.
    fn signal_at(mut self, at: Duration, signal: Signal) -> Script {
        let place = self.incoming.partition_point(|(earlier, _)| *earlier <= at);
        self.incoming.insert(place, (at, signal));
        self
    }

    /// The command stops (job control) at `at`.
    fn stop_at(mut self, at: Duration) -> Script {
        self.ends.push((at, ChildState::Stopped(COMMAND)));
        self
    }

    fn end(&mut self, pid: Pid, state: ChildState, after: Duration) {
        let at = self.elapsed + after;
        // A later signal cannot end it twice.
        if self.ends.iter().any(|(_, end)| end_pid(*end) == Some(pid)) {
            return;
        }
        self.ends.push((at, state));
    }

    /// Runs the init until it exits: the status, with the script to inspect.
    fn run(mut self, options: &Options, is_pid_1: bool, terminal: bool) -> (u8, Script) {
        let mut machine = Machine::new(options, COMMAND, is_pid_1, terminal);
        let status = drive(&mut self, &mut machine, None, QUIET);
        (status, self)
    }

    /// What went to whom, without the times.
    fn sends(&self) -> Vec<(KillTarget, Signal)> {
        self.sent
            .iter()
            .map(|&(_, target, signal)| (target, signal))
            .collect()
    }

    fn first_send_of(&self, signal: Signal) -> Option<Duration> {
        self.sent
            .iter()
            .find(|(_, _, sent)| *sent == signal)
            .map(|(at, _, _)| *at)
    }
}

fn end_pid(state: ChildState) -> Option<Pid> {
    match state {
        ChildState::Exited(pid, _) | ChildState::Killed(pid, _) => Some(pid),
        _ => None,
    }
}

impl Kernel for Script {
    fn next_signal(&mut self, deadline: Option<Instant>) -> Option<Signal> {
        self.ends.sort_by_key(|(at, _)| *at);
        let next_end = self.ends.first().map(|(at, _)| *at);
        let next_signal = self.incoming.front().map(|(at, _)| *at);
        let next = match (next_end, next_signal) {
            (Some(end), Some(signal)) => Some(end.min(signal)),
            (end, signal) => end.or(signal),
        };
        let deadline = deadline.map(|deadline| deadline.saturating_duration_since(self.start));
        match (next, deadline) {
            // Nothing pending yet, and the deadline comes first: as poll(2) times out. (What
            // is already pending is read first, deadline or not.)
            (Some(next), Some(deadline)) if next > self.elapsed && deadline < next => {
                self.elapsed = self.elapsed.max(deadline);
                None
            }
            (Some(next), _) => {
                self.elapsed = self.elapsed.max(next);
                if next_end == Some(next) {
                    let (_, state) = self.ends.remove(0);
                    if let Some(pid) = end_pid(state) {
                        for process in &mut self.processes {
                            if process.pid == pid {
                                process.alive = false;
                            }
                        }
                    }
                    self.changed.push(state);
                    Some(Signal::CHLD)
                } else {
                    self.elapsed += self.cost_per_signal;
                    self.incoming.pop_front().map(|(_, signal)| signal)
                }
            }
            (None, Some(deadline)) => {
                self.elapsed = self.elapsed.max(deadline);
                None
            }
            (None, None) => panic!("the init would wait forever; sent {:?}", self.sent),
        }
    }

    fn now(&self) -> Instant {
        self.clock_reads.set(self.clock_reads.get() + 1);
        self.start + self.elapsed
    }

    fn reap_one(&mut self) -> Result<ChildState, Errno> {
        if !self.changed.is_empty() {
            return Ok(self.changed.remove(0));
        }
        let left = self.processes.iter().any(|p| p.alive)
            || self.ends.iter().any(|(_, end)| end_pid(*end).is_some());
        Ok(if left {
            ChildState::Running
        } else {
            ChildState::NoChildren
        })
    }

    fn send(&mut self, target: KillTarget, signal: Signal) -> Result<(), Errno> {
        self.sent.push((self.elapsed, target, signal));
        let hit: Vec<Process> = self
            .processes
            .iter()
            .filter(|p| p.alive)
            .filter(|p| match target {
                KillTarget::Process(pid) => p.pid == pid,
                KillTarget::Group(group) => p.group == group,
                KillTarget::Everyone => true,
            })
            .cloned()
            .collect();
        if hit.is_empty() {
            return Err(Errno::ESRCH);
        }
        for process in hit {
            let answer = process
                .answers
                .iter()
                .find(|(s, _)| *s == signal)
                .map_or(Answer::DiesAfter(Duration::ZERO), |(_, a)| *a);
            match answer {
                Answer::Ignores => {}
                Answer::DiesAfter(after) => {
                    self.end(process.pid, ChildState::Killed(process.pid, signal), after)
                }
                Answer::ExitsAfter(code, after) => {
                    self.end(process.pid, ChildState::Exited(process.pid, code), after)
                }
            }
        }
        Ok(())
    }

    fn leftovers(&mut self) -> Option<Vec<(Pid, Pid)>> {
        self.proc.then(|| {
            self.processes
                .iter()
                .filter(|p| p.alive)
                .map(|p| (p.pid, p.group))
                .collect()
        })
    }

    fn follow_stop(&mut self) {
        self.stops_followed += 1;
    }
}

fn options() -> Options {
    Options {
        single_child: false,
        rewrites: Vec::new(),
        remap_exit: Vec::new(),
        grace: DEFAULT_GRACE,
        stop_delay: Duration::ZERO,
        pdeathsig: None,
    }
}

fn ms(milliseconds: u64) -> Duration {
    Duration::from_millis(milliseconds)
}

/// The command, in its own group, that ends on SIGTERM with 143 after 10 ms.
fn command() -> Process {
    Process::new(COMMAND.0, COMMAND).answers(Signal::TERM, Answer::DiesAfter(ms(10)))
}

#[test]
fn the_commands_exit_status_or_128_plus_its_signal_is_the_inits() {
    let script = Script::new(vec![command().ends_at(ms(50), 3)]);
    assert_eq!(script.run(&options(), true, false).0, 3);
    let script = Script::new(vec![command()]).signal_at(ms(5), Signal::TERM);
    let (status, script) = script.run(&options(), true, false);
    assert_eq!(status, 143);
    assert_eq!(script.sends(), [(KillTarget::Group(COMMAND), Signal::TERM)]);
}

#[test]
fn remap_exit_changes_only_the_status_it_names() {
    let mut remapping = options();
    remapping.remap_exit = vec![(143, 0)];
    let script = Script::new(vec![command()]).signal_at(ms(5), Signal::TERM);
    assert_eq!(script.run(&remapping, true, false).0, 0);
    let script = Script::new(vec![command().ends_at(ms(5), 1)]);
    assert_eq!(script.run(&remapping, true, false).0, 1);
}

#[test]
fn signals_go_to_the_group_or_with_single_child_to_the_command_alone() {
    let hup = Signal::HUP;
    let quiet_command = || command().answers(hup, Answer::Ignores).ends_at(ms(100), 0);
    let script = Script::new(vec![quiet_command()]).signal_at(ms(5), hup);
    let (_, script) = script.run(&options(), true, false);
    assert_eq!(script.sends(), [(KillTarget::Group(COMMAND), hup)]);
    let mut single = options();
    single.single_child = true;
    let script = Script::new(vec![quiet_command()]).signal_at(ms(5), hup);
    let (_, script) = script.run(&single, true, false);
    assert_eq!(script.sends(), [(KillTarget::Process(COMMAND), hup)]);
}

#[test]
fn rewrite_maps_and_drops_signals() {
    let mut rewriting = options();
    rewriting.rewrites = vec![(Signal::TERM, Some(Signal::QUIT)), (Signal::HUP, None)];
    let process = command()
        .answers(Signal::QUIT, Answer::ExitsAfter(0, ms(1)))
        .answers(Signal::HUP, Answer::Ignores);
    let script = Script::new(vec![process])
        .signal_at(ms(5), Signal::HUP)
        .signal_at(ms(10), Signal::TERM);
    let (status, script) = script.run(&rewriting, true, false);
    assert_eq!(status, 0);
    // HUP dropped; TERM went as QUIT, and that counts as the group's terminating signal (no
    // second one in the drain).
    assert_eq!(script.sends(), [(KillTarget::Group(COMMAND), Signal::QUIT)]);
}

#[test]
fn forwarding_and_reaping_read_no_clock_and_a_held_sigterm_does() {
    // The first clock read maps the vDSO: an init that only forwards and reaps never pays it.
    let hup = Signal::HUP;
    let script = Script::new(vec![
        command().answers(hup, Answer::Ignores).ends_at(ms(100), 3),
    ])
    .signal_at(ms(5), hup)
    .signal_at(ms(6), hup);
    let (status, script) = script.run(&options(), true, false);
    assert_eq!(status, 3);
    assert_eq!(script.sends().len(), 2);
    assert_eq!(script.clock_reads.get(), 0);
    let mut delayed = options();
    delayed.stop_delay = ms(1000);
    let script = Script::new(vec![command()]).signal_at(ms(100), Signal::TERM);
    let (_, script) = script.run(&delayed, true, false);
    assert!(script.clock_reads.get() > 0);
}

#[test]
fn the_stop_delay_holds_the_first_sigterm_while_other_signals_pass() {
    let mut delayed = options();
    delayed.stop_delay = ms(1000);
    let process = command().answers(Signal::USR1, Answer::Ignores);
    let script = Script::new(vec![process])
        .signal_at(ms(100), Signal::TERM)
        .signal_at(ms(200), Signal::USR1);
    let (status, script) = script.run(&delayed, true, false);
    assert_eq!(status, 143);
    assert_eq!(
        script.sends(),
        [
            (KillTarget::Group(COMMAND), Signal::USR1),
            (KillTarget::Group(COMMAND), Signal::TERM)
        ]
    );
    // Held exactly its time: from 100 ms to 1100 ms.
    assert_eq!(script.first_send_of(Signal::TERM), Some(ms(1100)));
}

#[test]
fn a_signal_storm_does_not_postpone_the_held_sigterm() {
    let mut delayed = options();
    delayed.stop_delay = ms(1000);
    let storm = Signal::USR1;
    let mut script =
        Script::new(vec![command().answers(storm, Answer::Ignores)]).signal_at(ms(0), Signal::TERM);
    // A signal every half millisecond for ten seconds, each taking the init a millisecond:
    // one is always pending, so a wait never times out.
    for tick in 1..20_000u64 {
        script = script.signal_at(Duration::from_micros(500 * tick), storm);
    }
    script.cost_per_signal = ms(1);
    let (status, script) = script.run(&delayed, true, false);
    assert_eq!(status, 143);
    let term = script
        .first_send_of(Signal::TERM)
        .expect("SIGTERM forwarded");
    assert!(term >= ms(1000) && term <= ms(1002), "{term:?}");
}

#[test]
fn a_second_sigterm_or_a_sigint_ends_the_hold_at_once() {
    let mut delayed = options();
    delayed.stop_delay = ms(600_000);
    let script = Script::new(vec![command()])
        .signal_at(ms(10), Signal::TERM)
        .signal_at(ms(20), Signal::TERM);
    let (status, script) = script.run(&delayed, true, false);
    assert_eq!(status, 143);
    assert_eq!(script.first_send_of(Signal::TERM), Some(ms(20)));
    // SIGINT: the held SIGTERM first, then the SIGINT.
    let process = command().answers(Signal::TERM, Answer::Ignores);
    let script = Script::new(vec![process])
        .signal_at(ms(10), Signal::TERM)
        .signal_at(ms(20), Signal::INT);
    let (status, script) = script.run(&delayed, true, false);
    assert_eq!(status, 130);
    assert_eq!(
        script.sends(),
        [
            (KillTarget::Group(COMMAND), Signal::TERM),
            (KillTarget::Group(COMMAND), Signal::INT)
        ]
    );
}

#[test]
fn a_command_that_ends_during_the_hold_is_not_waited_for_and_gets_no_sigterm() {
    let mut delayed = options();
    delayed.stop_delay = ms(600_000);
    let script = Script::new(vec![command().ends_at(ms(1000), 7)]).signal_at(ms(10), Signal::TERM);
    let (status, script) = script.run(&delayed, true, false);
    assert_eq!(status, 7);
    assert_eq!(script.sends(), []);
    assert_eq!(script.elapsed, ms(1000));
}

#[test]
fn leftovers_get_sigterm_and_the_init_exits_once_they_are_gone() {
    // The command exits; a daemon it started (its own group) and an orphan in the command's
    // group are left. Both get SIGTERM; the init waits for them, then exits with the
    // command's status.
    let daemon = Process::new(20, Pid(20)).answers(Signal::TERM, Answer::ExitsAfter(0, ms(300)));
    let orphan = Process::new(21, COMMAND).answers(Signal::TERM, Answer::DiesAfter(ms(100)));
    let script = Script::new(vec![command().ends_at(ms(50), 5), daemon, orphan]);
    let (status, script) = script.run(&options(), true, false);
    assert_eq!(status, 5);
    assert_eq!(
        script.sends(),
        [
            (KillTarget::Process(Pid(20)), Signal::TERM),
            (KillTarget::Process(Pid(21)), Signal::TERM)
        ]
    );
    assert_eq!(script.elapsed, ms(350), "the slowest leftover's end");
}

#[test]
fn the_group_already_sent_sigterm_is_not_sent_it_twice() {
    // SIGTERM went to the command's group; the command ends, its group's straggler is left
    // to finish, and only the other leftover gets SIGTERM from the drain.
    let straggler = Process::new(21, COMMAND).answers(Signal::TERM, Answer::ExitsAfter(0, ms(200)));
    let other = Process::new(22, Pid(22)).answers(Signal::TERM, Answer::DiesAfter(ms(1)));
    let script = Script::new(vec![command(), straggler, other]).signal_at(ms(5), Signal::TERM);
    let (status, script) = script.run(&options(), true, false);
    assert_eq!(status, 143);
    assert_eq!(
        script.sends(),
        [
            (KillTarget::Group(COMMAND), Signal::TERM),
            (KillTarget::Process(Pid(22)), Signal::TERM)
        ]
    );
}

#[test]
fn a_leftover_ignoring_sigterm_is_killed_when_the_grace_period_ends() {
    let mut graced = options();
    graced.grace = ms(2000);
    let stubborn = Process::new(20, Pid(20)).answers(Signal::TERM, Answer::Ignores);
    let script = Script::new(vec![command().ends_at(ms(100), 0), stubborn]);
    let (status, script) = script.run(&graced, true, false);
    assert_eq!(status, 0);
    assert_eq!(
        script.sends(),
        [
            (KillTarget::Process(Pid(20)), Signal::TERM),
            (KillTarget::Process(Pid(20)), Signal::KILL),
            (KillTarget::Group(COMMAND), Signal::KILL)
        ]
    );
    assert_eq!(script.first_send_of(Signal::KILL), Some(ms(2100)));
}

#[test]
fn signals_during_the_drain_are_not_forwarded() {
    let slow = Process::new(20, Pid(20)).answers(Signal::TERM, Answer::ExitsAfter(0, ms(500)));
    let script = Script::new(vec![command().ends_at(ms(100), 0), slow])
        .signal_at(ms(200), Signal::TERM)
        .signal_at(ms(300), Signal::HUP);
    let (status, script) = script.run(&options(), true, false);
    assert_eq!(status, 0);
    assert_eq!(
        script.sends(),
        [(KillTarget::Process(Pid(20)), Signal::TERM)]
    );
}

#[test]
fn without_proc_the_drain_signals_the_namespace_as_pid_1_else_the_group() {
    for (is_pid_1, target) in [
        (true, KillTarget::Everyone),
        (false, KillTarget::Group(COMMAND)),
    ] {
        let leftover = Process::new(21, COMMAND).answers(Signal::TERM, Answer::DiesAfter(ms(1)));
        let mut script = Script::new(vec![command().ends_at(ms(10), 0), leftover]);
        script.proc = false;
        let (_, script) = script.run(&options(), is_pid_1, false);
        assert_eq!(
            script.sends(),
            [(target, Signal::TERM)],
            "PID 1: {is_pid_1}"
        );
    }
}

#[test]
fn an_outside_stop_is_followed_only_at_a_terminal_and_not_as_pid_1() {
    for (is_pid_1, terminal, followed) in [(false, true, 1), (false, false, 0), (true, true, 0)] {
        let script = Script::new(vec![command().ends_at(ms(100), 0)]).stop_at(ms(10));
        let (status, script) = script.run(&options(), is_pid_1, terminal);
        assert_eq!(status, 0);
        assert_eq!(
            script.stops_followed, followed,
            "PID 1: {is_pid_1}, terminal: {terminal}"
        );
    }
}

#[test]
fn a_parent_death_signal_that_came_too_early_is_forwarded_at_once() {
    let mut machine_options = options();
    machine_options.pdeathsig = Some(Signal::TERM);
    machine_options.stop_delay = ms(600_000);
    let mut script = Script::new(vec![command()]);
    let mut machine = Machine::new(&machine_options, COMMAND, true, false);
    let status = drive(&mut script, &mut machine, Some(Signal::TERM), QUIET);
    // Not held by the stop delay: the parent is gone, nobody waits for a load balancer.
    assert_eq!(status, 143);
    assert_eq!(script.first_send_of(Signal::TERM), Some(Duration::ZERO));
}

#[test]
fn leftovers_that_outlive_sigkill_end_the_wait_after_its_limit() {
    let mut graced = options();
    graced.grace = ms(100);
    // Another user's process: no signal reaches it.
    let foreign = Process::new(30, Pid(30))
        .answers(Signal::TERM, Answer::Ignores)
        .answers(Signal::KILL, Answer::Ignores);
    let script = Script::new(vec![command().ends_at(ms(10), 4), foreign]);
    let (status, script) = script.run(&graced, true, false);
    assert_eq!(status, 4);
    assert_eq!(script.elapsed, ms(110) + KILL_REAP_LIMIT);
}
