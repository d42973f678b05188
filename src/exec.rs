//! Replacing sudrop with the command: its environment, the PATH search, and the exec itself.
//!
//! Nothing is copied that need not be: the command's arguments are sudrop's own `argv`
//! strings and its environment is sudrop's own `environ` strings, passed to `execve` by
//! pointer; only HOME, USER and LOGNAME are new.

use crate::error::Error;
use crate::resolve::Target;
use crate::sys::Errno;
use crate::sys::exec::{CStrArray, execve};
use std::ffi::{CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;

/// The search path when the environment has no PATH (musl's `execvp` uses the same).
pub const DEFAULT_PATH: &[u8] = b"/usr/local/bin:/bin:/usr/bin";

/// The command's environment: sudrop's own, with HOME set to the target's home, USER and
/// LOGNAME (only where present) set to the target's name or removed when it has none, and
/// sudrop's own init variables (`SUDROP_INIT`, ...) removed so they do not reach a nested sudrop.
pub struct Environment<'a> {
    inherited: Vec<&'a CStr>,
    added: Vec<CString>,
}

/// The name of a `NAME=value` entry; `None` for an entry without `=` (which no libc reads).
/// A leading `=` belongs to the name, as std and glibc read it.
pub fn entry_name(entry: &[u8]) -> Option<&[u8]> {
    let at = entry.iter().skip(1).position(|&b| b == b'=')? + 1;
    Some(&entry[..at])
}

fn with_value(name: &[u8], value: &[u8]) -> Option<CString> {
    let mut entry = Vec::with_capacity(name.len() + 1 + value.len());
    entry.extend_from_slice(name);
    entry.push(b'=');
    entry.extend_from_slice(value);
    CString::new(entry).ok()
}

pub fn environment<'a>(current: &[&'a CStr], target: &Target, own: &[&str]) -> Environment<'a> {
    build_environment(current, Some(target), own)
}

/// The environment of a command run as sudrop's caller itself (`--if-privileged` without the
/// privilege to switch): as it is, less sudrop's own variables, as a shell's
/// `if [ "$(id -u)" = 0 ]` would leave it.
pub fn unswitched_environment<'a>(current: &[&'a CStr], own: &[&str]) -> Environment<'a> {
    build_environment(current, None, own)
}

/// `own`: sudrop's own variables, which the command does not get.
fn build_environment<'a>(
    current: &[&'a CStr],
    target: Option<&Target>,
    own: &[&str],
) -> Environment<'a> {
    let mut inherited = Vec::with_capacity(current.len() + 1);
    let mut user_names: Vec<&[u8]> = Vec::new();
    for &entry in current {
        let Some(name) = entry_name(entry.to_bytes()) else {
            continue;
        };
        match name {
            b"HOME" | b"USER" | b"LOGNAME" if target.is_none() => inherited.push(entry),
            b"HOME" => {}
            b"USER" | b"LOGNAME" => {
                if !user_names.contains(&name) {
                    user_names.push(name);
                }
            }
            name if own.iter().any(|variable| variable.as_bytes() == name) => {}
            _ => inherited.push(entry),
        }
    }
    let Some(target) = target else {
        return Environment {
            inherited,
            added: Vec::new(),
        };
    };
    let mut added: Vec<CString> = with_value(b"HOME", &target.home).into_iter().collect();
    if let Some(name) = &target.name {
        added.extend(
            user_names
                .into_iter()
                .filter_map(|variable| with_value(variable, name)),
        );
    }
    Environment { inherited, added }
}

impl<'a> Environment<'a> {
    /// Every entry, in the order the command gets them.
    pub fn entries(&self) -> impl Iterator<Item = &CStr> + '_ {
        self.inherited
            .iter()
            .copied()
            .chain(self.added.iter().map(CString::as_c_str))
    }
}

/// The search path of `entries`: the value of the last PATH entry, else [`DEFAULT_PATH`].
fn search_path<'a>(entries: &[&'a CStr]) -> &'a [u8] {
    entries
        .iter()
        .rev()
        .find_map(|entry| entry.to_bytes().strip_prefix(b"PATH="))
        .unwrap_or(DEFAULT_PATH)
}

/// Everything `execve` needs, prepared before the switch.
pub struct Prepared<'a> {
    command: &'a CStr,
    argv: CStrArray<'a>,
    env: &'a Environment<'a>,
    envp: CStrArray<'a>,
    search_path: &'a [u8],
}

pub fn prepare<'a>(
    command: &'a CStr,
    args: &'a [&'a CStr],
    env: &'a Environment<'a>,
) -> Prepared<'a> {
    Prepared {
        command,
        argv: CStrArray::new(std::iter::once(command).chain(args.iter().copied())),
        env,
        envp: CStrArray::new(env.entries()),
        search_path: search_path(&env.inherited),
    }
}

/// One place the PATH search looks.
#[derive(Debug, PartialEq, Eq)]
struct Candidate<'a> {
    /// The PATH entry it came from; `None` for a command that holds a `/`.
    entry: Option<&'a [u8]>,
    path: Vec<u8>,
}

impl Candidate<'_> {
    /// From an empty or relative PATH entry: a file found there is found through the current
    /// directory, which a PATH search must not run (gosu refuses it too).
    fn is_relative(&self) -> bool {
        self.entry.is_some_and(|entry| !entry.starts_with(b"/"))
    }
}

/// The candidate files for `command`: itself if it holds a `/`, else each PATH entry joined
/// with it (an empty entry is the current directory, as POSIX says).
fn candidates<'a>(
    command: &'a [u8],
    search_path: &'a [u8],
) -> Box<dyn Iterator<Item = Candidate<'a>> + 'a> {
    if command.contains(&b'/') {
        return Box::new(std::iter::once(Candidate {
            entry: None,
            path: command.to_vec(),
        }));
    }
    if command.is_empty() {
        return Box::new(std::iter::empty());
    }
    Box::new(search_path.split(|&b| b == b':').map(move |entry| {
        let dir = if entry.is_empty() { &b"."[..] } else { entry };
        let mut path = dir.to_vec();
        if !path.ends_with(b"/") {
            path.push(b'/');
        }
        path.extend_from_slice(command);
        Candidate {
            entry: Some(entry),
            path,
        }
    }))
}

/// What a failed `execve` of one candidate means for the search.
fn classify(errno: Errno) -> Option<Errno> {
    match errno {
        // Not here: try the next PATH entry.
        Errno::ENOENT | Errno::ENOTDIR | Errno::ENAMETOOLONG | Errno::ELOOP => None,
        other => Some(other),
    }
}

fn command_name(prepared: &Prepared<'_>) -> std::ffi::OsString {
    OsStr::from_bytes(prepared.command.to_bytes()).to_owned()
}

/// Whether the PATH search could find `command`: some candidate outside the current
/// directory exists and is not a directory, as sudrop sees it now (before the switch), with
/// the PATH of `environ` (the command's is the same). When none does, the exec will fail with
/// 127 whoever runs it.
pub fn may_be_found(command: &CStr, environ: &[&CStr]) -> bool {
    found(command, environ).is_some()
}

/// The file the PATH search would find for `command`, as [`may_be_found`] looks, with its
/// metadata.
fn found(command: &CStr, environ: &[&CStr]) -> Option<(Vec<u8>, std::fs::Metadata)> {
    candidates(command.to_bytes(), search_path(environ))
        .filter(|candidate| !candidate.is_relative())
        .find_map(|candidate| {
            let metadata = std::fs::metadata(OsStr::from_bytes(&candidate.path)).ok()?;
            (!metadata.is_dir()).then_some((candidate.path, metadata))
        })
}

/// What about the command's file asks the kernel for privilege at `execve`, which
/// no_new_privs makes it ignore without a word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Raising {
    SetUserId,
    SetGroupId,
    /// The permitted capabilities it carries.
    FileCapabilities(crate::capability::CapMask),
}

impl std::fmt::Display for Raising {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Raising::SetUserId | Raising::SetGroupId => write!(
                f,
                "is {}, which the kernel ignores under no_new_privs (set for every non-root \
                 user); SUDROP_ALLOW_NEW_PRIVS=1 (sudrop --allow-new-privs) lets it take \
                 effect, with the bounding set still empty",
                if *self == Raising::SetUserId {
                    "set-user-ID"
                } else {
                    "set-group-ID"
                }
            ),
            Raising::FileCapabilities(caps) => write!(
                f,
                "has file capabilities ({caps}), which the kernel grants neither under \
                 no_new_privs nor beyond the emptied bounding set: run it with sudrop \
                 --keep-cap {caps}"
            ),
        }
    }
}

/// The file the PATH search would execute for `command` (as [`may_be_found`] looks), when it is
/// set-user-ID, set-group-ID or has file capabilities: its path and which.
pub fn raises_privilege(command: &CStr, environ: &[&CStr]) -> Option<(Vec<u8>, Raising)> {
    use std::os::unix::fs::PermissionsExt;
    let (path, metadata) = found(command, environ)?;
    let mode = metadata.permissions().mode();
    let raising = if mode & 0o4000 != 0 {
        Raising::SetUserId
    } else if mode & 0o2010 == 0o2010 {
        Raising::SetGroupId
    } else {
        let c_path = std::ffi::CString::new(path.clone()).ok()?;
        let caps = crate::sys::io::file_capabilities(&c_path)?;
        Raising::FileCapabilities(crate::capability::CapMask(caps))
    };
    Some((path, raising))
}

/// Executes the command, searching PATH as `execvp` does, with the permissions sudrop has now
/// (call it after the switch). Returns only on failure: 127 when no candidate exists, 126
/// when one exists but cannot be executed. A file without `#!` or ELF header is not handed to
/// `/bin/sh` (musl behaves the same): it fails with "Exec format error".
pub fn execute(prepared: &Prepared<'_>) -> Error {
    execute_with(prepared, &prepared.envp)
}

/// Socket activation through the init: `LISTEN_PID` names the process that should take the
/// `LISTEN_FDS` sockets. When it names sudrop (`init_pid`), the command, a child with a pid of
/// its own, would ignore them; so the command, about to execute as `command_pid()` (asked
/// only then), gets its own pid there instead. Any other value is left alone.
pub fn execute_as_listen_pid(
    prepared: &Prepared<'_>,
    init_pid: i32,
    command_pid: impl FnOnce() -> i32,
) -> Error {
    // This runs in the init's child, in the init's memory: the common case (no LISTEN_PID
    // naming the init) allocates nothing, so it touches no page the init has not.
    let mut digits = [0; 10];
    let init_pid = u32::try_from(init_pid).map_or(&b""[..], |pid| decimal(pid, &mut digits));
    let names_the_init =
        |entry: &&CStr| entry.to_bytes().strip_prefix(b"LISTEN_PID=") == Some(init_pid);
    if !prepared.env.entries().any(|entry| names_the_init(&entry)) {
        return execute(prepared);
    }
    let entries: Vec<&CStr> = prepared.env.entries().collect();
    let Some(at) = entries.iter().position(names_the_init) else {
        return execute(prepared);
    };
    let Ok(own) = CString::new(format!("LISTEN_PID={}", command_pid())) else {
        return execute(prepared);
    };
    let envp = CStrArray::new(
        entries
            .iter()
            .enumerate()
            .map(|(index, &entry)| if index == at { own.as_c_str() } else { entry }),
    );
    execute_with(prepared, &envp)
}

/// `number` in decimal, written into the end of `buffer`.
fn decimal(number: u32, buffer: &mut [u8; 10]) -> &[u8] {
    let mut at = buffer.len();
    let mut rest = number;
    loop {
        at -= 1;
        buffer[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            return &buffer[at..];
        }
    }
}

fn execute_with(prepared: &Prepared<'_>, envp: &CStrArray<'_>) -> Error {
    let mut denied = None;
    let mut unsearchable: Vec<Vec<u8>> = Vec::new();
    for candidate in candidates(prepared.command.to_bytes(), prepared.search_path) {
        let Ok(path) = CString::new(candidate.path.as_slice()) else {
            continue;
        };
        if candidate.is_relative() {
            let found = std::fs::metadata(OsStr::from_bytes(&candidate.path))
                .is_ok_and(|metadata| metadata.is_file());
            if found {
                return Error::RelativeCommand {
                    command: command_name(prepared),
                    entry: candidate.entry.unwrap_or_default().to_vec(),
                };
            }
            continue;
        }
        match classify(execve(&path, &prepared.argv, envp)) {
            None => {}
            // EACCES on one entry must not hide the command in a later one. It means either
            // that the file may not be executed or that its directory may not be searched.
            Some(Errno::EACCES) => match candidate.entry {
                Some(entry) if !searchable(entry) => unsearchable.push(entry.to_vec()),
                _ => denied = Some(Errno::EACCES),
            },
            Some(errno) => {
                return Error::CannotExecute {
                    command: command_name(prepared),
                    errno,
                };
            }
        }
    }
    match denied {
        Some(errno) => Error::CannotExecute {
            command: command_name(prepared),
            errno,
        },
        None if !unsearchable.is_empty() => Error::UnsearchablePath {
            command: command_name(prepared),
            directories: unsearchable,
        },
        None => Error::CommandNotFound {
            command: command_name(prepared),
        },
    }
}

fn searchable(directory: &[u8]) -> bool {
    CString::new(directory).is_ok_and(|directory| crate::sys::io::can_search(&directory))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::{Gid, Uid};

    #[test]
    fn numbers_in_decimal() {
        let mut buffer = [0; 10];
        for number in [0, 7, 10, 1234, 4_194_304, u32::MAX] {
            assert_eq!(decimal(number, &mut buffer), number.to_string().as_bytes());
        }
    }

    /// sudrop's own variables, as the command line's rows name them.
    const OWN: &[&str] = &["SUDROP_INIT", "SUDROP_GRACE", "SUDROP_ALLOW_NEW_PRIVS"];

    fn target(name: Option<&str>, home: &str) -> Target {
        Target {
            uid: Uid(1000),
            gid: Gid(1000),
            groups: vec![],
            home: home.as_bytes().to_vec(),
            name: name.map(|n| n.as_bytes().to_vec()),
        }
    }

    fn owned(entries: &[&str]) -> Vec<CString> {
        entries.iter().map(|e| CString::new(*e).unwrap()).collect()
    }

    /// The environment built from `current`, as strings.
    fn built(current: &[&str], target: &Target) -> Vec<String> {
        let owned = owned(current);
        let borrowed: Vec<&CStr> = owned.iter().map(CString::as_c_str).collect();
        environment(&borrowed, target, OWN)
            .entries()
            .map(|e| e.to_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn home_is_always_replaced_and_user_names_follow_the_target() {
        let got = built(
            &[
                "HOME=/root",
                "USER=root",
                "FOO=bar",
                "HOME=/again",
                "NOEQUALS",
            ],
            &target(Some("alice"), "/home/alice"),
        );
        assert_eq!(got, ["FOO=bar", "HOME=/home/alice", "USER=alice"]);
    }

    #[test]
    fn sudrops_own_variables_are_removed() {
        let got = built(
            &["SUDROP_INIT=1", "SUDROP_GRACE=5", "SUDROP_OTHER=kept"],
            &target(None, "/"),
        );
        assert_eq!(got, ["SUDROP_OTHER=kept", "HOME=/"]);
    }

    #[test]
    fn logname_only_when_present_and_removed_without_a_name() {
        let current = ["LOGNAME=root", "USER=root"];
        assert_eq!(
            built(&current, &target(Some("a"), "/h")),
            ["HOME=/h", "LOGNAME=a", "USER=a"]
        );
        assert_eq!(built(&current, &target(None, "/")), ["HOME=/"]);
        assert_eq!(built(&[], &target(Some("a"), "/h")), ["HOME=/h"]);
    }

    #[test]
    fn unswitched_the_identity_variables_stay_and_sudrops_go() {
        let owned = owned(&["HOME=/h", "USER=u", "SUDROP_GRACE=5", "A=b"]);
        let borrowed: Vec<&CStr> = owned.iter().map(CString::as_c_str).collect();
        let env = unswitched_environment(&borrowed, OWN);
        let got: Vec<&str> = env.entries().map(|e| e.to_str().unwrap()).collect();
        assert_eq!(got, ["HOME=/h", "USER=u", "A=b"]);
    }

    #[test]
    fn path_search_candidates() {
        let found: Vec<_> = candidates(b"ls", b"/bin::/usr/bin/:sbin")
            .map(|c| (String::from_utf8(c.path.clone()).unwrap(), c.is_relative()))
            .collect();
        assert_eq!(
            found,
            [
                ("/bin/ls".to_string(), false),
                ("./ls".to_string(), true),
                ("/usr/bin/ls".to_string(), false),
                ("sbin/ls".to_string(), true)
            ]
        );
        let direct: Vec<_> = candidates(b"./x", b"/bin").collect();
        assert_eq!(
            direct,
            [Candidate {
                entry: None,
                path: b"./x".to_vec()
            }]
        );
        assert!(
            !direct[0].is_relative(),
            "an explicit ./x is the user's choice"
        );
        assert_eq!(candidates(b"", b"/bin").count(), 0);
    }

    fn with_prepared<T>(command: &str, env: &[&str], check: impl FnOnce(&Prepared<'_>) -> T) -> T {
        let command = CString::new(command).unwrap();
        let owned = owned(env);
        let borrowed: Vec<&CStr> = owned.iter().map(CString::as_c_str).collect();
        let env = environment(&borrowed, &target(None, "/"), OWN);
        let prepared = prepare(&command, &[], &env);
        check(&prepared)
    }

    #[test]
    fn prepare_uses_the_environments_path_or_the_default() {
        with_prepared("ls", &["PATH=/x"], |p| assert_eq!(p.search_path, b"/x"));
        with_prepared("ls", &[], |p| assert_eq!(p.search_path, DEFAULT_PATH));
    }

    #[test]
    fn missing_commands_are_127_and_directories_126() {
        let code = |command, env: &[&str]| with_prepared(command, env, |p| execute(p).exit_code());
        assert_eq!(
            code("sudrop-no-such-command", &["PATH=/nonexistent:/tmp"]),
            127
        );
        assert_eq!(code("/", &[]), 126);
        assert_eq!(code("", &[]), 127);
    }
}
