//! Signal numbers, masks, dispositions and the signalfd the init reads.

use super::{Errno, check};
use crate::id::Pid;
use crate::signals::Signal;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// A signal mask, as `sigprocmask` takes it.
#[derive(Clone, Copy)]
pub struct Mask(libc::sigset_t);

/// Blocks every signal; returns the mask it replaced.
pub fn block_all() -> Result<Mask, Errno> {
    let all = full_set();
    let mut old = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: `all` is initialised; sigprocmask writes the old mask into `old`.
    check(unsafe { libc::sigprocmask(libc::SIG_SETMASK, &all, old.as_mut_ptr()) })?;
    // SAFETY: sigprocmask succeeded, so it wrote the old mask.
    Ok(Mask(unsafe { old.assume_init() }))
}

/// Makes `mask` the signal mask.
pub fn set_mask(mask: &Mask) -> Result<(), Errno> {
    // SAFETY: `mask` is an initialised set; no old mask is asked for.
    check(unsafe { libc::sigprocmask(libc::SIG_SETMASK, &mask.0, std::ptr::null_mut()) }).map(drop)
}

fn full_set() -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigfillset initialises the whole set it is given.
    unsafe {
        libc::sigfillset(set.as_mut_ptr());
        set.assume_init()
    }
}

/// Whether `signal`'s disposition is "ignore". `None` for a signal whose disposition cannot be
/// read (the ones the C library keeps for itself).
pub fn is_ignored(signal: Signal) -> Option<bool> {
    let mut action = MaybeUninit::<libc::sigaction>::uninit();
    // SAFETY: a null new action only reads the current one into `action`.
    if unsafe { libc::sigaction(signal.0, std::ptr::null(), action.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: sigaction succeeded, so it wrote the action.
    Some(unsafe { action.assume_init() }.sa_sigaction == libc::SIG_IGN)
}

/// Gives `signal` its default disposition.
pub fn set_default(signal: Signal) {
    // SAFETY: installs no handler, only the default disposition.
    unsafe { libc::signal(signal.0, libc::SIG_DFL) };
}

/// Makes the process ignore `signal`.
pub fn set_ignored(signal: Signal) {
    // SAFETY: installs no handler, only the ignore disposition.
    unsafe { libc::signal(signal.0, libc::SIG_IGN) };
}

/// A signal read from a [`SignalFd`], with the process that sent it (0 for the kernel).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    pub signal: Signal,
    pub sender: Pid,
}

/// A descriptor that delivers every (blocked) signal as data.
pub struct SignalFd(OwnedFd);

impl SignalFd {
    /// Opens a close-on-exec signalfd for every signal.
    pub fn all() -> Result<SignalFd, Errno> {
        let all = full_set();
        // SAFETY: `all` is an initialised set; -1 asks for a new descriptor.
        let fd = check(unsafe { libc::signalfd(-1, &all, libc::SFD_CLOEXEC) })?;
        // SAFETY: signalfd returned a new descriptor that nothing else owns.
        Ok(SignalFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// The descriptor's number.
    pub fn raw(&self) -> i32 {
        self.0.as_raw_fd()
    }

    /// Waits up to `timeout` (`None`: for ever) for a signal. `Ok(None)` when time ran out.
    pub fn next(&self, timeout: Option<Duration>) -> Result<Option<Received>, Errno> {
        if let Some(timeout) = timeout {
            let mut poll_fd = libc::pollfd {
                fd: self.0.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // One millisecond more, so that time does not run out just before the deadline.
            let millis = libc::c_int::try_from(timeout.as_millis().saturating_add(1))
                .unwrap_or(libc::c_int::MAX);
            // SAFETY: one valid pollfd, which poll may write `revents` into.
            if check(unsafe { libc::poll(&mut poll_fd, 1, millis) })? == 0 {
                return Ok(None);
            }
        }
        let mut info = MaybeUninit::<libc::signalfd_siginfo>::uninit();
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        // SAFETY: reads at most `size` bytes into `info`, which has room for them.
        let read =
            check(unsafe { libc::read(self.0.as_raw_fd(), info.as_mut_ptr().cast(), size) })?;
        if read as usize != size {
            return Err(Errno::EIO);
        }
        // SAFETY: the kernel filled the whole structure.
        let info = unsafe { info.assume_init() };
        Ok(Some(Received {
            signal: Signal(info.ssi_signo as i32),
            sender: Pid(info.ssi_pid as i32),
        }))
    }
}
