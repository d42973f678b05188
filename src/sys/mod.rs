//! The syscall layer: every raw `libc` call and every `unsafe` block of sudrop lives in this
//! module tree, each behind a safe, typed wrapper that reports failure as an [`Errno`]. The
//! rest of the crate is policy and is compiled with `#![deny(unsafe_code)]`.
//!
//! sudrop never starts a thread. Where a wrapper uses a raw per-thread syscall (the id
//! changes, `capset`), it therefore acts on the whole process, and skips the libc machinery
//! that would signal other threads (musl's `__synccall` costs three `sigprocmask` calls per id
//! change).
#![allow(unsafe_code)]

pub mod alloc;
pub mod caps;
pub mod cred;
pub mod exec;
pub mod io;
pub mod process;
pub mod seccomp;
pub mod signal;

pub use nix::errno::Errno;

/// `Ok(value)` for a non-negative answer, else the errno the call left.
fn check<T: Copy + Default + PartialOrd>(answer: T) -> Result<T, Errno> {
    if answer < T::default() {
        Err(Errno::last())
    } else {
        Ok(answer)
    }
}
