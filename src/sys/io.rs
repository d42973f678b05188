//! Writing to the standard descriptors without ever failing the process: a closed or broken
//! stderr must not turn into a panic or a signal while sudrop reports something.

use super::Errno;

pub const STDOUT: i32 = 1;
pub const STDERR: i32 = 2;

/// Writes all of `bytes` to `fd`, as far as the descriptor takes them; errors are dropped
/// (there is nowhere left to report them).
pub fn write_all(fd: i32, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: write reads at most `bytes.len()` bytes from a valid slice.
        let written = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        match written {
            n if n > 0 => bytes = bytes.get(n as usize..).unwrap_or_default(),
            n if n < 0 && Errno::last() == Errno::EINTR => {}
            _ => return,
        }
    }
}
