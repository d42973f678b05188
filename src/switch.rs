//! The privilege switch, in three parts: [`observe`] reads what the process is, the pure
//! [`crate::plan::plan`] decides every change (its module says why in that order), [`apply`]
//! carries the steps out, and [`verify`] checks the result from the kernel's own answers and
//! that root cannot be regained. On error the process may be half-way; the caller must then
//! exit without running anything.
//!
//! All calls go through [`Kernel`], so the order and the decisions are unit-tested with a
//! model of the kernel's rules; [`LinuxKernel`] is the real thing. A failed call comes back as
//! [`Error::Syscall`] with the typed [`Call`] the step is, the same for both, so a test asserts
//! the message a user reads.

use crate::call::Call;
use crate::capability::{Cap, CapMask, CapSets};
use crate::error::{Error, Mismatch};
use crate::id::{Gid, Uid};
use crate::log::Log;
use crate::plan::{Before, Plan, Step, same_set};
use crate::sys;
use crate::sys::Errno;
use crate::sys::io::FileFacts;

/// The calls the switch makes: reads, and one change per [`Step`].
pub trait Kernel {
    fn resuid(&self) -> Result<[Uid; 3], Errno>;
    fn resgid(&self) -> Result<[Gid; 3], Errno>;
    fn groups(&self) -> Result<Vec<Gid>, Errno>;
    /// The effective, permitted and inheritable sets, in one read.
    fn capabilities(&self) -> Result<CapSets, Errno>;
    /// The bounding set, read capability by capability up to the kernel's last one.
    fn bounding(&self) -> Result<CapMask, Errno>;
    fn ambient_has(&self, number: u8) -> Result<bool, Errno>;
    /// Whether capability `number` is in the bounding set (EINVAL: no such capability).
    fn bounding_has(&self, number: u8) -> Result<bool, Errno>;
    /// Whether the command could reach a terminal: any inherited descriptor is one, or there
    /// is a controlling terminal (or either cannot be told).
    fn terminal_reachable(&self) -> bool;
    /// What stdin, stdout and stderr are.
    fn stdio(&self) -> [Option<FileFacts>; 3];
    fn change(&mut self, step: &Step) -> Result<(), Errno>;
}

fn read<T>(answer: Result<T, Errno>, call: Call) -> Result<T, Error> {
    answer.map_err(|errno| Error::Syscall { call, errno })
}

/// What the process is now, with its ids as already read. The bounding set, the terminals
/// in reach and stdio matter only for a switch that narrows capabilities or may hand pipes
/// over; with `full` false (a root target, no `--keep-cap`, no `--if-privileged`) they are
/// not read, and the plan does not look at them.
pub fn observe(
    kernel: &impl Kernel,
    (uids, gids): ([Uid; 3], [Gid; 3]),
    full: bool,
) -> Result<Before, Error> {
    let caps = read(kernel.capabilities(), Call::CapGet)?;
    Ok(Before {
        uids,
        gids,
        groups: read(kernel.groups(), Call::GetGroups)?,
        caps,
        // Without CAP_SETPCAP nothing can be dropped, and what stays is said.
        bounding: if full
            && (!caps.effective.contains(Cap::SETPCAP) || reading_is_cheaper(caps.permitted))
        {
            Some(read(kernel.bounding(), Call::BoundingRead)?)
        } else {
            None
        },
        terminal_reachable: full && kernel.terminal_reachable(),
        stdio: if full { kernel.stdio() } else { [None; 3] },
    })
}

/// Whether reading the bounding set, then dropping what is there, costs less than dropping
/// every capability unread. A read costs about a sixth of a drop (which commits new
/// credentials), so reading 41 pays when fewer than about 35 are there; the permitted set,
/// which an exec'd root gets from the bounding set, says how many to expect.
fn reading_is_cheaper(permitted: CapMask) -> bool {
    permitted.count() < 35
}

/// The caller's real, effective and saved uids and gids.
pub fn ids(kernel: &impl Kernel) -> Result<([Uid; 3], [Gid; 3]), Error> {
    Ok((
        read(kernel.resuid(), Call::GetResUid)?,
        read(kernel.resgid(), Call::GetResGid)?,
    ))
}

/// Carries out the plan's steps in order; the first failure stops it. A failed stdio
/// hand-over only costs the convenience of `/dev/stdout`: it is said, and passed over.
///
/// Returns where the kernel's capabilities ended, when the bounding set was dropped unread.
pub fn apply(kernel: &mut impl Kernel, plan: &Plan, log: Log) -> Result<Applied, Error> {
    for notice in &plan.notices {
        if notice.is_warning() {
            log.warn(format_args!("{notice}"));
        } else {
            log.say(format_args!("{notice}"));
        }
    }
    let mut past_last_capability = None;
    for step in &plan.steps {
        if !step.is_quiet() {
            log.say(format_args!("{step}"));
        }
        if past_last_capability.is_some() && matches!(step, Step::DropBounding(_)) {
            continue;
        }
        match (kernel.change(step), step) {
            (Ok(()), _) => {}
            // Dropping an unread set: EINVAL past the kernel's last capability ends it.
            (Err(Errno::EINVAL), Step::DropBounding(number)) if plan.bounding_unread => {
                past_last_capability = Some(*number);
            }
            (Err(errno), Step::SetLimit(limit)) => {
                return Err(Error::Limit {
                    limit: **limit,
                    errno,
                });
            }
            (Err(errno), Step::HandOver { fd, .. }) => log.warn(format_args!(
                "cannot hand descriptor {fd} over: {}",
                Error::Syscall {
                    call: step.call(),
                    errno
                }
            )),
            (Err(errno), _) => {
                return Err(Error::Syscall {
                    call: step.call(),
                    errno,
                });
            }
        }
    }
    Ok(Applied {
        past_last_capability,
    })
}

/// What [`apply`] learnt from the kernel on the way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// The first capability number the kernel answered EINVAL for, dropping an unread set.
    pub past_last_capability: Option<u8>,
}

/// Checks the switch against the kernel's own answers: the ids, the groups, every capability
/// set, and that root cannot be regained. The bounding set is proven empty (but for what is
/// kept) either by reading it back (when it was read before) or, dropped unread, by the
/// kernel's answers: every drop up to its last capability returned 0, which is the kernel
/// saying the capability is gone, and reading the number after that one answers EINVAL.
pub fn verify(kernel: &mut impl Kernel, plan: &Plan, applied: Applied) -> Result<(), Error> {
    let target = &plan.target;
    let uids = read(kernel.resuid(), Call::GetResUid)?;
    let gids = read(kernel.resgid(), Call::GetResGid)?;
    if uids != [target.uid; 3] || gids != [target.gid; 3] {
        return Err(Error::Verify(Mismatch::Ids {
            uids,
            gids,
            expected: (target.uid, target.gid),
        }));
    }
    let groups = read(kernel.groups(), Call::GetGroups)?;
    if plan.groups_set && !same_set(&groups, &target.groups) {
        return Err(Error::Verify(Mismatch::Groups {
            groups,
            expected: target.groups.clone(),
        }));
    }
    let keep = plan.restricted.unwrap_or(CapMask::EMPTY);
    if plan.restricted.is_some() {
        let after = read(kernel.capabilities(), Call::CapGet)?;
        let sets = [
            ("effective", after.effective),
            ("permitted", after.permitted),
            ("inheritable", after.inheritable),
        ];
        for (set, found) in sets {
            if found != keep {
                return Err(Error::Verify(Mismatch::Capabilities {
                    set,
                    found,
                    expected: keep,
                }));
            }
        }
        // The kernel keeps the ambient set within permitted and inheritable, both now exactly
        // `keep`: only the kept capabilities need asking about.
        for number in keep.numbers() {
            if !read(kernel.ambient_has(number), Call::AmbientIsSet(number))? {
                return Err(Error::Verify(Mismatch::NotAmbient(number)));
            }
        }
        if plan.bounding_dropped && plan.bounding_unread {
            let end = applied.past_last_capability.unwrap_or(64);
            if end < 64 && kernel.bounding_has(end) != Err(Errno::EINVAL) {
                return Err(Error::Verify(Mismatch::CapabilitiesEnd(end)));
            }
        } else if plan.bounding_dropped {
            let found = read(kernel.bounding(), Call::BoundingRead)?;
            if !found.is_subset_of(keep) {
                return Err(Error::Verify(Mismatch::Capabilities {
                    set: "bounding",
                    found,
                    expected: keep,
                }));
            }
        }
    }
    if !target.uid.is_root() && !keep.contains(Cap::SETUID) {
        if kernel.change(&Step::SetUid(Uid::ROOT)).is_ok() {
            return Err(Error::Verify(Mismatch::RootRegained { uid: true }));
        }
        if target.gid != Gid(0)
            && !keep.contains(Cap::SETGID)
            && kernel.change(&Step::SetGid(Gid(0))).is_ok()
        {
            return Err(Error::Verify(Mismatch::RootRegained { uid: false }));
        }
    }
    Ok(())
}

/// The real kernel, through the syscall layer.
pub struct LinuxKernel {
    /// A descriptor sudrop opened itself (the init's signalfd, close-on-exec): not one the
    /// command inherits.
    pub own_descriptor: Option<i32>,
}

impl Kernel for LinuxKernel {
    fn resuid(&self) -> Result<[Uid; 3], Errno> {
        sys::cred::resuid()
    }

    fn resgid(&self) -> Result<[Gid; 3], Errno> {
        sys::cred::resgid()
    }

    fn groups(&self) -> Result<Vec<Gid>, Errno> {
        sys::cred::groups()
    }

    fn capabilities(&self) -> Result<CapSets, Errno> {
        sys::caps::get()
    }

    fn bounding(&self) -> Result<CapMask, Errno> {
        sys::caps::bounding()
    }

    fn ambient_has(&self, number: u8) -> Result<bool, Errno> {
        sys::caps::ambient_has(number)
    }

    fn bounding_has(&self, number: u8) -> Result<bool, Errno> {
        sys::caps::bounding_has(number)
    }

    fn terminal_reachable(&self) -> bool {
        // A terminal on any descriptor is in reach: the command can make it its controlling
        // terminal (setsid, TIOCSCTTY) when no session has it, and then type into it.
        let standard = sys::io::standard_descriptors();
        standard.terminal
            || sys::io::has_controlling_terminal() != Some(false)
            || sys::io::any_high_descriptor_is_a_terminal(standard.open, self.own_descriptor)
                != Some(false)
    }

    fn stdio(&self) -> [Option<FileFacts>; 3] {
        [0, 1, 2].map(|fd| sys::io::file_facts(fd).ok())
    }

    fn change(&mut self, step: &Step) -> Result<(), Errno> {
        match step {
            Step::SetLimit(limit) => {
                sys::process::set_limit(limit.resource, limit.soft, limit.hard)
            }
            Step::SetUmask(mode) => {
                sys::process::set_umask(*mode);
                Ok(())
            }
            Step::DropBounding(number) => sys::caps::drop_bounding(*number),
            Step::BlockTerminalInjection => match sys::seccomp::block_terminal_injection() {
                // A kernel built without seccomp filters: say so, and go on.
                Err(Errno::EINVAL) => {
                    crate::log::error(format_args!(
                        "warning: this kernel has no seccomp filters; TIOCSTI is not blocked"
                    ));
                    Ok(())
                }
                result => result,
            },
            Step::HandOver { fd, gid, mode } => sys::io::set_group_and_mode(*fd, gid.0, *mode),
            Step::KeepCaps(on) => sys::caps::set_keepcaps(*on),
            Step::SetGroups(groups) => sys::cred::set_groups(groups),
            Step::SetGid(gid) => sys::cred::set_gid(*gid),
            Step::SetUid(uid) => sys::cred::set_uid(*uid),
            Step::SetCapabilities(sets) => sys::caps::set(*sets),
            Step::RaiseAmbient(number) => sys::caps::raise_ambient(*number),
            Step::NoNewPrivs => sys::caps::set_no_new_privs(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Notice, Request, plan};
    use crate::resolve::Target;

    /// The five capability sets of a thread, as the model keeps them.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    struct CapState {
        effective: CapMask,
        permitted: CapMask,
        inheritable: CapMask,
        ambient: CapMask,
        bounding: CapMask,
    }

    const SETUID: u64 = 1 << 7;
    const SETGID: u64 = 1 << 6;
    const SETPCAP: u64 = 1 << 8;
    const NET_BIND: u64 = 1 << 10;
    const SYS_ADMIN: u64 = 1 << 21;
    const CHOWN_AND_FOWNER: u64 = 1 | 1 << 3;
    /// The 41 capabilities of the model's kernel, the last one numbered 40.
    const FULL: u64 = (1 << 41) - 1;
    const LAST_CAP: u8 = 40;
    /// What Docker leaves a container's root: 14 capabilities.
    const DOCKER: u64 = (1 << 0)
        | (1 << 1)
        | (1 << 3)
        | (1 << 4)
        | (1 << 5)
        | (1 << 6)
        | (1 << 7)
        | (1 << 8)
        | (1 << 10)
        | (1 << 13)
        | (1 << 18)
        | (1 << 27)
        | (1 << 29)
        | (1 << 31);

    /// The kernel's credential rules (capabilities(7), setresuid(2)), recording each change
    /// as the call a user would read about.
    #[derive(Clone, Debug)]
    struct Model {
        uids: [Uid; 3],
        gids: [Gid; 3],
        groups: Vec<Gid>,
        caps: CapState,
        keepcaps: bool,
        no_new_privs: bool,
        calls: Vec<String>,
        /// Makes setresuid report success without doing anything.
        lying_setuid: bool,
        /// Makes setgroups fail, as in a user namespace with setgroups "deny".
        setgroups_denied: bool,
        /// Makes dropping this capability from the bounding set fail (an LSM's veto).
        refused_drop: Option<u8>,
        /// A terminal is in reach of the command.
        terminal: bool,
        stdio: [Option<FileFacts>; 3],
        /// Makes dropping this capability answer EINVAL, as past the last one, though it is
        /// there.
        early_einval: Option<u8>,
    }

    impl Model {
        fn root() -> Model {
            let full = CapMask(FULL);
            Model {
                uids: [Uid(0); 3],
                gids: [Gid(0); 3],
                groups: vec![Gid(0)],
                caps: CapState {
                    effective: full,
                    permitted: full,
                    inheritable: CapMask(0),
                    ambient: CapMask(0),
                    bounding: full,
                },
                keepcaps: false,
                no_new_privs: false,
                calls: vec![],
                lying_setuid: false,
                setgroups_denied: false,
                refused_drop: None,
                terminal: true,
                stdio: [None; 3],
                early_einval: None,
            }
        }

        fn user(uid: u32, gid: u32) -> Model {
            let mut model = Model::root();
            model.uids = [Uid(uid); 3];
            model.gids = [Gid(gid); 3];
            model.groups = vec![];
            model.caps = CapState {
                bounding: CapMask(FULL),
                ..CapState::default()
            };
            model
        }

        fn has(&self, cap: u64) -> bool {
            self.caps.effective.0 & cap == cap
        }

        fn set_uid(&mut self, uid: Uid) -> Result<(), Errno> {
            if !self.has(SETUID) && !self.uids.contains(&uid) {
                return Err(Errno::EPERM);
            }
            if self.lying_setuid {
                return Ok(());
            }
            let had_root = self.uids.contains(&Uid::ROOT);
            let old_euid = self.uids[1];
            self.uids = [uid; 3];
            if had_root && !uid.is_root() {
                if !self.keepcaps {
                    self.caps.permitted = CapMask::EMPTY;
                    self.caps.effective = CapMask::EMPTY;
                }
                self.caps.ambient = CapMask::EMPTY;
            }
            if old_euid.is_root() && !uid.is_root() {
                self.caps.effective = CapMask::EMPTY;
            }
            Ok(())
        }

        fn set_capabilities(&mut self, sets: CapSets) -> Result<(), Errno> {
            // capset(2): permitted may only shrink, inheritable stays within the old
            // inheritable and permitted sets, effective within the new permitted set.
            let inheritable_allowed = self.caps.inheritable.union(self.caps.permitted);
            if !sets.permitted.is_subset_of(self.caps.permitted)
                || !sets.inheritable.is_subset_of(inheritable_allowed)
                || !sets.effective.is_subset_of(sets.permitted)
            {
                return Err(Errno::EPERM);
            }
            self.caps.effective = sets.effective;
            self.caps.permitted = sets.permitted;
            self.caps.inheritable = sets.inheritable;
            // What is no longer both permitted and inheritable leaves the ambient set.
            self.caps.ambient =
                CapMask(self.caps.ambient.0 & sets.permitted.0 & sets.inheritable.0);
            Ok(())
        }

        fn apply(&mut self, step: &Step) -> Result<(), Errno> {
            let refused = |allowed: bool| if allowed { Ok(()) } else { Err(Errno::EPERM) };
            match step {
                Step::SetLimit(_) | Step::SetUmask(_) => Ok(()),
                Step::DropBounding(number) => {
                    refused(self.has(SETPCAP) && self.refused_drop != Some(*number))?;
                    if *number > LAST_CAP || self.early_einval == Some(*number) {
                        return Err(Errno::EINVAL);
                    }
                    self.caps.bounding = self.caps.bounding.minus(CapMask(1 << number));
                    Ok(())
                }
                // seccomp(2): a filter needs no_new_privs or CAP_SYS_ADMIN.
                Step::BlockTerminalInjection => refused(self.no_new_privs || self.has(SYS_ADMIN)),
                // chown(2) of the group needs CAP_CHOWN, chmod(2) of root's pipe CAP_FOWNER.
                Step::HandOver { .. } => refused(self.has(CHOWN_AND_FOWNER)),
                Step::KeepCaps(on) => {
                    self.keepcaps = *on;
                    Ok(())
                }
                Step::SetGroups(groups) => {
                    refused(self.has(SETGID) && !self.setgroups_denied)?;
                    self.groups = groups.clone();
                    Ok(())
                }
                Step::SetGid(gid) => {
                    refused(self.has(SETGID) || self.gids.contains(gid))?;
                    self.gids = [*gid; 3];
                    Ok(())
                }
                Step::SetUid(uid) => self.set_uid(*uid),
                Step::SetCapabilities(sets) => self.set_capabilities(*sets),
                Step::RaiseAmbient(number) => {
                    refused(
                        self.caps.permitted.has(*number) && self.caps.inheritable.has(*number),
                    )?;
                    self.caps.ambient = self.caps.ambient.union(CapMask(1 << number));
                    Ok(())
                }
                Step::NoNewPrivs => {
                    self.no_new_privs = true;
                    Ok(())
                }
            }
        }
    }

    impl Kernel for Model {
        fn resuid(&self) -> Result<[Uid; 3], Errno> {
            Ok(self.uids)
        }
        fn resgid(&self) -> Result<[Gid; 3], Errno> {
            Ok(self.gids)
        }
        fn groups(&self) -> Result<Vec<Gid>, Errno> {
            Ok(self.groups.clone())
        }
        fn capabilities(&self) -> Result<CapSets, Errno> {
            Ok(CapSets {
                effective: self.caps.effective,
                permitted: self.caps.permitted,
                inheritable: self.caps.inheritable,
            })
        }
        fn bounding(&self) -> Result<CapMask, Errno> {
            Ok(self.caps.bounding)
        }
        fn ambient_has(&self, number: u8) -> Result<bool, Errno> {
            Ok(self.caps.ambient.has(number))
        }
        fn bounding_has(&self, number: u8) -> Result<bool, Errno> {
            if number > LAST_CAP {
                return Err(Errno::EINVAL);
            }
            Ok(self.caps.bounding.has(number))
        }
        fn terminal_reachable(&self) -> bool {
            self.terminal
        }
        fn stdio(&self) -> [Option<FileFacts>; 3] {
            self.stdio
        }
        fn change(&mut self, step: &Step) -> Result<(), Errno> {
            let result = self.apply(step);
            let call = step.call();
            self.calls.push(match result {
                Ok(()) => call.to_string(),
                Err(errno) => format!("{call} {errno}"),
            });
            result
        }
    }

    fn target(uid: u32, gid: u32, groups: &[u32]) -> Target {
        Target {
            uid: Uid(uid),
            gid: Gid(gid),
            groups: groups.iter().map(|&g| Gid(g)).collect(),
            home: b"/".to_vec(),
            name: None,
        }
    }

    const QUIET: Log = Log {
        verbose: false,
        warnings: false,
    };

    /// The whole switch against the model, as `lib::run` makes it: observe, plan, apply,
    /// verify. The plan comes back too (when there was one).
    fn switch(model: &mut Model, request: &Request<'_>, target: &Target) -> Result<Plan, Error> {
        let ids = ids(model)?;
        let before = observe(model, ids, true)?;
        let plan = plan(request, &before, target.clone())?;
        let applied = apply(model, &plan, QUIET)?;
        verify(model, &plan, applied)?;
        Ok(plan)
    }

    fn run(
        model: &mut Model,
        target: &Target,
        keep: Option<u64>,
        no_new_privs: bool,
    ) -> Result<Plan, Error> {
        let request = Request {
            keep: keep.map(CapMask),
            no_new_privs,
            allow_new_privs: !no_new_privs,
            command_found: true,
            ..Request::default()
        };
        // No terminal in reach: these tests are not about the filter.
        model.terminal = false;
        switch(model, &request, target)
    }

    /// The calls that change something, without the bounding drops.
    fn changes(model: &Model) -> Vec<&str> {
        model
            .calls
            .iter()
            .map(String::as_str)
            .filter(|c| !c.starts_with("prctl(PR_CAPBSET_DROP"))
            .collect()
    }

    #[test]
    fn root_to_user_drops_bounding_first_then_groups_gid_uid_then_every_set() {
        let mut model = Model::root();
        run(&mut model, &target(1000, 1000, &[29, 50]), None, false).unwrap();
        let first_id_call = model
            .calls
            .iter()
            .position(|c| c.starts_with("setgroups"))
            .unwrap();
        // Root as started has every capability: the set is not read, and the drops go on
        // until the kernel's EINVAL past its last capability.
        let expected_drops: Vec<String> = (0..41)
            .map(|n| format!("prctl(PR_CAPBSET_DROP, {n})"))
            .chain(["prctl(PR_CAPBSET_DROP, 41) EINVAL: Invalid argument".to_string()])
            .collect();
        assert_eq!(model.calls[..first_id_call], expected_drops);
        assert_eq!(
            changes(&model),
            [
                "setgroups(29,50)",
                "setresgid(1000,1000,1000)",
                "setresuid(1000,1000,1000)",
                "capset",
                "setresuid(0,0,0) EPERM: Operation not permitted",
                "setresgid(0,0,0) EPERM: Operation not permitted"
            ]
        );
        assert_eq!(model.caps, CapState::default());
        assert_eq!((model.uids, model.gids), ([Uid(1000); 3], [Gid(1000); 3]));
    }

    #[test]
    fn under_dockers_capabilities_only_those_fourteen_are_dropped_and_none_is_left() {
        let mut model = Model::root();
        model.caps.effective = CapMask(DOCKER);
        model.caps.permitted = CapMask(DOCKER);
        model.caps.bounding = CapMask(DOCKER);
        run(&mut model, &target(1000, 1000, &[]), None, true).unwrap();
        let drops = model
            .calls
            .iter()
            .filter(|c| c.starts_with("prctl(PR_CAPBSET_DROP"))
            .count();
        assert_eq!(drops, 14);
        assert_eq!(model.caps.bounding, CapMask::EMPTY);
    }

    #[test]
    fn a_bounding_set_left_fuller_than_planned_is_caught() {
        // Read first (Docker's 14), the verification reads the set back: a capability left
        // in it (here, one the plan was made to forget) fails the switch.
        let mut model = Model::root();
        model.caps.effective = CapMask(DOCKER);
        model.caps.permitted = CapMask(DOCKER);
        model.caps.bounding = CapMask(DOCKER);
        let ids = ids(&model).unwrap();
        let before = observe(&model, ids, true).unwrap();
        let request = Request {
            command_found: true,
            ..Request::default()
        };
        let plan = plan(&request, &before, target(1000, 1000, &[])).unwrap();
        let mut fewer = plan.clone();
        fewer.steps.retain(|step| *step != Step::DropBounding(10));
        let applied = apply(&mut model, &fewer, QUIET).unwrap();
        let error = verify(&mut model, &fewer, applied).unwrap_err();
        assert_eq!(
            error.to_string(),
            "after the switch: bounding capabilities are CAP_NET_BIND_SERVICE, expected none"
        );
    }

    #[test]
    fn an_early_end_of_the_capabilities_is_caught_when_dropping_unread() {
        // Dropped unread, the kernel's EINVAL ends the drops; the verification asks again
        // for that number, and a capability there fails the switch.
        let mut model = Model::root();
        model.early_einval = Some(21);
        let error = run(&mut model, &target(1000, 1000, &[]), None, false).unwrap_err();
        assert_eq!(
            error.to_string(),
            "after the switch: the bounding set answers for capability 21, past the kernel's last"
        );
    }

    #[test]
    fn inherited_inheritable_set_is_cleared_for_a_user() {
        let mut model = Model::root();
        model.caps.inheritable = CapMask(NET_BIND | SETUID);
        run(&mut model, &target(1000, 1000, &[]), None, false).unwrap();
        assert_eq!(model.caps.inheritable, CapMask::EMPTY);
    }

    #[test]
    fn keep_cap_survives_the_uid_change_in_every_set() {
        let mut model = Model::root();
        run(&mut model, &target(65534, 65534, &[]), Some(NET_BIND), true).unwrap();
        let keep = CapMask(NET_BIND);
        let expected = CapState {
            effective: keep,
            permitted: keep,
            inheritable: keep,
            ambient: keep,
            bounding: keep,
        };
        assert_eq!(model.caps, expected);
        let at = |call: &str| model.calls.iter().position(|c| c == call).unwrap();
        let keepcaps_on = at("prctl(PR_SET_KEEPCAPS, 1)");
        let setuid = at("setresuid(65534,65534,65534)");
        let keepcaps_off = at("prctl(PR_SET_KEEPCAPS, 0)");
        assert!(keepcaps_on < setuid && setuid < keepcaps_off);
        assert!(model.no_new_privs && !model.keepcaps);
    }

    #[test]
    fn without_setpcap_the_bounding_set_stays_and_the_switch_goes_on() {
        let mut model = Model::root();
        model.caps.effective = model.caps.effective.minus(CapMask(SETPCAP));
        model.caps.permitted = model.caps.permitted.minus(CapMask(SETPCAP));
        let plan = run(&mut model, &target(1000, 1000, &[]), None, false).unwrap();
        assert!(
            !model
                .calls
                .iter()
                .any(|c| c.starts_with("prctl(PR_CAPBSET"))
        );
        assert_eq!(model.caps.bounding, CapMask(FULL));
        assert_eq!(model.caps.permitted, CapMask::EMPTY);
        // Without no_new_privs that is a warning.
        let stays = plan
            .notices
            .iter()
            .find(|notice| matches!(notice, Notice::BoundingStays { .. }))
            .unwrap();
        assert!(stays.is_warning());
    }

    #[test]
    fn root_target_keeps_its_capabilities_unless_told() {
        let mut model = Model::root();
        run(&mut model, &target(0, 0, &[]), None, false).unwrap();
        assert_eq!(model.caps.effective, CapMask(FULL));
        assert_eq!(changes(&model), ["setgroups()"]);

        let mut model = Model::root();
        run(&mut model, &target(0, 0, &[]), Some(NET_BIND), false).unwrap();
        assert_eq!(
            (model.caps.effective, model.caps.bounding),
            (CapMask(NET_BIND), CapMask(NET_BIND))
        );
    }

    #[test]
    fn non_root_caller_already_the_target_execs_without_switching() {
        let mut model = Model::user(1000, 1000);
        run(&mut model, &target(1000, 1000, &[]), None, false).unwrap();
        assert_eq!(
            changes(&model),
            [
                "capset",
                "setresuid(0,0,0) EPERM: Operation not permitted",
                "setresgid(0,0,0) EPERM: Operation not permitted"
            ]
        );
        // Runtime-chosen supplementary groups are kept when there is no CAP_SETGID.
        let mut model = Model::user(1000, 1000);
        model.groups = vec![Gid(2000)];
        run(&mut model, &target(1000, 1000, &[29]), None, false).unwrap();
        assert_eq!(model.groups, [Gid(2000)]);
    }

    #[test]
    fn non_root_caller_asking_for_another_identity_fails_before_any_change() {
        for wanted in [
            target(0, 0, &[]),
            target(1001, 1000, &[]),
            target(1000, 0, &[]),
        ] {
            let mut model = Model::user(1000, 1000);
            let error = run(&mut model, &wanted, None, false).unwrap_err();
            assert!(matches!(error, Error::NeedPrivilege { .. }), "{error}");
            assert!(model.calls.is_empty(), "{:?}", model.calls);
        }
    }

    #[test]
    fn keeping_a_capability_sudrop_lacks_fails_before_any_change() {
        let mut model = Model::root();
        model.caps.permitted = CapMask(FULL & !NET_BIND);
        model.caps.effective = model.caps.permitted;
        let request = Request {
            keep: Some(CapMask(NET_BIND)),
            limits: &[crate::limits::parse_ulimit("core=0").unwrap()],
            umask: Some(0o27),
            command_found: true,
            ..Request::default()
        };
        let error = switch(&mut model, &request, &target(1000, 1000, &[])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot keep CAP_NET_BIND_SERVICE: sudrop was started without it"
        );
        // Not even the limit and the umask, which come first when the switch goes ahead.
        assert!(model.calls.is_empty(), "{:?}", model.calls);
    }

    #[test]
    fn a_failed_setgroups_stops_the_switch() {
        let mut model = Model::root();
        model.setgroups_denied = true;
        let error = run(&mut model, &target(1000, 1000, &[5]), None, false).unwrap_err();
        assert_eq!(error.to_string(), "setgroups(5): Operation not permitted");
        assert!(!model.calls.iter().any(|c| c.starts_with("setres")));
    }

    #[test]
    fn matching_groups_skip_setgroups() {
        // Lets a user namespace with setgroups "deny" work when nothing would change.
        let mut model = Model::root();
        model.setgroups_denied = true;
        model.groups = vec![Gid(5)];
        run(&mut model, &target(1000, 1000, &[5]), None, false).unwrap();
    }

    #[test]
    fn a_refused_bounding_drop_stops_the_switch_before_any_id_change() {
        let mut model = Model::root();
        model.refused_drop = Some(21);
        let error = run(&mut model, &target(1000, 1000, &[]), None, false).unwrap_err();
        // The words a user reads, from the model as from the real kernel.
        assert_eq!(
            error.to_string(),
            "prctl(PR_CAPBSET_DROP, 21): Operation not permitted"
        );
        assert_eq!(model.uids, [Uid(0); 3]);
        assert!(!model.calls.iter().any(|c| c.starts_with("set")));
    }

    #[test]
    fn ambient_capabilities_from_the_launcher_go_with_the_capset() {
        // An ambient capability stays only while permitted and inheritable; the one capset
        // to the empty sets removes it, with no ambient call at all.
        let mut model = Model::user(1000, 1000);
        let bind = CapMask(NET_BIND);
        model.caps.permitted = bind;
        model.caps.inheritable = bind;
        model.caps.ambient = bind;
        run(&mut model, &target(1000, 1000, &[]), None, false).unwrap();
        assert_eq!(model.caps.ambient, CapMask::EMPTY);
        assert!(!model.calls.iter().any(|c| c.contains("AMBIENT")));
    }

    fn run_at_terminal(model: &mut Model, target: &Target, no_new_privs: bool) -> Plan {
        let request = Request {
            allow_new_privs: !no_new_privs,
            command_found: true,
            ..Request::default()
        };
        switch(model, &request, target).unwrap()
    }

    #[test]
    fn the_terminal_filter_follows_no_new_privs_or_goes_in_while_sys_admin_lasts() {
        // The default for a user: no_new_privs, then the filter, last.
        let mut model = Model::root();
        run_at_terminal(&mut model, &target(1000, 1000, &[]), true);
        let calls = changes(&model);
        assert_eq!(
            calls[calls.len() - 4..],
            [
                "prctl(PR_SET_NO_NEW_PRIVS)",
                "prctl(PR_SET_SECCOMP)",
                "setresuid(0,0,0) EPERM: Operation not permitted",
                "setresgid(0,0,0) EPERM: Operation not permitted"
            ]
        );
        // --allow-new-privs: the filter goes in before the ids change, while CAP_SYS_ADMIN
        // is still there.
        let mut model = Model::root();
        run_at_terminal(&mut model, &target(1000, 1000, &[]), false);
        assert_eq!(
            changes(&model)[..2],
            ["prctl(PR_SET_SECCOMP)", "setgroups()"]
        );
        assert!(!model.no_new_privs);
        // Neither: no filter, and no failure (a warning, since a terminal is in reach).
        let mut model = Model::root();
        model.caps.effective = model.caps.effective.minus(CapMask(SYS_ADMIN));
        let plan = run_at_terminal(&mut model, &target(1000, 1000, &[]), false);
        assert!(!model.calls.iter().any(|c| c.contains("SECCOMP")));
        assert!(plan.notices.contains(&Notice::TerminalUnprotected));
        // No terminal in reach (a container without a tty): TIOCSTI cannot work, no filter.
        let mut model = Model::root();
        model.terminal = false;
        run_at_terminal(&mut model, &target(1000, 1000, &[]), true);
        assert!(model.no_new_privs);
        assert!(!model.calls.iter().any(|c| c.contains("SECCOMP")));
    }

    #[test]
    fn a_kernel_that_does_not_switch_is_caught() {
        let mut model = Model::root();
        model.lying_setuid = true;
        let error = run(&mut model, &target(1000, 1000, &[]), None, false).unwrap_err();
        assert!(matches!(error, Error::Verify(_)), "{error}");
        assert!(
            error.to_string().starts_with("after the switch: uids"),
            "{error}"
        );
    }

    /// Root's stdout pipe, as runtimes hand it over.
    fn stdout_pipe() -> [Option<FileFacts>; 3] {
        let pipe = FileFacts {
            anonymous_pipe: true,
            owner: 0,
            device: 12,
            inode: 345,
            access: libc::O_WRONLY,
        };
        [None, Some(pipe), None]
    }

    #[test]
    fn the_stdio_hand_over_is_the_last_privileged_change_after_every_check() {
        let mut model = Model::root();
        model.stdio = stdout_pipe();
        let request = Request {
            limits: &[crate::limits::parse_ulimit("core=0").unwrap()],
            umask: Some(0o27),
            command_found: true,
            ..Request::default()
        };
        switch(&mut model, &request, &target(1000, 1000, &[])).unwrap();
        assert_eq!(
            changes(&model),
            [
                "setrlimit(core=0:0)",
                "umask(0027)",
                "fchown(1, -1, 1000) and fchmod",
                "setgroups()",
                "setresgid(1000,1000,1000)",
                "setresuid(1000,1000,1000)",
                "capset",
                "prctl(PR_SET_NO_NEW_PRIVS)",
                "prctl(PR_SET_SECCOMP)",
                "setresuid(0,0,0) EPERM: Operation not permitted",
                "setresgid(0,0,0) EPERM: Operation not permitted"
            ]
        );
        // Every bounding drop came before it.
        let hand = model.calls.iter().position(|c| c.starts_with("fchown"));
        let last_drop = model
            .calls
            .iter()
            .rposition(|c| c.starts_with("prctl(PR_CAPBSET_DROP"));
        assert!(last_drop < hand, "{:?}", model.calls);
    }

    #[test]
    fn nothing_is_handed_over_when_the_switch_is_refused_or_the_command_missing() {
        let target = target(1000, 1000, &[]);
        // A capability sudrop lacks, and a caller that may not switch.
        let mut lacking = Model::root();
        lacking.caps.permitted = CapMask(FULL & !NET_BIND);
        let mut unprivileged = Model::root();
        unprivileged.caps = CapState::default();
        unprivileged.uids = [Uid(5); 3];
        for (mut model, keep) in [(lacking, Some(CapMask(NET_BIND))), (unprivileged, None)] {
            model.stdio = stdout_pipe();
            let request = Request {
                keep,
                command_found: true,
                ..Request::default()
            };
            assert!(switch(&mut model, &request, &target).is_err());
            assert!(model.calls.is_empty(), "{:?}", model.calls);
        }
        // A command that cannot be found: the switch goes on, without the hand-over.
        let mut model = Model::root();
        model.stdio = stdout_pipe();
        switch(&mut model, &Request::default(), &target).unwrap();
        assert!(!model.calls.iter().any(|c| c.starts_with("fchown")));
    }

    #[test]
    fn only_root_owned_anonymous_pipes_are_handed_over_in_their_own_direction() {
        let pipe = |inode, access, anonymous_pipe, owner| {
            Some(FileFacts {
                anonymous_pipe,
                owner,
                device: 12,
                inode,
                access,
            })
        };
        let mut model = Model::root();
        // stdin a pipe (read end); stdout and stderr one pipe (2>&1); and then a named FIFO
        // and a pipe of another owner, which stay as they are.
        model.stdio = [
            pipe(1, libc::O_RDONLY, true, 0),
            pipe(2, libc::O_WRONLY, true, 0),
            pipe(2, libc::O_WRONLY, true, 0),
        ];
        let request = Request {
            command_found: true,
            ..Request::default()
        };
        let plan = switch(&mut model, &request, &target(1000, 1000, &[])).unwrap();
        let hands: Vec<&Step> = plan
            .steps
            .iter()
            .filter(|step| matches!(step, Step::HandOver { .. }))
            .collect();
        assert_eq!(
            hands,
            [
                &Step::HandOver {
                    fd: 0,
                    gid: Gid(1000),
                    mode: 0o640
                },
                &Step::HandOver {
                    fd: 1,
                    gid: Gid(1000),
                    mode: 0o620
                }
            ]
        );
        let mut model = Model::root();
        model.stdio = [
            pipe(1, libc::O_RDONLY, false, 0),
            pipe(2, libc::O_WRONLY, true, 1000),
            None,
        ];
        let plan = switch(&mut model, &request, &target(1000, 1000, &[])).unwrap();
        assert!(
            !plan
                .steps
                .iter()
                .any(|step| matches!(step, Step::HandOver { .. }))
        );
    }

    #[test]
    fn the_if_privileged_fallback_is_never_root_and_still_drops_everything() {
        let request = Request {
            if_privileged: true,
            command_found: true,
            ..Request::default()
        };
        // Root without CAP_SETUID and CAP_SETGID: refused, nothing changed.
        let mut capless_root = Model::root();
        capless_root.caps.effective = CapMask(FULL & !(SETUID | SETGID));
        capless_root.caps.permitted = capless_root.caps.effective;
        let error = switch(&mut capless_root, &request, &target(1000, 1000, &[])).unwrap_err();
        assert!(
            matches!(
                error,
                Error::RootFallback {
                    root_user: true,
                    ..
                }
            ),
            "{error}"
        );
        assert!(capless_root.calls.is_empty());
        // A caller in group 0 for a target outside it: refused; for one in it: taken.
        let mut group_0 = Model::user(1_000_650_000, 0);
        let error = switch(&mut group_0, &request, &target(1000, 1000, &[])).unwrap_err();
        assert!(
            matches!(
                error,
                Error::RootFallback {
                    root_user: false,
                    ..
                }
            ),
            "{error}"
        );
        let mut group_0 = Model::user(1_000_650_000, 0);
        let plan = switch(&mut group_0, &request, &target(1000, 0, &[])).unwrap();
        assert!(plan.unswitched);
        // A non-root caller holding a capability in every set: the fallback empties them and
        // sets no_new_privs, as the switch does.
        let mut holder = Model::user(1_000_650_000, 3000);
        let bind = CapMask(NET_BIND);
        holder.caps.permitted = bind;
        holder.caps.effective = bind;
        holder.caps.inheritable = bind;
        holder.caps.ambient = bind;
        let plan = switch(&mut holder, &request, &target(1000, 1000, &[])).unwrap();
        assert!(plan.unswitched);
        assert_eq!(
            (plan.target.uid, plan.target.gid),
            (Uid(1_000_650_000), Gid(3000))
        );
        assert_eq!(holder.caps.effective, CapMask::EMPTY);
        assert_eq!(holder.caps.ambient, CapMask::EMPTY);
        assert!(holder.no_new_privs);
    }
}
