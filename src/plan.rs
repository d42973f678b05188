//! The plan: from what was asked, what the caller is and who the target is, everything that
//! will change before the command runs, in the order it will change. [`plan`] is pure: every
//! decision (the `--if-privileged` fallback, every refusal, no_new_privs, the filter, the
//! stdio hand-over) is made here, and a refusal comes back before anything has changed.
//! [`crate::switch::apply`] carries the steps out, and [`crate::switch::verify`] checks the
//! result from the kernel's own answers.
//!
//! The order is forced by the kernel:
//! 1. Limits and the umask: raising a hard limit needs CAP_SYS_RESOURCE, which the uid change
//!    ends.
//! 2. The bounding set: `PR_CAPBSET_DROP` needs CAP_SETPCAP in the effective set, which the uid
//!    change empties. Each drop commits new credentials, so when the caller's permitted set is
//!    not full (a container's runtime leaves 14 of 41) the set is read first and only what is
//!    there is dropped; a full one is dropped capability by capability until the kernel says
//!    there is no more. Either way the verification reads the set back and proves it holds no
//!    more than the kept capabilities.
//! 3. The terminal filter, when it must go in while CAP_SYS_ADMIN lasts (no no_new_privs).
//! 4. The stdio hand-over: the last change made with privilege (CAP_CHOWN, CAP_FOWNER), after
//!    every check that can refuse, so nothing of the caller's world changes for a command that
//!    is not going to run.
//! 5. `setgroups`, `setresgid`, `setresuid`: the first two need CAP_SETGID, which the uid
//!    change takes away (`PR_SET_KEEPCAPS` around it when capabilities are kept).
//! 6. The effective, permitted and inheritable sets in one `capset`, then the ambient raises
//!    (a capability may be ambient only while permitted and inheritable). The kernel never
//!    clears the inheritable set on a uid change, so it is always set explicitly.
//! 7. no_new_privs, then the filter (which then needs no privilege).

use crate::call::{Call, list};
use crate::capability::{Cap, CapMask, CapSets};
use crate::error::Error;
use crate::id::{Gid, Uid};
use crate::limits::Ulimit;
use crate::resolve::Target;
use crate::sys::io::FileFacts;
use std::fmt;

/// What the process is before anything changes, as the kernel reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Before {
    pub uids: [Uid; 3],
    pub gids: [Gid; 3],
    pub groups: Vec<Gid>,
    pub caps: CapSets,
    /// The bounding set; `None` when it was not read because the permitted set holds every
    /// capability (root as started: its bounding set is then full too, and reading 41
    /// capabilities one by one only to drop each would double the cost).
    pub bounding: Option<CapMask>,
    /// Whether the command could reach a terminal (any inherited descriptor is one, or there
    /// is a controlling terminal).
    pub terminal_reachable: bool,
    /// stdin, stdout and stderr, where they could be looked at.
    pub stdio: [Option<FileFacts>; 3],
}

/// What the command line asks of the switch.
#[derive(Clone, Debug, Default)]
pub struct Request<'a> {
    /// `--keep-cap`: `None` when not given.
    pub keep: Option<CapMask>,
    /// `--no-new-privs` (a non-root target gets it anyway).
    pub no_new_privs: bool,
    /// `--allow-new-privs`.
    pub allow_new_privs: bool,
    /// The spec named a group (`USER:GROUP`, `:GROUP`), which means "no supplementary groups".
    pub explicit_group: bool,
    /// Groups `--group-add` and `--group-of` asked for: these must be in the result.
    pub added_groups: &'a [Gid],
    pub if_privileged: bool,
    pub keep_stdio_owner: bool,
    pub limits: &'a [Ulimit],
    pub umask: Option<u32>,
    /// Whether the command can be found at all: nothing is handed over for one that cannot.
    pub command_found: bool,
}

/// One change, as the kernel makes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Boxed: a limit is 56 bytes, the other steps at most 24, and a plan holds up to 76
    /// steps in the start-up arena.
    SetLimit(Box<Ulimit>),
    SetUmask(u32),
    DropBounding(u8),
    BlockTerminalInjection,
    /// Gives the pipe on `fd` the group `gid` and the mode `mode` (root stays the owner).
    HandOver {
        fd: i32,
        gid: Gid,
        mode: u32,
    },
    KeepCaps(bool),
    SetGroups(Vec<Gid>),
    SetGid(Gid),
    SetUid(Uid),
    SetCapabilities(CapSets),
    RaiseAmbient(u8),
    NoNewPrivs,
}

impl Step {
    /// The system call this step is, for a message when it fails.
    pub fn call(&self) -> Call {
        match self {
            Step::SetLimit(limit) => Call::SetLimit(**limit),
            Step::SetUmask(mode) => Call::Umask(*mode),
            Step::DropBounding(number) => Call::BoundingDrop(*number),
            Step::BlockTerminalInjection => Call::Seccomp,
            Step::HandOver { fd, gid, .. } => Call::HandOver { fd: *fd, gid: *gid },
            Step::KeepCaps(on) => Call::KeepCaps(*on),
            Step::SetGroups(groups) => Call::SetGroups(groups.clone()),
            Step::SetGid(gid) => Call::SetResGid(*gid),
            Step::SetUid(uid) => Call::SetResUid(*uid),
            Step::SetCapabilities(sets) => Call::CapSet(*sets),
            Step::RaiseAmbient(number) => Call::AmbientRaise(*number),
            Step::NoNewPrivs => Call::NoNewPrivs,
        }
    }

    /// Whether `--verbose` says nothing of it (a notice speaks for the whole group).
    pub fn is_quiet(&self) -> bool {
        matches!(
            self,
            Step::DropBounding(_) | Step::KeepCaps(_) | Step::RaiseAmbient(_)
        )
    }
}

/// What `--verbose` says of a step.
impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::BlockTerminalInjection => {
                f.write_str("seccomp: TIOCSTI and TIOCLINUX fail with EPERM")
            }
            Step::HandOver { fd, gid, mode } => {
                write!(
                    f,
                    "descriptor {fd}: a pipe, now group {gid} mode {mode:04o}"
                )
            }
            Step::SetCapabilities(sets) => write!(
                f,
                "capabilities: effective, permitted, inheritable and ambient = {}",
                sets.effective
            ),
            other => other.call().fmt(f),
        }
    }
}

/// Something the plan says about itself: on stderr with `--verbose`, or always (a warning).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    GroupsNotAdded(Vec<Gid>),
    Fallback {
        asked: (Uid, Gid),
        instead: (Uid, Gid),
    },
    RuntimeGroupsKept {
        ids: (Uid, Gid),
        groups: Vec<Gid>,
        /// The spec named a group, which asks for none: a warning.
        against_explicit_group: bool,
    },
    AlreadyTheTarget,
    DroppingBounding(CapMask),
    /// No CAP_SETPCAP: a warning without no_new_privs.
    BoundingStays {
        bounding: CapMask,
        no_new_privs: bool,
    },
    NoTerminalInReach,
    /// A terminal is in reach and nothing can block TIOCSTI: a warning.
    TerminalUnprotected,
}

impl Notice {
    pub fn is_warning(&self) -> bool {
        match self {
            Notice::RuntimeGroupsKept {
                against_explicit_group,
                ..
            } => *against_explicit_group,
            Notice::BoundingStays { no_new_privs, .. } => !no_new_privs,
            Notice::TerminalUnprotected => true,
            _ => false,
        }
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::GroupsNotAdded(groups) => write!(
                f,
                "--if-privileged: no CAP_SETGID, so the groups {} are not added",
                list(groups)
            ),
            Notice::Fallback {
                asked: (asked_uid, asked_gid),
                instead: (uid, gid),
            } => write!(
                f,
                "--if-privileged: asked for uid {asked_uid} gid {asked_gid}, but uid {uid} may not \
                 switch (no CAP_SETUID and CAP_SETGID): running as uid {uid} gid {gid} instead"
            ),
            Notice::RuntimeGroupsKept {
                ids: (uid, gid),
                groups,
                against_explicit_group,
            } => {
                write!(
                    f,
                    "already uid {uid} gid {gid}; keeping the supplementary groups the runtime set \
                     ({}): no CAP_SETGID",
                    list(groups)
                )?;
                if *against_explicit_group {
                    f.write_str(", though the user spec names a group and so asks for none")?;
                }
                Ok(())
            }
            Notice::AlreadyTheTarget => {
                f.write_str("already running as the target: no identity change")
            }
            Notice::DroppingBounding(keep) => write!(f, "bounding set: dropping all but {keep}"),
            Notice::BoundingStays {
                bounding,
                no_new_privs,
            } => {
                write!(
                    f,
                    "bounding set left as it is ({bounding}): no CAP_SETPCAP to shrink it"
                )?;
                if !no_new_privs {
                    f.write_str(
                        ", and without no_new_privs a setuid or file-capability program can \
                         regain them",
                    )?;
                }
                Ok(())
            }
            Notice::NoTerminalInReach => f.write_str(
                "no terminal in reach: TIOCSTI cannot be used, no seccomp filter needed",
            ),
            Notice::TerminalUnprotected => f.write_str(
                "the command can reach a terminal, and without no_new_privs or CAP_SYS_ADMIN \
                 sudrop cannot stop it from typing into it (TIOCSTI)",
            ),
        }
    }
}

/// Everything that will be done, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Who the command runs as: the target, or with `--if-privileged` the caller itself.
    pub target: Target,
    /// The `--if-privileged` fallback was taken: the command runs as the caller.
    pub unswitched: bool,
    pub steps: Vec<Step>,
    pub notices: Vec<Notice>,
    /// What the verification checks: the kept capabilities when the sets were narrowed...
    pub restricted: Option<CapMask>,
    /// ...whether the bounding set was emptied (and whether it was read first: when not, the
    /// drops end where the kernel's capabilities do), and whether the groups were set.
    pub bounding_dropped: bool,
    pub bounding_unread: bool,
    pub groups_set: bool,
}

/// The plan for `target`, or why the switch is refused (before anything has changed).
pub fn plan(request: &Request<'_>, before: &Before, target: Target) -> Result<Plan, Error> {
    let mut notices = Vec::new();
    let mut target = target;
    let mut added_groups = request.added_groups.to_vec();
    let unswitched =
        request.if_privileged && fallback(&mut target, &mut added_groups, before, &mut notices)?;

    let user_target = !target.uid.is_root();
    let no_new_privs = request.no_new_privs || (user_target && !request.allow_new_privs);
    // Capabilities are narrowed for every non-root target, and for root when asked to.
    let restrict = request.keep.is_some() || user_target;
    let keep = request.keep.unwrap_or(CapMask::EMPTY);
    if !keep.is_subset_of(before.caps.permitted) {
        return Err(Error::KeepUnavailable {
            missing: keep.minus(before.caps.permitted),
        });
    }
    let uid_changes = before.uids != [target.uid; 3];
    let gid_changes = before.gids != [target.gid; 3];
    let effective = before.caps.effective;
    let may_set_ids = effective.contains(Cap::SETUID) && effective.contains(Cap::SETGID);
    if (uid_changes || gid_changes) && !may_set_ids {
        return Err(Error::NeedPrivilege {
            from: (before.uids[0], before.gids[0]),
            to: (target.uid, target.gid),
        });
    }
    let groups_differ = !same_set(&before.groups, &target.groups);
    let set_groups = groups_differ && effective.contains(Cap::SETGID);
    if groups_differ && !set_groups {
        let missing: Vec<Gid> = added_groups
            .iter()
            .copied()
            .filter(|gid| !before.groups.contains(gid))
            .collect();
        if !missing.is_empty() {
            return Err(Error::GroupsNeedSetgid { missing });
        }
        // Only reachable with unchanged ids and no CAP_SETGID: a runtime already started us
        // as the target (Kubernetes runAsUser) and chose the supplementary groups itself.
        notices.push(Notice::RuntimeGroupsKept {
            ids: (target.uid, target.gid),
            groups: before.groups.clone(),
            against_explicit_group: request.explicit_group,
        });
    }
    if !uid_changes && !gid_changes && !set_groups {
        notices.push(Notice::AlreadyTheTarget);
    }

    let bounding_dropped = restrict && effective.contains(Cap::SETPCAP);
    // Unread, every number the kernel could have: the executor stops at its last.
    let drops = before.bounding.unwrap_or(CapMask(u64::MAX)).minus(keep);
    // Room for every step at once: start-up allocates from a bump arena, where a vector that
    // grows leaves each smaller copy behind (a bounding-set drop alone is 41 steps). Besides
    // the drops and the ambient raises there are at most 12 steps.
    let room =
        request.limits.len() + usize::from(bounding_dropped) * drops.count() + keep.count() + 12;
    let mut steps: Vec<Step> = Vec::with_capacity(room);
    steps.extend(
        request
            .limits
            .iter()
            .map(|&limit| Step::SetLimit(Box::new(limit))),
    );
    steps.extend(request.umask.map(Step::SetUmask));
    if bounding_dropped {
        notices.push(Notice::DroppingBounding(keep));
        steps.extend(drops.numbers().map(Step::DropBounding));
    } else if restrict
        && let Some(bounding) = before.bounding
        && !bounding.is_subset_of(keep)
    {
        // With no_new_privs nothing can raise a capability from it again; without, a
        // setuid-root or file-capability program could.
        notices.push(Notice::BoundingStays {
            bounding,
            no_new_privs,
        });
    }
    // TIOCSTI works only on the caller's controlling terminal (without CAP_SYS_ADMIN), so with
    // no terminal in reach, as in a container without a tty, the filter protects nothing; it
    // costs as much as the whole bounding-set drop, so it then stays out.
    let block_terminal_injection = user_target && before.terminal_reachable;
    if user_target && !before.terminal_reachable {
        notices.push(Notice::NoTerminalInReach);
    }
    // Without no_new_privs the kernel takes the filter only from CAP_SYS_ADMIN, which the
    // switch is about to give up: then it goes in now.
    let filter_now =
        block_terminal_injection && !no_new_privs && effective.contains(Cap::SYS_ADMIN);
    if filter_now {
        steps.push(Step::BlockTerminalInjection);
    }
    // Only root hands out its pipes, only for a command that can run, and never to the caller
    // itself.
    if user_target
        && !request.keep_stdio_owner
        && !unswitched
        && before.uids[1].is_root()
        && request.command_found
    {
        steps.extend(stdio_hand_over(&before.stdio, target.gid));
    }
    let keepcaps = restrict && uid_changes && keep != CapMask::EMPTY;
    if keepcaps {
        steps.push(Step::KeepCaps(true));
    }
    if set_groups {
        steps.push(Step::SetGroups(target.groups.clone()));
    }
    if gid_changes {
        steps.push(Step::SetGid(target.gid));
    }
    if uid_changes {
        steps.push(Step::SetUid(target.uid));
    }
    if restrict {
        steps.push(Step::SetCapabilities(CapSets {
            effective: keep,
            permitted: keep,
            inheritable: keep,
        }));
        steps.extend(keep.numbers().map(Step::RaiseAmbient));
    }
    if keepcaps {
        steps.push(Step::KeepCaps(false));
    }
    if no_new_privs {
        steps.push(Step::NoNewPrivs);
    }
    if block_terminal_injection && !filter_now {
        if no_new_privs {
            steps.push(Step::BlockTerminalInjection);
        } else {
            notices.push(Notice::TerminalUnprotected);
        }
    }
    debug_assert!(
        steps.len() <= room,
        "{} steps, room for {room}",
        steps.len()
    );
    Ok(Plan {
        target,
        unswitched,
        steps,
        notices,
        restricted: restrict.then_some(keep),
        bounding_dropped,
        bounding_unread: before.bounding.is_none(),
        groups_set: set_groups,
    })
}

/// USER-SPEC `-`: nobody to switch to. Only what was asked for by name changes (limits, the
/// umask, `--no-new-privs`); the identity, the groups, every capability set, the descriptors
/// and the signal state stay as the caller has them, so there is nothing to verify.
pub fn unchanged(
    limits: &[Ulimit],
    umask: Option<u32>,
    no_new_privs: bool,
    (uids, gids): ([Uid; 3], [Gid; 3]),
) -> Plan {
    let mut steps: Vec<Step> = limits
        .iter()
        .map(|&limit| Step::SetLimit(Box::new(limit)))
        .collect();
    steps.extend(umask.map(Step::SetUmask));
    if no_new_privs {
        steps.push(Step::NoNewPrivs);
    }
    Plan {
        target: Target {
            uid: uids[0],
            gid: gids[0],
            groups: Vec::new(),
            home: Vec::new(),
            name: None,
        },
        unswitched: true,
        steps,
        notices: Vec::new(),
        restricted: None,
        bounding_dropped: false,
        bounding_unread: false,
        groups_set: false,
    }
}

/// `--if-privileged`: when the caller may not switch to `target` (no CAP_SETUID and
/// CAP_SETGID), the command runs as the caller instead: `target` becomes the caller's own
/// identity and groups, and true comes back. Groups that cannot be added are let go too. A
/// caller that may switch, or that already is the target, goes on as usual. A caller with
/// uid 0, or in group 0 where the target is not, is refused: the fallback is for the random
/// non-root uid of OpenShift, never a way to run the command as root.
fn fallback(
    target: &mut Target,
    added_groups: &mut Vec<Gid>,
    before: &Before,
    notices: &mut Vec<Notice>,
) -> Result<bool, Error> {
    let effective = before.caps.effective;
    let (uid, gid) = (before.uids[0], before.gids[0]);
    if !effective.contains(Cap::SETGID) && !added_groups.is_empty() {
        notices.push(Notice::GroupsNotAdded(std::mem::take(added_groups)));
    }
    let may_switch = effective.contains(Cap::SETUID) && effective.contains(Cap::SETGID);
    if may_switch || (target.uid, target.gid) == (uid, gid) {
        return Ok(false);
    }
    let root_user = before.uids.iter().any(|uid| uid.is_root());
    let target_in_group_0 = target.gid == Gid(0) || target.groups.contains(&Gid(0));
    let in_group_0 = before
        .gids
        .iter()
        .chain(&before.groups)
        .any(|gid| *gid == Gid(0));
    if root_user || (in_group_0 && !target_in_group_0) {
        return Err(Error::RootFallback {
            root_user,
            target_uid: target.uid,
            target_gid: target.gid,
        });
    }
    notices.push(Notice::Fallback {
        asked: (target.uid, target.gid),
        instead: (uid, gid),
    });
    *target = Target {
        uid,
        gid,
        groups: before.groups.clone(),
        home: Vec::new(),
        name: None,
    };
    Ok(true)
}

/// Runtimes hand a container root-owned pipes for stdin, stdout and stderr; after the switch
/// an application that opens `/dev/stdout` (nginx, envoy, many Java log setups) would get
/// EACCES. So each of them that is an anonymous pipe owned by root is handed to the target's
/// group, in the direction the command's descriptor goes only: `/dev/stdout` opens for
/// writing, never for reading what another writer of the same pipe writes, and root stays the
/// owner, so the target cannot change the mode back. Nothing with a name in a file system (a
/// named FIFO, a file, a device) and no socket is touched.
fn stdio_hand_over(stdio: &[Option<FileFacts>; 3], gid: Gid) -> Vec<Step> {
    let mut pipes: Vec<(FileFacts, Step)> = Vec::new();
    for (fd, facts) in (0..).zip(stdio) {
        let Some(facts) = *facts else { continue };
        if !facts.anonymous_pipe || facts.owner != 0 {
            continue;
        }
        let group_bits = match facts.access {
            libc::O_RDONLY => 0o040,
            libc::O_WRONLY => 0o020,
            _ => 0o060,
        };
        // Two descriptors of one pipe (2>&1) are one hand-over of what both need.
        let same = |(other, _): &&mut (FileFacts, Step)| {
            (other.device, other.inode) == (facts.device, facts.inode)
        };
        match pipes.iter_mut().find(same) {
            Some((_, Step::HandOver { mode, .. })) => *mode |= group_bits,
            _ => pipes.push((
                facts,
                Step::HandOver {
                    fd,
                    gid,
                    mode: 0o600 | group_bits,
                },
            )),
        }
    }
    pipes.into_iter().map(|(_, step)| step).collect()
}

fn sorted_unique(groups: &[Gid]) -> Vec<Gid> {
    let mut groups = groups.to_vec();
    groups.sort_unstable();
    groups.dedup();
    groups
}

pub fn same_set(a: &[Gid], b: &[Gid]) -> bool {
    sorted_unique(a) == sorted_unique(b)
}
