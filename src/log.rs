//! What sudrop says on stderr: `--verbose` steps, warnings and errors. A write that fails
//! (stderr closed, a broken pipe while every signal is blocked) is dropped: reporting must
//! never panic or end the process.

use crate::sys::io::{STDERR, write_all};
use std::fmt::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a write to stderr has failed: later messages are not attempted. (With every
/// signal blocked in the init, each write into a broken pipe would also queue a SIGPIPE.)
static STDERR_FAILED: AtomicBool = AtomicBool::new(false);

/// How much of a name, a path or a list a message shows: messages stay short whatever the
/// input (a group list can have 65,536 entries, an argument 128 KiB).
pub const SHOWN_BYTES: usize = 200;

/// `bytes` as text for a message, cut to [`SHOWN_BYTES`] with a note of what was left out.
pub fn shown(bytes: &[u8]) -> String {
    match bytes.get(..SHOWN_BYTES) {
        Some(head) if bytes.len() > SHOWN_BYTES => format!(
            "{}… ({} more bytes)",
            String::from_utf8_lossy(head),
            bytes.len() - SHOWN_BYTES
        ),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Writes `sudrop: MESSAGE` and a newline to stderr in one write.
pub fn error(message: fmt::Arguments<'_>) {
    let mut line = String::from("sudrop: ");
    // Writing into a String only fails if a Display implementation does; keep what came.
    let _ = line.write_fmt(message);
    line.push('\n');
    if !STDERR_FAILED.load(Ordering::Relaxed) && !write_all(STDERR, line.as_bytes()) {
        STDERR_FAILED.store(true, Ordering::Relaxed);
    }
}

/// Says what sudrop does, on stderr: each step under `--verbose`, warnings always.
#[derive(Clone, Copy)]
pub struct Log {
    pub verbose: bool,
    /// False only in tests of the policy code.
    pub warnings: bool,
}

impl Log {
    /// What the command line asks for.
    pub fn new(verbose: bool) -> Log {
        Log {
            verbose,
            warnings: true,
        }
    }

    pub fn say(self, message: fmt::Arguments<'_>) {
        if self.verbose {
            error(message);
        }
    }

    /// `sudrop: warning: MESSAGE`, with or without `--verbose`.
    pub fn warn(self, message: fmt::Arguments<'_>) {
        if self.warnings {
            error(format_args!("warning: {message}"));
        }
    }
}
