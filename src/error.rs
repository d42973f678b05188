//! sudrop's one error type and its exit codes: 125 for sudrop's own failures, 126 for a
//! command that was found but cannot be executed, 127 for a command that was not found.

use crate::call::{Call, list};
use crate::capability::CapMask;
use crate::id::{Gid, Uid};
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
    /// The caller may not change to the target identity: (uid, gid) from and to.
    NeedPrivilege {
        from: (Uid, Gid),
        to: (Uid, Gid),
    },
    /// A system call failed; `call` says which, with its arguments.
    Syscall {
        call: Call,
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
        refusal: GroupOfRefusal,
    },
    /// USER-SPEC names a path whose owner cannot be the target.
    OwnerOf {
        path: String,
        refusal: GroupOfRefusal,
    },
    /// `--keep-cap` names capabilities sudrop was started without.
    KeepUnavailable {
        missing: CapMask,
    },
    /// Already the target without CAP_SETGID, yet `--group-add`/`--group-of` ask for more.
    GroupsNeedSetgid {
        missing: Vec<Gid>,
    },
    /// After the switch, the process is not what was asked for.
    Verify(Mismatch),
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

    pub fn syscall(call: Call, errno: Errno) -> Error {
        Error::Syscall { call, errno }
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
            Error::NeedPrivilege {
                from: (from_uid, from_gid),
                to: (to_uid, to_gid),
            } => write!(
                f,
                "switching from uid {from_uid} gid {from_gid} to uid {to_uid} gid {to_gid} needs \
                 root or CAP_SETUID and CAP_SETGID"
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
            Error::GroupOf { path, refusal } => {
                write!(f, "--group-of {}: {refusal}", shown(path.as_bytes()))
            }
            Error::OwnerOf { path, refusal } => {
                write!(f, "USER-SPEC {}: {refusal}", shown(path.as_bytes()))
            }
            Error::KeepUnavailable { missing } => {
                write!(f, "cannot keep {missing}: sudrop was started without it")
            }
            Error::GroupsNeedSetgid { missing } => write!(
                f,
                "cannot add the supplementary groups {} (--group-add, --group-of): that needs \
                 CAP_SETGID",
                list(missing)
            ),
            Error::Verify(mismatch) => write!(f, "after the switch: {mismatch}"),
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

/// Why a `--group-of` path is not used.
#[derive(Debug, PartialEq, Eq)]
pub enum GroupOfRefusal {
    Stat(Errno),
    SymbolicLink,
    RootGroup,
    /// A path USER-SPEC names is owned by uid 0.
    RootOwner,
    /// A path USER-SPEC names belongs to group 0.
    RootOwnerGroup,
}

impl fmt::Display for GroupOfRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupOfRefusal::Stat(errno) => write!(f, "stat: {}", errno.desc()),
            GroupOfRefusal::SymbolicLink => f.write_str(
                "is a symbolic link, which is not followed (name the file it points to)",
            ),
            GroupOfRefusal::RootGroup => f.write_str(
                "belongs to group 0 (root); give --group-add 0 as well if that is meant",
            ),
            GroupOfRefusal::RootOwner => f.write_str(
                "is owned by uid 0 (root), and a path's owner never makes the command root; \
                 write 0 or root if that is meant",
            ),
            GroupOfRefusal::RootOwnerGroup => f.write_str(
                "belongs to group 0 (root), and a path's group never makes it the command's; \
                 write UID:0 if that is meant",
            ),
        }
    }
}

/// What the verification found different from the plan.
#[derive(Debug, PartialEq, Eq)]
pub enum Mismatch {
    Ids {
        uids: [Uid; 3],
        gids: [Gid; 3],
        expected: (Uid, Gid),
    },
    Groups {
        groups: Vec<Gid>,
        expected: Vec<Gid>,
    },
    Capabilities {
        set: &'static str,
        found: CapMask,
        expected: CapMask,
    },
    NotAmbient(u8),
    /// Dropped unread, the bounding set has a capability numbered where the kernel said
    /// there was none.
    CapabilitiesEnd(u8),
    /// `setresuid(0,0,0)` (or `setresgid`) succeeded after the switch.
    RootRegained {
        uid: bool,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::Ids {
                uids,
                gids,
                expected: (uid, gid),
            } => write!(f, "uids {uids:?} gids {gids:?}, expected {uid} and {gid}"),
            Mismatch::Groups { groups, expected } => write!(
                f,
                "supplementary groups {}, expected {}",
                list(groups),
                list(expected)
            ),
            Mismatch::Capabilities {
                set,
                found,
                expected,
            } => write!(f, "{set} capabilities are {found}, expected {expected}"),
            Mismatch::NotAmbient(number) => {
                write!(f, "{} is not ambient", CapMask(1 << number))
            }
            Mismatch::CapabilitiesEnd(number) => write!(
                f,
                "the bounding set answers for capability {number}, past the kernel's last"
            ),
            Mismatch::RootRegained { uid: true } => f.write_str("setresuid(0,0,0) succeeded"),
            Mismatch::RootRegained { uid: false } => f.write_str("setresgid(0,0,0) succeeded"),
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
        let failed = Error::syscall(Call::SetResUid(Uid(1000)), Errno::EPERM);
        assert_eq!(
            (
                not_found.exit_code(),
                cannot.exit_code(),
                failed.exit_code()
            ),
            (127, 126, 125)
        );
        assert_eq!(
            failed.to_string(),
            "setresuid(1000,1000,1000): Operation not permitted"
        );
    }
}
