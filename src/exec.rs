//! Replacing sudrop with the command: its environment, the PATH search, and the exec itself.

use crate::error::Error;
use crate::resolve::Target;
use nix::errno::Errno;
use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// The search path when the environment has no PATH (musl's `execvp` uses the same).
pub const DEFAULT_PATH: &[u8] = b"/usr/local/bin:/bin:/usr/bin";

/// The command's environment: sudrop's own, with HOME set to the target's home, USER and
/// LOGNAME (only where present) set to the target's name or removed when it has none, and
/// sudrop's own init variables (`SUDROP_INIT`, ...) removed so they do not reach a nested sudrop.
pub fn environment(
    current: impl IntoIterator<Item = (OsString, OsString)>,
    target: &Target,
) -> Vec<(OsString, OsString)> {
    let mut env = Vec::new();
    let mut had_user_names = Vec::new();
    for (key, value) in current {
        match key.as_bytes() {
            b"HOME" => {}
            b"USER" | b"LOGNAME" => {
                if !had_user_names.contains(&key) {
                    had_user_names.push(key);
                }
            }
            name if crate::cli::INIT_ENV
                .iter()
                .any(|(_, var)| var.as_bytes() == name) => {}
            _ => env.push((key, value)),
        }
    }
    env.push(("HOME".into(), OsString::from_vec(target.home.clone())));
    if let Some(name) = &target.name {
        for key in had_user_names {
            env.push((key, OsString::from_vec(name.clone())));
        }
    }
    env
}

fn c_string(bytes: &[u8]) -> Option<CString> {
    CString::new(bytes).ok()
}

/// Everything `execve` needs, prepared before the switch.
pub struct Prepared {
    command: OsString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    search_path: Vec<u8>,
}

pub fn prepare(
    command: &OsStr,
    args: &[OsString],
    env: &[(OsString, OsString)],
) -> Result<Prepared, Error> {
    // Arguments from argv and variables from environ cannot hold NUL bytes; a key can hold '='
    // only if it came from a broken environ, and is then dropped like libc would never see it.
    let not_executable = || Error::CannotExecute {
        command: command.to_owned(),
        errno: Errno::EINVAL,
    };
    let mut argv = vec![c_string(command.as_bytes()).ok_or_else(not_executable)?];
    for arg in args {
        argv.push(c_string(arg.as_bytes()).ok_or_else(not_executable)?);
    }
    let mut envp = Vec::new();
    let mut search_path = DEFAULT_PATH.to_vec();
    for (key, value) in env {
        if key.as_bytes() == b"PATH" {
            search_path = value.as_bytes().to_vec();
        }
        let mut entry = key.as_bytes().to_vec();
        entry.push(b'=');
        entry.extend_from_slice(value.as_bytes());
        if let Some(entry) = c_string(&entry) {
            envp.push(entry);
        }
    }
    Ok(Prepared {
        command: command.to_owned(),
        argv,
        envp,
        search_path,
    })
}

/// The candidate files for `command`: itself if it holds a `/`, else each PATH entry joined
/// with it (an empty entry is the current directory, as POSIX says).
fn candidates<'a>(
    command: &'a [u8],
    search_path: &'a [u8],
) -> Box<dyn Iterator<Item = Vec<u8>> + 'a> {
    if command.contains(&b'/') {
        return Box::new(std::iter::once(command.to_vec()));
    }
    if command.is_empty() {
        return Box::new(std::iter::empty());
    }
    Box::new(search_path.split(|&b| b == b':').map(move |dir| {
        let dir = if dir.is_empty() { &b"."[..] } else { dir };
        let mut path = dir.to_vec();
        if !path.ends_with(b"/") {
            path.push(b'/');
        }
        path.extend_from_slice(command);
        path
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

/// Executes the command, searching PATH as `execvp` does, with the permissions sudrop has now
/// (call it after the switch). Returns only on failure: 127 when no candidate exists, 126
/// when one exists but cannot be executed. A file without `#!` or ELF header is not handed to
/// `/bin/sh` (musl behaves the same): it fails with "Exec format error".
pub fn execute(prepared: &Prepared) -> Error {
    let mut argv: Vec<*const libc::c_char> = prepared.argv.iter().map(|arg| arg.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = prepared.envp.iter().map(|var| var.as_ptr()).collect();
    envp.push(std::ptr::null());

    let mut denied = None;
    for path in candidates(prepared.command.as_bytes(), &prepared.search_path) {
        let Some(path) = c_string(&path) else {
            continue;
        };
        // SAFETY: `path` is a NUL-terminated string, and `argv`/`envp` are NULL-terminated
        // arrays of pointers into `prepared`, which outlives the call. execve only returns on
        // failure.
        unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
        match classify(Errno::last()) {
            None => {}
            // EACCES on one entry must not hide the command in a later one.
            Some(Errno::EACCES) => denied = Some(Errno::EACCES),
            Some(errno) => {
                return Error::CannotExecute {
                    command: prepared.command.clone(),
                    errno,
                };
            }
        }
    }
    match denied {
        Some(errno) => Error::CannotExecute {
            command: prepared.command.clone(),
            errno,
        },
        None => Error::CommandNotFound {
            command: prepared.command.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::{Gid, Uid};

    fn target(name: Option<&str>, home: &str) -> Target {
        Target {
            uid: Uid(1000),
            gid: Gid(1000),
            groups: vec![],
            home: home.as_bytes().to_vec(),
            name: name.map(|n| n.as_bytes().to_vec()),
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs.iter().map(|(k, v)| (k.into(), v.into())).collect()
    }

    #[test]
    fn home_is_always_replaced_and_user_names_follow_the_target() {
        let current = env(&[
            ("HOME", "/root"),
            ("USER", "root"),
            ("FOO", "bar"),
            ("HOME", "/again"),
        ]);
        let got = environment(current, &target(Some("alice"), "/home/alice"));
        assert_eq!(
            got,
            env(&[("FOO", "bar"), ("HOME", "/home/alice"), ("USER", "alice")])
        );
    }

    #[test]
    fn sudrops_own_variables_are_removed() {
        let current = env(&[
            ("SUDROP_INIT", "1"),
            ("SUDROP_GRACE", "5"),
            ("SUDROP_OTHER", "kept"),
        ]);
        assert_eq!(
            environment(current, &target(None, "/")),
            env(&[("SUDROP_OTHER", "kept"), ("HOME", "/")])
        );
    }

    #[test]
    fn logname_only_when_present_and_removed_without_a_name() {
        let current = env(&[("LOGNAME", "root"), ("USER", "root")]);
        assert_eq!(
            environment(current.clone(), &target(Some("a"), "/h")),
            env(&[("HOME", "/h"), ("LOGNAME", "a"), ("USER", "a")])
        );
        assert_eq!(
            environment(current, &target(None, "/")),
            env(&[("HOME", "/")])
        );
        assert_eq!(
            environment(env(&[]), &target(Some("a"), "/h")),
            env(&[("HOME", "/h")])
        );
    }

    #[test]
    fn path_search_candidates() {
        let found: Vec<_> = candidates(b"ls", b"/bin::/usr/bin/")
            .map(|p| String::from_utf8(p).unwrap())
            .collect();
        assert_eq!(found, ["/bin/ls", "./ls", "/usr/bin/ls"]);
        let direct: Vec<_> = candidates(b"./x", b"/bin").collect();
        assert_eq!(direct, [b"./x".to_vec()]);
        assert_eq!(candidates(b"", b"/bin").count(), 0);
    }

    #[test]
    fn prepare_uses_the_environments_path_or_the_default() {
        let prepared = prepare(OsStr::new("ls"), &[], &env(&[("PATH", "/x")])).unwrap();
        assert_eq!(prepared.search_path, b"/x");
        let prepared = prepare(OsStr::new("ls"), &[], &env(&[])).unwrap();
        assert_eq!(prepared.search_path, DEFAULT_PATH);
    }

    #[test]
    fn missing_commands_are_127_and_directories_126() {
        let prepared = prepare(
            OsStr::new("sudrop-no-such-command"),
            &[],
            &env(&[("PATH", "/nonexistent:/tmp")]),
        )
        .unwrap();
        assert_eq!(execute(&prepared).exit_code(), 127);
        let prepared = prepare(OsStr::new("/"), &[], &env(&[])).unwrap();
        assert_eq!(execute(&prepared).exit_code(), 126);
        let prepared = prepare(OsStr::new(""), &[], &env(&[])).unwrap();
        assert_eq!(execute(&prepared).exit_code(), 127);
    }
}
