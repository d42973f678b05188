//! The privilege switch: supplementary groups, gid, uid and capabilities, failing closed.
//!
//! The order is forced by the kernel:
//! 1. Shrink the capability bounding set first: `PR_CAPBSET_DROP` needs CAP_SETPCAP in the
//!    effective set, and the uid change below empties it.
//! 2. `setgroups`, then `setresgid`, then `setresuid`: each of the first two needs CAP_SETGID,
//!    which the uid change takes away. (To keep capabilities, `PR_SET_KEEPCAPS` is set first
//!    so that the permitted set survives the uid change.)
//! 3. Set the effective, permitted and inheritable sets to what is kept, then the ambient set:
//!    a capability may only be ambient while it is permitted and inheritable. The kernel
//!    clears permitted, effective and ambient on a uid change from root, but never the
//!    inheritable set, so that one must be cleared explicitly.
//! 4. Verify the result from the kernel's own answers, and that root cannot be regained.
//!
//! All calls go through [`Kernel`], so the order and the decisions are unit-tested with a
//! model of the kernel's rules; [`LinuxKernel`] is the real thing.

use crate::capability::CapMask;
use crate::error::Error;
use crate::id::{Gid, Uid};
use crate::resolve::Target;
use caps::{CapSet, Capability};
use nix::errno::Errno;
use std::fmt;

/// The five capability sets of the calling thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapState {
    pub effective: CapMask,
    pub permitted: CapMask,
    pub inheritable: CapMask,
    pub ambient: CapMask,
    pub bounding: CapMask,
}

/// The calls the switch makes. Each returns the error sudrop reports.
pub trait Kernel {
    fn resuid(&self) -> Result<[Uid; 3], Error>;
    fn resgid(&self) -> Result<[Gid; 3], Error>;
    fn groups(&self) -> Result<Vec<Gid>, Error>;
    fn capabilities(&self) -> Result<CapState, Error>;
    fn drop_bounding(&mut self, number: u8) -> Result<(), Error>;
    fn set_keepcaps(&mut self, on: bool) -> Result<(), Error>;
    fn set_groups(&mut self, groups: &[Gid]) -> Result<(), Error>;
    /// Sets the real, effective and saved gid.
    fn set_gid(&mut self, gid: Gid) -> Result<(), Error>;
    /// Sets the real, effective and saved uid.
    fn set_uid(&mut self, uid: Uid) -> Result<(), Error>;
    /// Sets the effective, permitted and inheritable sets to `mask`.
    fn set_capabilities(&mut self, mask: CapMask) -> Result<(), Error>;
    /// Makes the ambient set exactly `mask`.
    fn set_ambient(&mut self, mask: CapMask) -> Result<(), Error>;
    fn set_no_new_privs(&mut self) -> Result<(), Error>;
}

/// What the switch is asked to do.
pub struct Request<'a> {
    pub target: &'a Target,
    /// `--keep-cap`: `None` when not given.
    pub keep: Option<CapMask>,
    pub no_new_privs: bool,
}

/// Says what sudrop does, on stderr, under `--verbose`.
#[derive(Clone, Copy)]
pub struct Log {
    pub verbose: bool,
}

impl Log {
    pub fn say(self, message: fmt::Arguments<'_>) {
        if self.verbose {
            eprintln!("sudrop: {message}");
        }
    }
}

fn same_set(a: &[Gid], b: &[Gid]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort_unstable();
    a.dedup();
    b.sort_unstable();
    b.dedup();
    a == b
}

fn ids_text(uid: Uid, gid: Gid) -> String {
    format!("uid {uid} gid {gid}")
}

fn list(groups: &[Gid]) -> String {
    groups
        .iter()
        .map(Gid::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Switches the calling process to `request.target`. On error the process may be half-way;
/// the caller must then exit without running anything.
pub fn switch(kernel: &mut impl Kernel, request: &Request<'_>, log: Log) -> Result<(), Error> {
    let target = request.target;
    let before = kernel.capabilities()?;
    let uids = kernel.resuid()?;
    let gids = kernel.resgid()?;
    let groups = kernel.groups()?;

    // Capabilities are narrowed for every non-root target, and for root when asked to.
    let restrict = request.keep.is_some() || !target.uid.is_root();
    let keep = request.keep.unwrap_or(CapMask::EMPTY);
    if !keep.is_subset_of(before.permitted) {
        return Err(Error::Capability(format!(
            "cannot keep {}: sudrop was started without it",
            keep.minus(before.permitted)
        )));
    }

    let uid_changes = uids != [target.uid; 3];
    let gid_changes = gids != [target.gid; 3];
    let may_set_ids = before.effective.contains(Capability::CAP_SETUID)
        && before.effective.contains(Capability::CAP_SETGID);
    if (uid_changes || gid_changes) && !may_set_ids {
        return Err(Error::NeedPrivilege {
            from: ids_text(uids[0], gids[0]),
            to: ids_text(target.uid, target.gid),
        });
    }
    let groups_differ = !same_set(&groups, &target.groups);
    let set_groups = groups_differ && before.effective.contains(Capability::CAP_SETGID);
    if groups_differ && !set_groups {
        // Only reachable with unchanged ids and no CAP_SETGID: a runtime already started us
        // as the target (Kubernetes runAsUser) and chose the supplementary groups itself.
        log.say(format_args!(
            "already uid {} gid {}; keeping the supplementary groups the runtime set ({}): no CAP_SETGID",
            target.uid,
            target.gid,
            list(&groups)
        ));
    }
    if !uid_changes && !gid_changes && !set_groups {
        log.say(format_args!(
            "already running as the target: no identity change"
        ));
    }

    let mut bounding_kept = false;
    if restrict {
        let to_drop = before.bounding.minus(keep);
        if to_drop == CapMask::EMPTY {
        } else if before.effective.contains(Capability::CAP_SETPCAP) {
            log.say(format_args!("bounding set: dropping all but {keep}"));
            for number in (0..64).filter(|&n| to_drop.has(n)) {
                kernel.drop_bounding(number)?;
            }
        } else {
            bounding_kept = true;
            log.say(format_args!(
                "bounding set left as it is ({}): no CAP_SETPCAP to shrink it",
                before.bounding
            ));
        }
    }

    let keepcaps = restrict && uid_changes && keep != CapMask::EMPTY;
    if keepcaps {
        kernel.set_keepcaps(true)?;
    }
    if set_groups {
        log.say(format_args!("setgroups({})", list(&target.groups)));
        kernel.set_groups(&target.groups)?;
    }
    if gid_changes {
        log.say(format_args!("setresgid({0},{0},{0})", target.gid));
        kernel.set_gid(target.gid)?;
    }
    if uid_changes {
        log.say(format_args!("setresuid({0},{0},{0})", target.uid));
        kernel.set_uid(target.uid)?;
    }
    if restrict {
        log.say(format_args!(
            "capabilities: effective, permitted, inheritable and ambient = {keep}"
        ));
        kernel.set_capabilities(keep)?;
        kernel.set_ambient(keep)?;
    }
    if keepcaps {
        kernel.set_keepcaps(false)?;
    }
    if request.no_new_privs {
        log.say(format_args!("prctl(PR_SET_NO_NEW_PRIVS)"));
        kernel.set_no_new_privs()?;
    }

    verify(kernel, request, restrict, bounding_kept, set_groups)
}

/// Checks the switch against the kernel's own answers.
fn verify(
    kernel: &mut impl Kernel,
    request: &Request<'_>,
    restrict: bool,
    bounding_kept: bool,
    groups_were_set: bool,
) -> Result<(), Error> {
    let target = request.target;
    let keep = request.keep.unwrap_or(CapMask::EMPTY);
    let uids = kernel.resuid()?;
    let gids = kernel.resgid()?;
    if uids != [target.uid; 3] || gids != [target.gid; 3] {
        return Err(Error::Verify(format!(
            "after the switch: uids {uids:?} gids {gids:?}, expected {} and {}",
            target.uid, target.gid
        )));
    }
    let groups = kernel.groups()?;
    if groups_were_set && !same_set(&groups, &target.groups) {
        return Err(Error::Verify(format!(
            "after the switch: supplementary groups {}, expected {}",
            list(&groups),
            list(&target.groups)
        )));
    }
    if restrict {
        let caps = kernel.capabilities()?;
        let sets = [
            ("effective", caps.effective),
            ("permitted", caps.permitted),
            ("inheritable", caps.inheritable),
            ("ambient", caps.ambient),
        ];
        for (name, set) in sets {
            if set != keep {
                return Err(Error::Verify(format!(
                    "after the switch: {name} capabilities are {set}, expected {keep}"
                )));
            }
        }
        if !bounding_kept && !caps.bounding.is_subset_of(keep) {
            return Err(Error::Verify(format!(
                "after the switch: bounding set is {}",
                caps.bounding
            )));
        }
    }
    if !target.uid.is_root() && !keep.contains(Capability::CAP_SETUID) {
        if kernel.set_uid(Uid::ROOT).is_ok() {
            return Err(Error::Verify(
                "after the switch: setresuid(0,0,0) succeeded".into(),
            ));
        }
        if target.gid != Gid(0)
            && !keep.contains(Capability::CAP_SETGID)
            && kernel.set_gid(Gid(0)).is_ok()
        {
            return Err(Error::Verify(
                "after the switch: setresgid(0,0,0) succeeded".into(),
            ));
        }
    }
    Ok(())
}

/// The real kernel.
pub struct LinuxKernel;

fn caps_error(call: &str) -> impl FnOnce(caps::errors::CapsError) -> Error + '_ {
    move |error| Error::Capability(format!("{call}: {error}"))
}

fn read_set(set: CapSet) -> Result<CapMask, Error> {
    let caps = caps::read(None, set).map_err(caps_error("capget"))?;
    Ok(caps
        .into_iter()
        .fold(CapMask::EMPTY, |mask, cap| mask.union(CapMask::of(cap))))
}

fn to_hash_set(mask: CapMask) -> caps::CapsHashSet {
    mask.named().collect()
}

impl Kernel for LinuxKernel {
    fn resuid(&self) -> Result<[Uid; 3], Error> {
        let ids = nix::unistd::getresuid().map_err(|e| Error::syscall("getresuid", e))?;
        Ok([ids.real, ids.effective, ids.saved].map(|id| Uid(id.as_raw())))
    }

    fn resgid(&self) -> Result<[Gid; 3], Error> {
        let ids = nix::unistd::getresgid().map_err(|e| Error::syscall("getresgid", e))?;
        Ok([ids.real, ids.effective, ids.saved].map(|id| Gid(id.as_raw())))
    }

    fn groups(&self) -> Result<Vec<Gid>, Error> {
        let groups = nix::unistd::getgroups().map_err(|e| Error::syscall("getgroups", e))?;
        Ok(groups.into_iter().map(|g| Gid(g.as_raw())).collect())
    }

    fn capabilities(&self) -> Result<CapState, Error> {
        // The bounding set is read by number, not through /proc and not limited to the
        // capabilities this build knows by name: the kernel answers EINVAL past its last one.
        let mut bounding = CapMask::EMPTY;
        for number in 0..64u8 {
            // SAFETY: PR_CAPBSET_READ takes one integer argument and touches no memory.
            let answer =
                unsafe { libc::prctl(libc::PR_CAPBSET_READ, libc::c_ulong::from(number), 0, 0, 0) };
            match answer {
                1 => bounding = bounding.union(CapMask(1 << number)),
                0 => {}
                _ if Errno::last() == Errno::EINVAL => break,
                _ => {
                    return Err(Error::syscall(
                        format!("prctl(PR_CAPBSET_READ, {number})"),
                        Errno::last(),
                    ));
                }
            }
        }
        Ok(CapState {
            effective: read_set(CapSet::Effective)?,
            permitted: read_set(CapSet::Permitted)?,
            inheritable: read_set(CapSet::Inheritable)?,
            ambient: read_set(CapSet::Ambient)?,
            bounding,
        })
    }

    fn drop_bounding(&mut self, number: u8) -> Result<(), Error> {
        // SAFETY: PR_CAPBSET_DROP takes one integer argument and touches no memory.
        let answer =
            unsafe { libc::prctl(libc::PR_CAPBSET_DROP, libc::c_ulong::from(number), 0, 0, 0) };
        if answer != 0 {
            return Err(Error::syscall(
                format!("prctl(PR_CAPBSET_DROP, {number})"),
                Errno::last(),
            ));
        }
        Ok(())
    }

    fn set_keepcaps(&mut self, on: bool) -> Result<(), Error> {
        nix::sys::prctl::set_keepcaps(on)
            .map_err(|e| Error::syscall(format!("prctl(PR_SET_KEEPCAPS, {})", u8::from(on)), e))
    }

    fn set_groups(&mut self, groups: &[Gid]) -> Result<(), Error> {
        let groups: Vec<_> = groups
            .iter()
            .map(|g| nix::unistd::Gid::from_raw(g.0))
            .collect();
        nix::unistd::setgroups(&groups).map_err(|e| {
            let list = groups
                .iter()
                .map(|g| g.to_string())
                .collect::<Vec<_>>()
                .join(",");
            Error::syscall(format!("setgroups({list})"), e)
        })
    }

    fn set_gid(&mut self, gid: Gid) -> Result<(), Error> {
        let id = nix::unistd::Gid::from_raw(gid.0);
        nix::unistd::setresgid(id, id, id)
            .map_err(|e| Error::syscall(format!("setresgid({gid},{gid},{gid})"), e))
    }

    fn set_uid(&mut self, uid: Uid) -> Result<(), Error> {
        let id = nix::unistd::Uid::from_raw(uid.0);
        nix::unistd::setresuid(id, id, id)
            .map_err(|e| Error::syscall(format!("setresuid({uid},{uid},{uid})"), e))
    }

    fn set_capabilities(&mut self, mask: CapMask) -> Result<(), Error> {
        // Effective first: it must stay a subset of permitted at every step.
        let set = to_hash_set(mask);
        caps::set(None, CapSet::Effective, &set).map_err(caps_error("capset(effective)"))?;
        caps::set(None, CapSet::Permitted, &set).map_err(caps_error("capset(permitted)"))?;
        caps::set(None, CapSet::Inheritable, &set).map_err(caps_error("capset(inheritable)"))
    }

    fn set_ambient(&mut self, mask: CapMask) -> Result<(), Error> {
        caps::clear(None, CapSet::Ambient)
            .map_err(caps_error("prctl(PR_CAP_AMBIENT_CLEAR_ALL)"))?;
        for cap in mask.named() {
            caps::raise(None, CapSet::Ambient, cap)
                .map_err(caps_error("prctl(PR_CAP_AMBIENT_RAISE)"))?;
        }
        Ok(())
    }

    fn set_no_new_privs(&mut self) -> Result<(), Error> {
        nix::sys::prctl::set_no_new_privs()
            .map_err(|e| Error::syscall("prctl(PR_SET_NO_NEW_PRIVS)", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETUID: u64 = 1 << 7;
    const SETGID: u64 = 1 << 6;
    const SETPCAP: u64 = 1 << 8;
    const NET_BIND: u64 = 1 << 10;
    const FULL: u64 = (1 << 41) - 1;

    /// The kernel's credential rules (capabilities(7), setresuid(2)), recording each call.
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
            self.caps.effective.0 & cap != 0
        }

        fn eperm(&mut self, call: String) -> Result<(), Error> {
            self.calls.push(format!("{call} EPERM"));
            Err(Error::syscall(call, Errno::EPERM))
        }
    }

    impl Kernel for Model {
        fn resuid(&self) -> Result<[Uid; 3], Error> {
            Ok(self.uids)
        }
        fn resgid(&self) -> Result<[Gid; 3], Error> {
            Ok(self.gids)
        }
        fn groups(&self) -> Result<Vec<Gid>, Error> {
            Ok(self.groups.clone())
        }
        fn capabilities(&self) -> Result<CapState, Error> {
            Ok(self.caps)
        }
        fn drop_bounding(&mut self, number: u8) -> Result<(), Error> {
            if !self.has(SETPCAP) {
                return self.eperm(format!("drop_bounding({number})"));
            }
            self.caps.bounding = self.caps.bounding.minus(CapMask(1 << number));
            self.calls.push(format!("drop_bounding({number})"));
            Ok(())
        }
        fn set_keepcaps(&mut self, on: bool) -> Result<(), Error> {
            self.keepcaps = on;
            self.calls.push(format!("keepcaps({on})"));
            Ok(())
        }
        fn set_groups(&mut self, groups: &[Gid]) -> Result<(), Error> {
            if !self.has(SETGID) || self.setgroups_denied {
                return self.eperm("setgroups".into());
            }
            self.groups = groups.to_vec();
            self.calls.push(format!("setgroups({})", list(groups)));
            Ok(())
        }
        fn set_gid(&mut self, gid: Gid) -> Result<(), Error> {
            if !self.has(SETGID) && !self.gids.contains(&gid) {
                return self.eperm(format!("setgid({gid})"));
            }
            self.gids = [gid; 3];
            self.calls.push(format!("setgid({gid})"));
            Ok(())
        }
        fn set_uid(&mut self, uid: Uid) -> Result<(), Error> {
            if !self.has(SETUID) && !self.uids.contains(&uid) {
                return self.eperm(format!("setuid({uid})"));
            }
            self.calls.push(format!("setuid({uid})"));
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
        fn set_capabilities(&mut self, mask: CapMask) -> Result<(), Error> {
            let inheritable_allowed = self.caps.inheritable.union(self.caps.permitted);
            if !mask.is_subset_of(self.caps.permitted) || !mask.is_subset_of(inheritable_allowed) {
                return self.eperm("capset".into());
            }
            self.caps.effective = mask;
            self.caps.permitted = mask;
            self.caps.inheritable = mask;
            self.calls.push(format!("capset({:#x})", mask.0));
            Ok(())
        }
        fn set_ambient(&mut self, mask: CapMask) -> Result<(), Error> {
            if !mask.is_subset_of(self.caps.permitted) || !mask.is_subset_of(self.caps.inheritable)
            {
                return self.eperm("ambient".into());
            }
            self.caps.ambient = mask;
            self.calls.push(format!("ambient({:#x})", mask.0));
            Ok(())
        }
        fn set_no_new_privs(&mut self) -> Result<(), Error> {
            self.no_new_privs = true;
            self.calls.push("no_new_privs".into());
            Ok(())
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

    const QUIET: Log = Log { verbose: false };

    fn run(
        model: &mut Model,
        target: &Target,
        keep: Option<u64>,
        no_new_privs: bool,
    ) -> Result<(), Error> {
        let request = Request {
            target,
            keep: keep.map(CapMask),
            no_new_privs,
        };
        switch(model, &request, QUIET)
    }

    /// The calls that change something, without the bounding drops and the regain probes.
    fn changes(model: &Model) -> Vec<&str> {
        model
            .calls
            .iter()
            .map(String::as_str)
            .filter(|c| !c.starts_with("drop_bounding"))
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
        assert_eq!(
            model.calls[..first_id_call].len(),
            41,
            "all 41 bounding drops come first"
        );
        assert!(
            model.calls[..first_id_call]
                .iter()
                .all(|c| c.starts_with("drop_bounding("))
        );
        assert_eq!(
            changes(&model),
            [
                "setgroups(29,50)",
                "setgid(1000)",
                "setuid(1000)",
                "capset(0x0)",
                "ambient(0x0)",
                "setuid(0) EPERM",
                "setgid(0) EPERM"
            ]
        );
        assert_eq!(model.caps, CapState::default());
        assert_eq!((model.uids, model.gids), ([Uid(1000); 3], [Gid(1000); 3]));
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
        let keepcaps_on = model
            .calls
            .iter()
            .position(|c| c == "keepcaps(true)")
            .unwrap();
        let setuid = model
            .calls
            .iter()
            .position(|c| c == "setuid(65534)")
            .unwrap();
        let keepcaps_off = model
            .calls
            .iter()
            .position(|c| c == "keepcaps(false)")
            .unwrap();
        assert!(keepcaps_on < setuid && setuid < keepcaps_off);
        assert!(model.no_new_privs && !model.keepcaps);
    }

    #[test]
    fn without_setpcap_the_bounding_set_stays_and_the_switch_goes_on() {
        let mut model = Model::root();
        model.caps.effective = model.caps.effective.minus(CapMask(SETPCAP));
        model.caps.permitted = model.caps.permitted.minus(CapMask(SETPCAP));
        run(&mut model, &target(1000, 1000, &[]), None, false).unwrap();
        assert!(!model.calls.iter().any(|c| c.starts_with("drop_bounding")));
        assert_eq!(model.caps.bounding, CapMask(FULL));
        assert_eq!(model.caps.permitted, CapMask::EMPTY);
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
                "capset(0x0)",
                "ambient(0x0)",
                "setuid(0) EPERM",
                "setgid(0) EPERM"
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
        let error = run(&mut model, &target(1000, 1000, &[]), Some(NET_BIND), false).unwrap_err();
        assert!(
            error.to_string().contains("CAP_NET_BIND_SERVICE"),
            "{error}"
        );
        assert!(model.calls.is_empty());
    }

    #[test]
    fn a_failed_setgroups_stops_the_switch() {
        let mut model = Model::root();
        model.setgroups_denied = true;
        let error = run(&mut model, &target(1000, 1000, &[5]), None, false).unwrap_err();
        assert_eq!(error.to_string(), "setgroups: Operation not permitted");
        assert!(
            !model
                .calls
                .iter()
                .any(|c| c.starts_with("setuid") || c.starts_with("setgid"))
        );
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
    fn a_kernel_that_does_not_switch_is_caught() {
        let mut model = Model::root();
        model.lying_setuid = true;
        let error = run(&mut model, &target(1000, 1000, &[]), None, false).unwrap_err();
        assert!(matches!(error, Error::Verify(_)), "{error}");
    }
}
