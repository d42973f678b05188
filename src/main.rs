//! The `sudrop` binary.
//!
//! `no_main`: Rust's runtime would set SIGPIPE to SIG_IGN before `main`, and the ignored
//! disposition would survive `execve` into the command (`yes | head` then fails loudly). With
//! libc's `main` as the entry point nothing touches the signal state the launcher gave us, so
//! the command inherits it exactly, ignored set and mask alike.
#![no_main]

use std::ffi::{CStr, OsString, c_char, c_int};
use std::os::unix::ffi::OsStringExt;

/// # Safety
/// Called once by the C runtime, with `argc` valid strings in `argv`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // std::env::args() is empty under no_main on musl, so argv is read here.
    let count = usize::try_from(argc).unwrap_or(0);
    let args = (0..count)
        .map(|i| {
            // SAFETY: the C runtime passes `argc` valid pointers to NUL-terminated strings in
            // `argv`, alive for the whole process.
            let arg = unsafe { CStr::from_ptr(*argv.add(i)) };
            OsString::from_vec(arg.to_bytes().to_vec())
        })
        .collect();
    c_int::from(sudrop::main(args))
}
