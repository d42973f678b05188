//! Processes, process groups, terminals and the init's prctl bits.

use super::{Errno, check};
use crate::id::Pid;
use crate::signals::Signal;

/// Whom [`kill`] signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillTarget {
    Process(Pid),
    Group(Pid),
    /// Every process the caller may signal (`kill(-1, ...)`).
    Everyone,
}

pub fn pid() -> Pid {
    // SAFETY: getpid has no preconditions.
    Pid(unsafe { libc::getpid() })
}

pub fn parent_pid() -> Pid {
    // SAFETY: getppid has no preconditions.
    Pid(unsafe { libc::getppid() })
}

pub fn process_group() -> Pid {
    // SAFETY: getpgrp has no preconditions.
    Pid(unsafe { libc::getpgrp() })
}

pub fn kill(target: KillTarget, signal: Signal) -> Result<(), Errno> {
    let raw = match target {
        KillTarget::Process(pid) => pid.0,
        KillTarget::Group(pid) => -pid.0,
        KillTarget::Everyone => -1,
    };
    // SAFETY: kill has no memory arguments; a stale pid only yields ESRCH.
    check(unsafe { libc::kill(raw, signal.0) }).map(drop)
}

/// Makes the caller the leader of a new process group named by its own pid.
pub fn start_process_group() -> Result<(), Errno> {
    // SAFETY: integer arguments only; (0, 0) means the caller and its own pid.
    check(unsafe { libc::setpgid(0, 0) }).map(drop)
}

/// The foreground process group of the terminal on `fd`.
pub fn terminal_foreground(fd: i32) -> Result<Pid, Errno> {
    // SAFETY: integer argument only; a non-terminal answers ENOTTY.
    check(unsafe { libc::tcgetpgrp(fd) }).map(Pid)
}

pub fn set_terminal_foreground(fd: i32, group: Pid) -> Result<(), Errno> {
    // SAFETY: integer arguments only.
    check(unsafe { libc::tcsetpgrp(fd, group.0) }).map(drop)
}

/// The bytes of the child of [`spawn`]'s stack.
const SPAWN_STACK_BYTES: usize = 64 * 1024;

/// Starts `child` in a new process that shares the caller's memory until it executes or
/// exits, as `posix_spawn` does (`clone` with `CLONE_VM | CLONE_VFORK`): no page tables are
/// copied and no copy-on-write faults follow in either process. The caller is suspended until
/// then, so the child may use anything the caller owns; whatever it allocates stays behind in
/// the caller's heap. The child runs on a stack of its own, and must leave by `execve` or
/// [`exit_now`] (its closure cannot return). Call it once: its stack is not given back.
///
/// The stack is one `MAP_GROWSDOWN` mapping, which the kernel guards as it guards the main
/// stack: no other mapping is placed within its guard gap below it, and a child that runs
/// past its bottom either grows it or faults, never writes into other memory. (A separate
/// guard page would cost an `mprotect` and a second mapping on every start.)
pub fn spawn(child: &mut dyn FnMut() -> std::convert::Infallible) -> Result<Pid, Errno> {
    #[allow(unreachable_code)] // the closure cannot return: clone's answer is never made
    extern "C" fn entry(argument: *mut libc::c_void) -> libc::c_int {
        // SAFETY: `argument` is the `&mut &mut dyn FnMut` that `spawn` passed to clone; it
        // stays valid because `spawn` is suspended in clone until this process executes or
        // exits.
        let child =
            unsafe { &mut *argument.cast::<&mut dyn FnMut() -> std::convert::Infallible>() };
        match child() {}
    }
    // SAFETY: a fresh private anonymous mapping, no existing memory involved.
    let stack = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            SPAWN_STACK_BYTES,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK | libc::MAP_GROWSDOWN,
            -1,
            0,
        )
    };
    if stack == libc::MAP_FAILED {
        return Err(Errno::last());
    }
    let mut child = child;
    // SAFETY: `entry` never returns into clone (the closure's return type is uninhabited);
    // the stack top is the page-aligned end of the mapping, used by nothing else; the
    // argument outlives the child's use of it because CLONE_VFORK suspends this call until
    // the child has executed or exited. sudrop has one thread, so no lock is held that the
    // child could wait on.
    let answer = check(unsafe {
        libc::clone(
            entry,
            stack.cast::<u8>().wrapping_add(SPAWN_STACK_BYTES).cast(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            (&raw mut child).cast(),
        )
    });
    // The mapping stays: the child ran in this memory on another CPU, so unmapping it would
    // interrupt that CPU to flush its TLB (a cost the start-up bench sees). spawn is called
    // once per process, so at most 64 KiB of address space and the few pages the child
    // touched stay behind.
    answer.map(Pid)
}

/// What `waitpid` reported for one child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildState {
    Exited(Pid, u8),
    Killed(Pid, Signal),
    Stopped(Pid),
    /// Children exist, but none has changed state.
    Running,
    /// There are no children left.
    NoChildren,
}

/// Reaps one child that has ended (or reports one that stopped), without blocking.
pub fn reap_one() -> Result<ChildState, Errno> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes the status into a valid integer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG | libc::WUNTRACED) };
        return match pid {
            0 => Ok(ChildState::Running),
            -1 => match Errno::last() {
                Errno::EINTR => continue,
                Errno::ECHILD => Ok(ChildState::NoChildren),
                errno => Err(errno),
            },
            pid => Ok(decode_wait_status(Pid(pid), status)),
        };
    }
}

/// Reads a wait status as the kernel encodes it.
pub fn decode_wait_status(pid: Pid, status: i32) -> ChildState {
    if libc::WIFEXITED(status) {
        ChildState::Exited(pid, libc::WEXITSTATUS(status) as u8)
    } else if libc::WIFSIGNALED(status) {
        ChildState::Killed(pid, Signal(libc::WTERMSIG(status)))
    } else {
        ChildState::Stopped(pid)
    }
}

pub fn set_child_subreaper() -> Result<(), Errno> {
    // SAFETY: integer arguments only.
    check(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }).map(drop)
}

pub fn set_parent_death_signal(signal: Signal) -> Result<(), Errno> {
    // SAFETY: integer arguments only.
    check(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, signal.0 as libc::c_ulong, 0, 0, 0) })
        .map(drop)
}

/// Ends the process at once, without running exit handlers or flushing anything: what a
/// spawned child must do after a failed exec.
pub fn exit_now(code: u8) -> ! {
    // SAFETY: _exit has no preconditions and does not return.
    unsafe { libc::_exit(i32::from(code)) }
}

/// Sets the soft and hard limits of resource `resource` (`None`: unlimited).
pub fn set_limit(resource: u32, soft: Option<u64>, hard: Option<u64>) -> Result<(), Errno> {
    let limit = libc::rlimit {
        rlim_cur: soft.unwrap_or(libc::RLIM_INFINITY),
        rlim_max: hard.unwrap_or(libc::RLIM_INFINITY),
    };
    // SAFETY: setrlimit reads the valid rlimit it is given.
    check(unsafe { libc::setrlimit(resource as _, &limit) }).map(drop)
}

/// Sets the file mode creation mask.
pub fn set_umask(mode: u32) {
    // SAFETY: umask takes a mode and cannot fail.
    unsafe { libc::umask(mode as libc::mode_t) };
}
