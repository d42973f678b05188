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
use crate::userdb::{Line, lines};
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

/// Which database a message is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Database {
    Passwd,
    Group,
}

impl Database {
    pub fn path(self) -> &'static str {
        match self {
            Database::Passwd => crate::userdb::PASSWD_PATH,
            Database::Group => crate::userdb::GROUP_PATH,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum ResolveError {
    /// A name that no well-formed line of the database has.
    NotFound { half: Half, name: Vec<u8> },
    /// A line before the match (or with no match at all) that another reader could take for
    /// it, but that sudrop cannot read the same way: malformed, or different only by white
    /// space or a NUL byte. Refused rather than letting a later line win.
    Unclear {
        database: Database,
        line: usize,
        /// What was looked up.
        wanted: Looked,
    },
    /// The user is a member of more groups than the kernel allows.
    TooManyGroups { name: Vec<u8>, count: usize },
    /// `--group-add` and `--group-of` bring the supplementary groups over the kernel's limit.
    TooManyAddedGroups { count: usize },
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
            ResolveError::Unclear {
                database,
                line,
                wanted,
            } => write!(
                f,
                "{} line {line} could be the entry for {wanted}, but it is malformed or reads \
                 differently to other tools (white space, a NUL byte): refusing to guess; fix or \
                 remove that line",
                database.path()
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
            ResolveError::TooManyAddedGroups { count } => write!(
                f,
                "with --group-add and --group-of there are {count} supplementary groups; the \
                 kernel allows at most {MAX_GROUPS}"
            ),
        }
    }
}

/// What a look-up was for, in an [`ResolveError::Unclear`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Looked {
    User(Vec<u8>),
    UserId(u32),
    Group(Vec<u8>),
    /// The groups `user` is a member of.
    GroupsOf(Vec<u8>),
}

impl fmt::Display for Looked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = crate::log::shown;
        match self {
            Looked::User(name) => write!(f, "user '{}'", shown(name)),
            Looked::UserId(id) => write!(f, "user id {id}"),
            Looked::Group(name) => write!(f, "group '{}'", shown(name)),
            Looked::GroupsOf(user) => write!(f, "a group of '{}'", shown(user)),
        }
    }
}

/// What a look-up in passwd or group asks for.
#[derive(Clone, Copy)]
enum Wanted<'a> {
    Name(&'a [u8]),
    /// An id, in the given field (passwd: 2 for the uid).
    Id(usize, u32),
}

impl Wanted<'_> {
    fn could_be(self, line: &Line<'_>) -> bool {
        match self {
            Wanted::Name(name) => line.could_be_named(name),
            Wanted::Id(field, id) => line.could_have_id(field, id),
        }
    }

    fn looked(self, database: Database) -> Looked {
        match (self, database) {
            (Wanted::Name(name), Database::Passwd) => Looked::User(name.to_vec()),
            (Wanted::Name(name), Database::Group) => Looked::Group(name.to_vec()),
            (Wanted::Id(_, id), _) => Looked::UserId(id),
        }
    }
}

/// The first entry that `is_match` takes. Every line before it (or every line, when none
/// matches) that `wanted` could be, and that is not itself a match, makes the look-up fail:
/// a line that could be the match is never skipped for a later one.
///
/// Only the lines `wanted` could be are parsed (`entry`): a match is always such a line (its
/// name is the wanted name as written, or its id field is the wanted id with nothing around
/// it), so every other line is passed over unparsed.
fn first_match<'a, E>(
    lines: impl Iterator<Item = Line<'a>>,
    database: Database,
    wanted: Wanted<'_>,
    entry: impl Fn(&Line<'a>) -> Option<E>,
    is_match: impl Fn(&E) -> bool,
) -> Result<Option<E>, ResolveError> {
    for line in lines {
        if !wanted.could_be(&line) {
            continue;
        }
        return match entry(&line) {
            Some(entry) if is_match(&entry) => Ok(Some(entry)),
            _ => Err(ResolveError::Unclear {
                database,
                line: line.number,
                wanted: wanted.looked(database),
            }),
        };
    }
    Ok(None)
}

/// The gid of the group named `name`, by [`first_match`]'s rule.
fn group_named(group: &[u8], name: &[u8]) -> Result<Option<Gid>, ResolveError> {
    let found = first_match(
        lines(group),
        Database::Group,
        Wanted::Name(name),
        Line::group_entry,
        |entry| entry.name == name,
    )?;
    Ok(found.map(|entry| entry.gid))
}

pub fn resolve(
    spec: &UserSpec<'_>,
    caller: Caller,
    passwd: &[u8],
    group: &[u8],
) -> Result<Target, ResolveError> {
    const UID_FIELD: usize = 2;
    let wanted = match spec.user {
        None => Wanted::Id(UID_FIELD, caller.uid.0),
        Some(Part::Id(uid)) => Wanted::Id(UID_FIELD, uid),
        Some(Part::Name(name)) => Wanted::Name(name),
    };
    let entry = first_match(
        lines(passwd),
        Database::Passwd,
        wanted,
        Line::passwd_entry,
        |entry| match wanted {
            Wanted::Id(_, uid) => entry.uid == Uid(uid),
            Wanted::Name(name) => entry.name == name,
        },
    )?;

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
            target.gid = group_named(group, name)?.ok_or_else(|| ResolveError::NotFound {
                half: Half::Group,
                name: name.to_vec(),
            })?;
        }
        None => {
            if let Some(user_name) = &target.name {
                target.groups = member_groups(group, user_name)?;
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

/// The gids of the well-formed group lines that list `user` as a member, sorted and
/// de-duplicated (n log n; the kernel keeps the list sorted anyway, so the order is not the
/// file's). A malformed line adds nothing (glibc skips it too). A member that is `user` only
/// with white space trimmed is refused: gosu trims the line's ends, glibc does not.
fn member_groups(group: &[u8], user: &[u8]) -> Result<Vec<Gid>, ResolveError> {
    let mut groups = Vec::new();
    // A line that does not hold the name anywhere lists no member that is the user, trimmed
    // or not: only the others are parsed.
    for line in lines(group).filter(|line| line.mentions(user)) {
        let Some(entry) = line.group_entry() else {
            continue;
        };
        for member in entry.members() {
            if member == user {
                groups.push(entry.gid);
            } else if member.len() > user.len() && crate::userdb::trim_any_space(member) == user {
                return Err(ResolveError::Unclear {
                    database: Database::Group,
                    line: line.number,
                    wanted: Looked::GroupsOf(user.to_vec()),
                });
            }
        }
    }
    groups.sort_unstable();
    groups.dedup();
    Ok(groups)
}

/// The gids of `--group-add` values: names in the group file, or ids by the strict rule (a
/// part made of digits is an id, never looked up as a name).
pub fn group_add_gids(added: &[&[u8]], group: &[u8]) -> Result<Vec<Gid>, ResolveError> {
    added
        .iter()
        .map(|&text| {
            let bad = |reason| ResolveError::BadGroupAdd {
                text: text.to_vec(),
                reason,
            };
            match crate::id::parse_id(text) {
                crate::id::IdText::Id(id) => Ok(Gid(id)),
                crate::id::IdText::OutOfRange => Err(bad("the id is out of range")),
                crate::id::IdText::NotAnId if crate::spec::is_signed(text) => {
                    Err(bad(crate::spec::SIGNED_REASON))
                }
                crate::id::IdText::NotAnId => {
                    group_named(group, text)?.ok_or_else(|| bad("no such group in /etc/group"))
                }
            }
        })
        .collect()
}

/// Adds `added` and `extra_gids` to `target`'s supplementary groups, which stay sorted,
/// unique and within the kernel's limit.
pub fn add_groups(
    target: &mut Target,
    added: &[Gid],
    extra_gids: &[Gid],
) -> Result<(), ResolveError> {
    target.groups.extend_from_slice(added);
    target.groups.extend_from_slice(extra_gids);
    target.groups.sort_unstable();
    target.groups.dedup();
    if target.groups.len() > MAX_GROUPS {
        return Err(ResolveError::TooManyAddedGroups {
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
        for text in ["bogus", "0day", "ALICE", "0x10", " 5"] {
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
        let added = group_add_gids(&[b"audio", b"4242", b"50"], GROUP.as_bytes()).unwrap();
        add_groups(&mut target, &added, &[Gid(7)]).unwrap();
        assert_eq!(target.groups, [Gid(7), Gid(29), Gid(50), Gid(4242)]);
        for (text, reason) in [
            (&b"nosuchgroup"[..], "no such group"),
            (b"4294967295", "out of range"),
            (b"", "no such group"),
        ] {
            let error = group_add_gids(&[text], GROUP.as_bytes()).unwrap_err();
            assert!(error.to_string().contains(reason), "{error}");
        }
        // A name made of digits is never looked up: "29" is gid 29, even with a group "29".
        assert_eq!(
            group_add_gids(&[b"0029"], b"0029:x:77:\n"),
            Ok(vec![Gid(29)])
        );
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

    /// Resolves `spec` for a root caller; the uid, gid and groups, or the error's text.
    fn identity(spec: &str, passwd: &str, group: &str) -> Result<(u32, u32, Vec<u32>), String> {
        let spec = spec::parse(spec.as_bytes()).map_err(|e| e.to_string())?;
        let target =
            resolve(&spec, ROOT, passwd.as_bytes(), group.as_bytes()).map_err(|e| e.to_string())?;
        Ok((
            target.uid.0,
            target.gid.0,
            target.groups.iter().map(|g| g.0).collect(),
        ))
    }

    const ALICE: &str = "alice:x:1000:1000::/home/alice:/bin/sh\n";

    #[test]
    fn an_indented_comment_is_a_comment_as_glibc_reads_it() {
        // The differential fuzzer's first kind: sudrop added group 0.
        for indent in [" ", "\t", " \t\x0b\x0c"] {
            let group = format!("{indent}#wheel:x:0:alice\nstaff:x:50:alice\n");
            assert_eq!(
                identity("alice", ALICE, &group),
                Ok((1000, 1000, vec![50])),
                "{indent:?}"
            );
        }
    }

    #[test]
    fn an_indented_line_is_the_same_line_to_sudrop_glibc_and_gosu() {
        let passwd = format!(" {ALICE}alice:x:0:0::/root:/bin/sh\n");
        assert_eq!(identity("alice", &passwd, ""), Ok((1000, 1000, vec![])));
        let group = " g:x:50:\ng:x:0:\n";
        assert_eq!(identity("alice:g", ALICE, group), Ok((1000, 50, vec![])));
    }

    #[test]
    fn a_malformed_line_that_could_be_the_match_refuses_instead_of_a_later_line() {
        let root_alice = "alice:x:0:0::/root:/bin/sh\n";
        let refusals = [
            // Six fields, then a well-formed uid 0 line of the same name.
            (
                "alice",
                format!("alice:x:1000:1000::/home/alice\n{root_alice}"),
                1,
            ),
            // A NUL byte in a field.
            (
                "alice",
                format!("alice:x:1000:1000::/home/a\0b:/bin/sh\n{root_alice}"),
                1,
            ),
            // A NUL byte in the name: C reads "alice".
            (
                "alice",
                format!("alice\0x:x:1000:1000::/h:/bin/sh\n{root_alice}"),
                1,
            ),
            // Unicode white space that gosu trims and glibc keeps.
            (
                "alice",
                format!("\u{a0}alice:x:1000:1000::/h:/bin/sh\n{root_alice}"),
                1,
            ),
            // A numeric spec whose only line is malformed: not "absent".
            ("1000", "alice:x:1000:1000::/home/alice\n".to_string(), 1),
            // A malformed bob line for uid 1000 before alice's.
            ("1000", format!("bob:x:1000:1000::/b\n{ALICE}"), 1),
            // The id as strtoul or Atoi would read it.
            (
                "1000",
                format!("bob:x: +01000:1000::/b:/bin/sh\n{ALICE}"),
                1,
            ),
            // The caller's own uid (no user part) by the same rule.
            (
                ":50",
                "mallory:x:0:abc:::\nroot:x:0:0::/root:/bin/sh\n".to_string(),
                1,
            ),
        ];
        for (spec, passwd, line) in refusals {
            let error = identity(spec, &passwd, "").unwrap_err();
            assert!(
                error.contains(&format!("/etc/passwd line {line} could be the entry for")),
                "{spec} {passwd:?}: {error}"
            );
        }
        // The same in /etc/group, for a group name.
        let group = "g:x:50\ng:x:0:\n";
        let error = identity("alice:g", ALICE, group).unwrap_err();
        assert!(error.contains("/etc/group line 1"), "{error}");
        // After the match, a malformed line changes nothing: the first match wins for every
        // reader.
        let passwd = format!("{ALICE}alice:x:0:0::/root\n");
        assert_eq!(identity("alice", &passwd, ""), Ok((1000, 1000, vec![])));
        // A malformed line for another name or id is skipped, as before.
        let passwd = format!("bob:x:1000\n{ALICE}");
        assert_eq!(identity("alice", &passwd, ""), Ok((1000, 1000, vec![])));
    }

    #[test]
    fn a_member_that_is_the_user_only_once_trimmed_is_refused() {
        for group in [
            "g:x:0:alice \n",
            "g:x:0:bob, alice\n",
            "g:x:0:\u{a0}alice\n",
        ] {
            let error = identity("alice", ALICE, group).unwrap_err();
            assert!(error.contains("/etc/group line 1"), "{group:?}: {error}");
        }
        // A malformed line never adds a group.
        assert_eq!(
            identity("alice", ALICE, "wheel:x:0:alice:\nstaff:x:50:alice\n"),
            Ok((1000, 1000, vec![50]))
        );
    }

    #[test]
    fn signed_spec_parts_and_group_adds_are_refused() {
        let passwd = "+5:x:0:0::/:\ngames:x:5:60::/:\n";
        for spec in ["+5", "alice:+5", "-0"] {
            let error = identity(spec, passwd, "+5:x:0:\n").unwrap_err();
            assert!(error.contains("starts with '+' or '-'"), "{spec}: {error}");
        }
        let error = group_add_gids(&[b"+5"], b"+5:x:0:\n").unwrap_err();
        assert!(error.to_string().contains("starts with '+'"), "{error}");
    }

    #[test]
    fn too_many_added_groups_are_blamed_on_the_options() {
        let mut target = resolve(&spec::parse(b"1000").unwrap(), ROOT, b"", b"").unwrap();
        let extra: Vec<Gid> = (1..=65_537).map(Gid).collect();
        let error = add_groups(&mut target, &[], &extra).unwrap_err();
        assert_eq!(error, ResolveError::TooManyAddedGroups { count: 65_537 });
        assert!(
            error.to_string().contains("--group-add and --group-of"),
            "{error}"
        );
        assert!(!error.to_string().contains("/etc/group"), "{error}");
    }
}
