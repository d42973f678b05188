//! From a parsed spec and the user database to the identity to switch to.
//!
//! The rules are gosu's (moby/sys/user `GetExecUser`), so a spec means the same thing under
//! sudrop, gosu and Docker's `--user`:
//! - no user part: the passwd entry of the caller's uid, if there is one;
//! - a numeric user part absent from passwd: that uid, the caller's gid, HOME `/`, no name;
//! - supplementary groups come from /etc/group membership, and only when the user was found in
//!   passwd and no group was given; otherwise there are none. The primary gid is not added;
//! - HOME is the passwd home field as it stands (gosu keeps an empty field empty).

use crate::id::{Gid, Uid};
use crate::spec::{Half, Part, UserSpec};
use crate::userdb::{group_entries, passwd_entries};
use std::fmt;

/// Who is calling: the defaults for the parts a spec leaves out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    pub uid: Uid,
    pub gid: Gid,
}

/// Everything the switch and the exec need to know about the target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub uid: Uid,
    pub gid: Gid,
    pub groups: Vec<Gid>,
    pub home: Vec<u8>,
    /// The passwd name, for USER and LOGNAME; `None` for an id absent from passwd.
    pub name: Option<Vec<u8>>,
}

/// The kernel's limit on supplementary groups (NGROUPS_MAX).
pub const MAX_GROUPS: usize = 65_536;

#[derive(Debug, PartialEq, Eq)]
pub enum ResolveError {
    /// A name that no well-formed line of the database has.
    NotFound { half: Half, name: Vec<u8> },
    /// The user is a member of more groups than the kernel allows.
    TooManyGroups { name: Vec<u8>, count: usize },
    /// A `--group-add` that is neither a group name nor an id.
    BadGroupAdd { text: Vec<u8>, reason: &'static str },
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::NotFound {
                half: Half::User,
                name,
            } => write!(
                f,
                "no user '{}' in {}",
                crate::log::shown(name),
                crate::userdb::PASSWD_PATH
            ),
            ResolveError::NotFound {
                half: Half::Group,
                name,
            } => write!(
                f,
                "no group '{}' in {}",
                crate::log::shown(name),
                crate::userdb::GROUP_PATH
            ),
            ResolveError::BadGroupAdd { text, reason } => {
                write!(f, "--group-add '{}': {reason}", crate::log::shown(text))
            }
            ResolveError::TooManyGroups { name, count } => write!(
                f,
                "'{}' is a member of {count} groups in {}; the kernel allows at most {MAX_GROUPS}",
                crate::log::shown(name),
                crate::userdb::GROUP_PATH
            ),
        }
    }
}

pub fn resolve(
    spec: &UserSpec<'_>,
    caller: Caller,
    passwd: &[u8],
    group: &[u8],
) -> Result<Target, ResolveError> {
    let entry = passwd_entries(passwd).find(|entry| match spec.user {
        None => entry.uid == caller.uid,
        Some(Part::Id(uid)) => entry.uid == Uid(uid),
        Some(Part::Name(name)) => entry.name == name,
    });

    let mut target = match (entry, spec.user) {
        (Some(entry), _) => Target {
            uid: entry.uid,
            gid: entry.gid,
            groups: Vec::new(),
            home: entry.home.to_vec(),
            name: Some(entry.name.to_vec()),
        },
        (None, Some(Part::Name(name))) => {
            return Err(ResolveError::NotFound {
                half: Half::User,
                name: name.to_vec(),
            });
        }
        (None, user) => Target {
            uid: match user {
                Some(Part::Id(uid)) => Uid(uid),
                _ => caller.uid,
            },
            gid: caller.gid,
            groups: Vec::new(),
            home: b"/".to_vec(),
            name: None,
        },
    };

    match spec.group {
        Some(Part::Id(gid)) => target.gid = Gid(gid),
        Some(Part::Name(name)) => {
            target.gid = group_entries(group)
                .find(|entry| entry.name == name)
                .map(|entry| entry.gid)
                .ok_or_else(|| ResolveError::NotFound {
                    half: Half::Group,
                    name: name.to_vec(),
                })?;
        }
        None => {
            if let Some(user_name) = &target.name {
                // Sorted and de-duplicated at the end (n log n; the kernel keeps the list
                // sorted anyway, so the order is not the file's).
                target.groups = group_entries(group)
                    .filter(|entry| entry.members().any(|member| member == user_name.as_slice()))
                    .map(|entry| entry.gid)
                    .collect();
                target.groups.sort_unstable();
                target.groups.dedup();
                if target.groups.len() > MAX_GROUPS {
                    return Err(ResolveError::TooManyGroups {
                        name: user_name.clone(),
                        count: target.groups.len(),
                    });
                }
            }
        }
    }
    Ok(target)
}

/// The gids of `--group-add` values (names in the group file, or ids by the strict rule: a
/// part made of digits is an id, never looked up as a name), added to `target`'s
/// supplementary groups, which stay sorted, unique and within the kernel's limit.
pub fn add_groups(
    target: &mut Target,
    added: &[&[u8]],
    extra_gids: &[Gid],
    group: &[u8],
) -> Result<(), ResolveError> {
    for &text in added {
        let gid = match crate::id::parse_id(text) {
            crate::id::IdText::Id(id) => Gid(id),
            crate::id::IdText::OutOfRange => {
                return Err(ResolveError::BadGroupAdd {
                    text: text.to_vec(),
                    reason: "the id is out of range",
                });
            }
            crate::id::IdText::NotAnId => group_entries(group)
                .find(|entry| entry.name == text)
                .map(|entry| entry.gid)
                .ok_or_else(|| ResolveError::BadGroupAdd {
                    text: text.to_vec(),
                    reason: "no such group in /etc/group",
                })?,
        };
        target.groups.push(gid);
    }
    target.groups.extend_from_slice(extra_gids);
    target.groups.sort_unstable();
    target.groups.dedup();
    if target.groups.len() > MAX_GROUPS {
        return Err(ResolveError::TooManyGroups {
            name: target.name.clone().unwrap_or_default(),
            count: target.groups.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec;

    // The lab database of ../shared/reference/privilege-droppers.md, where gosu's answers
    // for each spec were measured (the root integration tests use it too).
    const PASSWD: &str = include_str!("../tests/fixtures/lab.passwd");
    const GROUP: &str = include_str!("../tests/fixtures/lab.group");
    const ROOT: Caller = Caller {
        uid: Uid(0),
        gid: Gid(0),
    };

    fn resolve_text(text: &str) -> Result<(u32, u32, Vec<u32>, String), ResolveError> {
        let spec = spec::parse(text.as_bytes()).expect(text);
        let target = resolve(&spec, ROOT, PASSWD.as_bytes(), GROUP.as_bytes())?;
        let mut groups: Vec<u32> = target.groups.iter().map(|g| g.0).collect();
        groups.sort_unstable();
        Ok((
            target.uid.0,
            target.gid.0,
            groups,
            String::from_utf8(target.home).unwrap(),
        ))
    }

    #[test]
    fn matches_gosus_measured_table() {
        let table: &[(&str, u32, u32, &[u32], &str)] = &[
            ("alice", 1000, 1000, &[29, 50, 100], "/home/alice"),
            ("alice:", 1000, 1000, &[29, 50, 100], "/home/alice"),
            ("1000", 1000, 1000, &[29, 50, 100], "/home/alice"),
            ("1000:1000", 1000, 1000, &[], "/home/alice"),
            ("alice:staff", 1000, 50, &[], "/home/alice"),
            ("alice:50", 1000, 50, &[], "/home/alice"),
            ("1000:staff", 1000, 50, &[], "/home/alice"),
            (":staff", 0, 50, &[], "/root"),
            ("", 0, 0, &[], "/root"),
            (":", 0, 0, &[], "/root"),
            ("root", 0, 0, &[], "/root"),
            ("0:0", 0, 0, &[], "/root"),
            ("games", 5, 60, &[29, 100], "/usr/games"),
            ("games:daemon", 5, 1, &[], "/usr/games"),
            ("nohome", 1001, 1001, &[], ""),
            ("1234", 1234, 0, &[], "/"),
            ("2000", 2000, 2000, &[], "/home/n"),
            ("5000", 5000, 0, &[], "/"),
            ("5000:staff", 5000, 50, &[], "/"),
            (":4242", 0, 4242, &[], "/root"),
        ];
        for &(text, uid, gid, groups, home) in table {
            assert_eq!(
                resolve_text(text),
                Ok((uid, gid, groups.to_vec(), home.to_string())),
                "spec {text:?}"
            );
        }
    }

    #[test]
    fn unknown_names_fail_in_either_half() {
        for text in ["bogus", "0day", "ALICE", "+5", "0x10", " 5"] {
            assert!(
                matches!(
                    resolve_text(text),
                    Err(ResolveError::NotFound {
                        half: Half::User,
                        ..
                    })
                ),
                "{text}"
            );
        }
        for text in ["0:bogus", "0:0day", "alice:bogus"] {
            assert!(
                matches!(
                    resolve_text(text),
                    Err(ResolveError::NotFound {
                        half: Half::Group,
                        ..
                    })
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn missing_databases_still_resolve_numbers() {
        let caller = Caller {
            uid: Uid(0),
            gid: Gid(7),
        };
        let spec = spec::parse(b"1000").unwrap();
        let target = resolve(&spec, caller, b"", b"").unwrap();
        assert_eq!(
            (target.uid, target.gid, target.home.as_slice(), target.name),
            (Uid(1000), Gid(7), &b"/"[..], None)
        );
        let spec = spec::parse(b"alice").unwrap();
        assert!(resolve(&spec, caller, b"", b"").is_err());
        // passwd present, group missing: no supplementary groups, a named group fails.
        let spec = spec::parse(b"alice").unwrap();
        assert_eq!(
            resolve(&spec, caller, PASSWD.as_bytes(), b"")
                .unwrap()
                .groups,
            vec![]
        );
        let spec = spec::parse(b"alice:staff").unwrap();
        assert!(resolve(&spec, caller, PASSWD.as_bytes(), b"").is_err());
    }

    #[test]
    fn many_groups_resolve_in_n_log_n_and_too_many_are_refused() {
        let passwd = b"big:x:5000:5000::/home/big:\n";
        let mut group = Vec::new();
        for gid in (0..70_000u32).rev() {
            group.extend_from_slice(format!("g{gid}:x:{}:big,other\n", gid + 1).as_bytes());
        }
        let caller = Caller {
            uid: Uid(0),
            gid: Gid(0),
        };
        let spec = spec::parse(b"big").unwrap();
        let started = std::time::Instant::now();
        let error = resolve(&spec, caller, passwd, &group).unwrap_err();
        // Quadratic, this took minutes; a generous bound that no machine misses when linear.
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        assert_eq!(
            error,
            ResolveError::TooManyGroups {
                name: b"big".to_vec(),
                count: 70_000
            }
        );
        assert!(error.to_string().len() < 200, "{error}");
        let fewer: Vec<u8> = group
            .split(|&b| b == b'\n')
            .take(60_000)
            .flat_map(|l| l.iter().chain(b"\n"))
            .copied()
            .collect();
        let target = resolve(&spec, caller, passwd, &fewer).unwrap();
        assert_eq!(target.groups.len(), 60_000);
        assert!(
            target.groups.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
    }

    #[test]
    fn group_add_takes_names_and_ids_strictly() {
        let mut target = Target {
            uid: Uid(1000),
            gid: Gid(1000),
            groups: vec![Gid(50)],
            home: b"/".to_vec(),
            name: Some(b"alice".to_vec()),
        };
        add_groups(
            &mut target,
            &[b"audio", b"4242", b"50"],
            &[Gid(7)],
            GROUP.as_bytes(),
        )
        .unwrap();
        assert_eq!(target.groups, [Gid(7), Gid(29), Gid(50), Gid(4242)]);
        for (text, reason) in [
            (&b"nosuchgroup"[..], "no such group"),
            (b"4294967295", "out of range"),
            (b"", "no such group"),
        ] {
            let error = add_groups(&mut target, &[text], &[], GROUP.as_bytes()).unwrap_err();
            assert!(error.to_string().contains(reason), "{error}");
        }
        // A name made of digits is never looked up: "29" is gid 29, even with a group "29".
        let mut target2 = target.clone();
        add_groups(&mut target2, &[b"0029"], &[], b"0029:x:77:\n").unwrap();
        assert!(target2.groups.contains(&Gid(29)) && !target2.groups.contains(&Gid(77)));
    }

    #[test]
    fn first_match_wins() {
        let passwd = b"dup:x:10:10::/first:\ndup:x:11:11::/second:\nother:x:10:12::/third:\n";
        let spec = spec::parse(b"dup").unwrap();
        assert_eq!(resolve(&spec, ROOT, passwd, b"").unwrap().home, b"/first");
        let spec = spec::parse(b"10").unwrap();
        assert_eq!(
            resolve(&spec, ROOT, passwd, b"").unwrap().name.as_deref(),
            Some(&b"dup"[..])
        );
    }

    #[test]
    fn a_malformed_line_never_makes_root() {
        let passwd = b"# comment\nmallory:x:abc:def:::\nevil\n99999999999999999999:x:0:0:::\n";
        for text in ["mallory", "evil", "# comment", "99999999999999999999"] {
            let result = spec::parse(text.as_bytes())
                .map_err(|_| ())
                .and_then(|spec| {
                    resolve(
                        &spec,
                        Caller {
                            uid: Uid(1000),
                            gid: Gid(1000),
                        },
                        passwd,
                        b"",
                    )
                    .map_err(|_| ())
                });
            assert!(result.is_err(), "{text} resolved to {result:?}");
        }
    }
}
