//! The `sudrop` binary.
//!
//! `no_main`: Rust's runtime would set SIGPIPE to SIG_IGN before `main`, and the ignored
//! disposition would survive `execve` into the command (`yes | head` then fails loudly). With
//! libc's `main` as the entry point nothing touches the signal state the launcher gave us, so
//! the command inherits it exactly, ignored set and mask alike.
#![no_main]

use std::ffi::{c_char, c_int};

/// # Safety
/// Called once by the C runtime, with `argc` valid strings in `argv`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // std::env::args() is empty under no_main on musl, so argv is read here.
    // SAFETY: the C runtime passes `argc` valid strings that live as long as the process.
    let args = unsafe { sudrop::sys::exec::arguments(argc, argv) };
    // Straight out, past the C library's exit: sudrop writes with write(2) and registers
    // nothing to run at exit, and the C stdio flush would fault in a page of its own.
    sudrop::sys::process::exit_now(sudrop::main(&args))
}

/// Start-up allocations come from a static arena instead of freshly mapped pages.
#[global_allocator]
static ALLOCATOR: sudrop::sys::alloc::StartupAllocator<{ sudrop::sys::alloc::ARENA_BYTES }> =
    sudrop::sys::alloc::StartupAllocator(sudrop::sys::alloc::Arena::new());
