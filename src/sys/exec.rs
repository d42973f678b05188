//! The process's arguments and environment as the C runtime gives them, and `execve`.

use super::Errno;
use std::ffi::{CStr, c_char, c_int};
use std::marker::PhantomData;

/// The C `argv`, borrowed for the life of the process.
///
/// # Safety
/// `argv` must hold `argc` pointers to NUL-terminated strings that stay valid and unchanged
/// for the rest of the process, as the C runtime's arguments to `main` do.
pub unsafe fn arguments(argc: c_int, argv: *const *const c_char) -> Vec<&'static CStr> {
    let count = usize::try_from(argc).unwrap_or(0);
    (0..count)
        // SAFETY: the caller guarantees `count` valid, 'static strings behind `argv`.
        .map(|i| unsafe { CStr::from_ptr(*argv.add(i)) })
        .collect()
}

unsafe extern "C" {
    static environ: *const *const c_char;
}

/// The environment the process started with, as `NAME=value` strings. sudrop never changes its
/// own environment, so the strings stay valid for the life of the process.
pub fn environment() -> Vec<&'static CStr> {
    let mut entries = Vec::new();
    // SAFETY: `environ` is the C runtime's NULL-terminated array of NUL-terminated strings.
    // Nothing in sudrop calls setenv/putenv, so neither the array nor its strings change.
    unsafe {
        let mut cursor = environ;
        if cursor.is_null() {
            return entries;
        }
        while !(*cursor).is_null() {
            entries.push(CStr::from_ptr(*cursor));
            cursor = cursor.add(1);
        }
    }
    entries
}

/// A NULL-terminated array of C strings, as `execve` takes for argv and envp.
pub struct CStrArray<'a> {
    pointers: Vec<*const c_char>,
    strings: PhantomData<&'a CStr>,
}

impl<'a> CStrArray<'a> {
    pub fn new(strings: impl IntoIterator<Item = &'a CStr>) -> CStrArray<'a> {
        let mut pointers: Vec<*const c_char> = strings.into_iter().map(CStr::as_ptr).collect();
        pointers.push(std::ptr::null());
        CStrArray {
            pointers,
            strings: PhantomData,
        }
    }
}

/// Replaces the process with `path`. Returns only on failure, with the reason.
pub fn execve(path: &CStr, argv: &CStrArray<'_>, envp: &CStrArray<'_>) -> Errno {
    // SAFETY: `path` is NUL-terminated; `argv` and `envp` are NULL-terminated arrays of
    // pointers to strings that the arrays' lifetime keeps alive during the call.
    unsafe {
        libc::execve(
            path.as_ptr(),
            argv.pointers.as_ptr(),
            envp.pointers.as_ptr(),
        )
    };
    Errno::last()
}
