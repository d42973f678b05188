//! A pseudo-terminal for a child process, shared by the test binaries that need one
//! (`#[path]`-included).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

/// A fresh pseudo-terminal: the master side, and the side a child gets.
pub fn open() -> (std::fs::File, OwnedFd) {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two new descriptors; the name and settings may be null.
    let result = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(result, 0, "openpty");
    // SAFETY: both descriptors are new and owned here.
    unsafe {
        (
            std::fs::File::from_raw_fd(master),
            OwnedFd::from_raw_fd(slave),
        )
    }
}

/// Gives `command` the terminal as stdin, stdout and stderr, and as the controlling terminal
/// of a new session, as a terminal emulator (or `docker run -it`'s user) starts a program.
pub fn attach(command: &mut Command, slave: &OwnedFd) {
    let slave_fd = slave.as_raw_fd();
    command
        .stdin(Stdio::from(slave.try_clone().expect("dup")))
        .stdout(Stdio::from(slave.try_clone().expect("dup")))
        .stderr(Stdio::from(slave.try_clone().expect("dup")));
    // SAFETY: setsid and ioctl are async-signal-safe; they make the terminal the controlling
    // terminal of the new session.
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(move || {
            if libc::setsid() < 0 || libc::ioctl(slave_fd, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
