//! sudrop's one error type and its exit codes: 125 for sudrop's own failures, 126 for a
//! command that was found but cannot be executed, 127 for a command that was not found.

use crate::log::shown;
use crate::resolve::ResolveError;
use crate::spec::SpecError;
use crate::sys::Errno;
use crate::userdb::DatabaseError;
use std::ffi::OsString;
use std::fmt;
use std::os::unix::ffi::OsStrExt;

pub const EXIT_FAILURE: u8 = 125;
pub const EXIT_CANNOT_EXECUTE: u8 = 126;
pub const EXIT_NOT_FOUND: u8 = 127;

#[derive(Debug)]
pub enum Error {
    /// Installed setuid/setgid or with file capabilities (the kernel set AT_SECURE).
    InsecureInstall,
    Spec {
        spec: OsString,
        error: SpecError,
    },
    Database {
        path: &'static str,
        error: DatabaseError,
    },
    Resolve {
        spec: OsString,
        error: ResolveError,
    },
    /// The caller may not change to the target identity.
    NeedPrivilege {
        from: String,
        to: String,
    },
    /// A syscall of the switch failed; `call` says which, with its arguments.
    Syscall {
        call: String,
        errno: Errno,
    },
    /// A `--ulimit` the kernel refused.
    Limit {
        limit: crate::limits::Ulimit,
        errno: Errno,
    },
    /// `--if-privileged` would have run the command as root (or in group 0) in place of a
    /// target that is neither.
    RootFallback {
        root_user: bool,
        target_uid: crate::id::Uid,
        target_gid: crate::id::Gid,
    },
    /// A `--group-of` path that is not used.
    GroupOf {
        path: String,
        reason: String,
    },
    /// A capability could not be kept or set.
    Capability(String),
    /// After the switch, the process is not what was asked for.
    Verify(String),
    CommandNotFound {
        command: OsString,
    },
    /// The PATH search found the command only through an empty or relative PATH entry, that
    /// is, in the current directory: not run.
    RelativeCommand {
        command: OsString,
        entry: Vec<u8>,
    },
    /// Not found, and these PATH directories could not be searched by the target.
    UnsearchablePath {
        command: OsString,
        directories: Vec<Vec<u8>>,
    },
    CannotExecute {
        command: OsString,
        errno: Errno,
    },
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::CommandNotFound { .. } | Error::RelativeCommand { .. } => EXIT_NOT_FOUND,
            Error::CannotExecute { .. } | Error::UnsearchablePath { .. } => EXIT_CANNOT_EXECUTE,
            _ => EXIT_FAILURE,
        }
    }

    pub fn syscall(call: impl Into<String>, errno: Errno) -> Error {
        Error::Syscall {
            call: call.into(),
            errno,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InsecureInstall => f.write_str(
                "refusing to run: installed setuid, setgid or with file capabilities; \
                 sudrop only steps down from root (use sudo to step up)",
            ),
            Error::Spec { spec, error } => {
                write!(f, "invalid user spec '{}': {error}", shown(spec.as_bytes()))
            }
            Error::Database { path, error } => write!(f, "{path}: {error}"),
            Error::Resolve { spec, error } => {
                write!(f, "cannot resolve '{}': {error}", shown(spec.as_bytes()))
            }
            Error::NeedPrivilege { from, to } => write!(
                f,
                "switching from {from} to {to} needs root or CAP_SETUID and CAP_SETGID"
            ),
            Error::Syscall { call, errno } => write!(f, "{call}: {}", errno.desc()),
            Error::Limit { limit, errno } => {
                write!(f, "--ulimit {limit}: {}", errno.desc())?;
                if *errno == Errno::EPERM {
                    f.write_str(" (raising a hard limit needs CAP_SYS_RESOURCE)")?;
                }
                Ok(())
            }
            Error::RootFallback {
                root_user,
                target_uid,
                target_gid,
            } => write!(
                f,
                "--if-privileged: this caller has {} but not CAP_SETUID and CAP_SETGID; it will \
                 not run the command as itself in place of uid {target_uid} gid {target_gid}. \
                 Give it those capabilities, or start it as the target (runAsUser, --user)",
                if *root_user { "uid 0" } else { "group 0" }
            ),
            Error::GroupOf { path, reason } => {
                write!(f, "--group-of {}: {reason}", shown(path.as_bytes()))
            }
            Error::Capability(message) | Error::Verify(message) => f.write_str(message),
            Error::CommandNotFound { command } => {
                write!(f, "{}: command not found", shown(command.as_bytes()))
            }
            Error::RelativeCommand { command, entry } => write!(
                f,
                "{}: found only relative to the current directory, through the PATH entry '{}'; \
                 not run (give ./{} to mean it)",
                shown(command.as_bytes()),
                shown(entry),
                shown(command.as_bytes())
            ),
            Error::UnsearchablePath {
                command,
                directories,
            } => {
                write!(
                    f,
                    "{}: not found, and the target may not search the PATH director{} ",
                    shown(command.as_bytes()),
                    if directories.len() == 1 { "y" } else { "ies" }
                )?;
                for (index, directory) in directories.iter().take(8).enumerate() {
                    let separator = if index > 0 { ", " } else { "" };
                    write!(f, "{separator}{}", shown(directory))?;
                }
                if directories.len() > 8 {
                    write!(f, ", … ({} more)", directories.len() - 8)?;
                }
                f.write_str(" (Permission denied)")
            }
            Error::CannotExecute { command, errno } => {
                write!(
                    f,
                    "{}: cannot execute: {}",
                    shown(command.as_bytes()),
                    errno.desc()
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_wrapper_convention() {
        let not_found = Error::CommandNotFound {
            command: "x".into(),
        };
        let cannot = Error::CannotExecute {
            command: "x".into(),
            errno: Errno::EACCES,
        };
        let failed = Error::syscall("setuid(1000)", Errno::EPERM);
        assert_eq!(
            (
                not_found.exit_code(),
                cannot.exit_code(),
                failed.exit_code()
            ),
            (127, 126, 125)
        );
        assert_eq!(failed.to_string(), "setuid(1000): Operation not permitted");
    }
}
