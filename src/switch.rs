//! The privilege switch: supplementary groups, gid, uid and capabilities, failing closed.
//!
//! The order is forced by the kernel:
//! 1. Shrink the capability bounding set first: `PR_CAPBSET_DROP` needs CAP_SETPCAP in the
//!    effective set, and the uid change below empties it.
//! 2. `setgroups`, then `setresgid`, then `setresuid`: each of the first two needs CAP_SETGID,
//!    which the uid change takes away. (To keep capabilities, `PR_SET_KEEPCAPS` is set first
//!    so that the permitted set survives the uid change.)
//! 3. Set the effective, permitted and inheritable sets to what is kept, in one `capset`, then
//!    raise the kept capabilities in the ambient set: a capability may only be ambient while it
//!    is permitted and inheritable, and the kernel removes from the ambient set whatever the
//!    `capset` leaves out of either. The kernel clears permitted, effective and ambient on a
//!    uid change from root, but never the inheritable set, so that one must be set explicitly.
//! 4. Verify the result from the kernel's own answers (one `capget` after the change), and
//!    that root cannot be regained.
//!
//! The bounding set is emptied without reading it first, and not read back: the kernel removes
//! a capability from it on every `PR_CAPBSET_DROP` that succeeds, and answers EINVAL past its
//! last capability, which ends the loop (so a capability newer than sudrop is dropped too).
//! Any other answer stops the switch. Each of these calls commits new credentials, which costs
//! about a microsecond here, so the 41 drops are most of what the switch costs.
//!
//! All calls go through [`Kernel`], so the order and the decisions are unit-tested with a
//! model of the kernel's rules; [`LinuxKernel`] is the real thing.

use crate::capability::{Cap, CapMask};
use crate::error::Error;
use crate::id::{Gid, Uid};
use crate::log::Log;
use crate::resolve::Target;
use crate::sys;
use crate::sys::caps::{BoundingDrop, CapSets};

/// The calls the switch makes. Each returns the error sudrop reports.
pub trait Kernel {
    fn resuid(&self) -> Result<[Uid; 3], Error>;
    fn resgid(&self) -> Result<[Gid; 3], Error>;
    fn groups(&self) -> Result<Vec<Gid>, Error>;
    /// The effective, permitted and inheritable sets, in one read.
    fn capabilities(&self) -> Result<CapSets, Error>;
    /// The bounding set, read capability by capability.
    fn bounding(&self) -> Result<CapMask, Error>;
    fn ambient_has(&self, number: u8) -> Result<bool, Error>;
    fn drop_bounding(&mut self, number: u8) -> Result<BoundingDrop, Error>;
    fn set_keepcaps(&mut self, on: bool) -> Result<(), Error>;
    fn set_groups(&mut self, groups: &[Gid]) -> Result<(), Error>;
    /// Sets the real, effective and saved gid.
    fn set_gid(&mut self, gid: Gid) -> Result<(), Error>;
    /// Sets the real, effective and saved uid.
    fn set_uid(&mut self, uid: Uid) -> Result<(), Error>;
    /// Sets the effective, permitted and inheritable sets at once.
    fn set_capabilities(&mut self, sets: CapSets) -> Result<(), Error>;
    fn raise_ambient(&mut self, number: u8) -> Result<(), Error>;
    fn set_no_new_privs(&mut self) -> Result<(), Error>;
    /// Installs the seccomp filter that fails TIOCSTI and TIOCLINUX.
    fn block_terminal_injection(&mut self) -> Result<(), Error>;
    /// Whether the command could reach a terminal: any inherited descriptor is one, or there
    /// is a controlling terminal (or either cannot be told).
    fn terminal_reachable(&self) -> bool;
    /// Gives the pipe behind `hand.fd` the group `gid` and the mode `hand.mode`.
    fn hand_over(&mut self, hand: HandOver, gid: Gid) -> Result<(), Error>;
}

/// A standard descriptor's pipe that the target's group gets access to: `mode` is the pipe's
/// new permission bits (root keeps it; the group may open it only in the direction the
/// command's own descriptors go).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandOver {
    pub fd: i32,
    pub mode: u32,
}

/// What the switch is asked to do.
pub struct Request<'a> {
    pub target: &'a Target,
    /// `--keep-cap`: `None` when not given.
    pub keep: Option<CapMask>,
    /// Set no_new_privs (the default for a non-root target).
    pub no_new_privs: bool,
    /// Fail TIOCSTI and TIOCLINUX (for a non-root target).
    pub block_terminal_injection: bool,
    /// The spec named a group (`USER:GROUP`, `:GROUP`), which means "no supplementary groups".
    pub explicit_group: bool,
    /// Groups `--group-add` and `--group-of` asked for: these must be in the result.
    pub added_groups: &'a [Gid],
    /// The stdio pipes to hand to the target's group: the last change made with privilege,
    /// after every check that can refuse the switch.
    pub stdio: &'a [HandOver],
}

fn sorted_unique(groups: &[Gid]) -> Vec<Gid> {
    let mut groups = groups.to_vec();
    groups.sort_unstable();
    groups.dedup();
    groups
}

fn same_set(a: &[Gid], b: &[Gid]) -> bool {
    sorted_unique(a) == sorted_unique(b)
}

fn ids_text(uid: Uid, gid: Gid) -> String {
    format!("uid {uid} gid {gid}")
}

/// The groups for a message: the first few, then how many more.
pub fn list(groups: &[Gid]) -> String {
    const SHOWN: usize = 16;
    let mut text = String::new();
    for (index, gid) in groups.iter().take(SHOWN).enumerate() {
        if index > 0 {
            text.push(',');
        }
        text.push_str(&gid.to_string());
    }
    if groups.len() > SHOWN {
        text += &format!(",… ({} more)", groups.len() - SHOWN);
    }
    text
}

fn keep_all(keep: CapMask) -> CapSets {
    CapSets {
        effective: keep,
        permitted: keep,
        inheritable: keep,
    }
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
    let may_set_ids =
        before.effective.contains(Cap::SETUID) && before.effective.contains(Cap::SETGID);
    if (uid_changes || gid_changes) && !may_set_ids {
        return Err(Error::NeedPrivilege {
            from: ids_text(uids[0], gids[0]),
            to: ids_text(target.uid, target.gid),
        });
    }
    let groups_differ = !same_set(&groups, &target.groups);
    let set_groups = groups_differ && before.effective.contains(Cap::SETGID);
    let missing: Vec<Gid> = request
        .added_groups
        .iter()
        .copied()
        .filter(|gid| !groups.contains(gid))
        .collect();
    if groups_differ && !set_groups && !missing.is_empty() {
        return Err(Error::Capability(format!(
            "cannot add the supplementary groups {} (--group-add, --group-of): that needs CAP_SETGID",
            list(&missing)
        )));
    }
    if groups_differ && !set_groups {
        // Only reachable with unchanged ids and no CAP_SETGID: a runtime already started us
        // as the target (Kubernetes runAsUser) and chose the supplementary groups itself.
        // That is said always when the spec named a group, which asks for none.
        let message = format_args!(
            "already uid {} gid {}; keeping the supplementary groups the runtime set ({}): no CAP_SETGID",
            target.uid,
            target.gid,
            list(&groups)
        );
        if request.explicit_group {
            log.warn(format_args!(
                "{message}, though the user spec names a group and so asks for none"
            ));
        } else {
            log.say(message);
        }
    }
    if !uid_changes && !gid_changes && !set_groups {
        log.say(format_args!(
            "already running as the target: no identity change"
        ));
    }

    if restrict {
        if before.effective.contains(Cap::SETPCAP) {
            log.say(format_args!("bounding set: dropping all but {keep}"));
            for number in (0..64).filter(|&number| !keep.has(number)) {
                if kernel.drop_bounding(number)? == BoundingDrop::NoSuchCapability {
                    break;
                }
            }
        } else {
            let bounding = kernel.bounding()?;
            if !bounding.is_subset_of(keep) {
                let message =
                    format!("bounding set left as it is ({bounding}): no CAP_SETPCAP to shrink it");
                // With no_new_privs nothing can raise a capability from it again; without,
                // a setuid-root or file-capability program could.
                if request.no_new_privs {
                    log.say(format_args!("{message}"));
                } else {
                    log.warn(format_args!(
                        "{message}, and without no_new_privs a setuid or file-capability program can regain them"
                    ));
                }
            }
        }
    }
    // TIOCSTI works only on the caller's controlling terminal (without CAP_SYS_ADMIN), so with
    // no terminal in reach, as in a container without a tty, the filter protects nothing; it
    // costs as much as the whole bounding-set drop, so it then stays out.
    let block_terminal_injection = request.block_terminal_injection && kernel.terminal_reachable();
    if request.block_terminal_injection && !block_terminal_injection {
        log.say(format_args!(
            "no terminal in reach: TIOCSTI cannot be used, no seccomp filter needed"
        ));
    }
    // Without no_new_privs the kernel takes the filter only from CAP_SYS_ADMIN, which the
    // switch is about to give up: then it goes in now.
    let filter_now = block_terminal_injection
        && !request.no_new_privs
        && before.effective.contains(Cap::SYS_ADMIN);
    if filter_now {
        log.say(format_args!(
            "seccomp: TIOCSTI and TIOCLINUX fail with EPERM"
        ));
        kernel.block_terminal_injection()?;
    }

    // Every check that can refuse is behind us; the next calls need privilege that the id
    // change ends, so the hand-over goes just before it.
    for &hand in request.stdio {
        match kernel.hand_over(hand, target.gid) {
            Ok(()) => log.say(format_args!(
                "descriptor {}: a pipe, now group {} mode {:04o}",
                hand.fd, target.gid, hand.mode
            )),
            // It only costs the convenience of /dev/stdout: said, and passed over.
            Err(error) => log.warn(format_args!(
                "cannot hand descriptor {} over: {error}",
                hand.fd
            )),
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
        kernel.set_capabilities(keep_all(keep))?;
        for number in keep.numbers() {
            kernel.raise_ambient(number)?;
        }
    }
    if keepcaps {
        kernel.set_keepcaps(false)?;
    }
    if request.no_new_privs {
        log.say(format_args!("prctl(PR_SET_NO_NEW_PRIVS)"));
        kernel.set_no_new_privs()?;
    }
    if block_terminal_injection && !filter_now {
        if request.no_new_privs {
            log.say(format_args!(
                "seccomp: TIOCSTI and TIOCLINUX fail with EPERM"
            ));
            kernel.block_terminal_injection()?;
        } else {
            log.warn(format_args!(
                "the command can reach a terminal, and without no_new_privs or \
                 CAP_SYS_ADMIN sudrop cannot stop it from typing into it (TIOCSTI)"
            ));
        }
    }

    verify(kernel, request, restrict, set_groups)
}

/// Checks the switch against the kernel's own answers.
fn verify(
    kernel: &mut impl Kernel,
    request: &Request<'_>,
    restrict: bool,
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
        let after = kernel.capabilities()?;
        let sets = [
            ("effective", after.effective),
            ("permitted", after.permitted),
            ("inheritable", after.inheritable),
        ];
        for (name, set) in sets {
            if set != keep {
                return Err(Error::Verify(format!(
                    "after the switch: {name} capabilities are {set}, expected {keep}"
                )));
            }
        }
        // The kernel keeps the ambient set within permitted and inheritable, both now exactly
        // `keep`: only the kept capabilities need asking about.
        for number in keep.numbers() {
            if !kernel.ambient_has(number)? {
                return Err(Error::Verify(format!(
                    "after the switch: {} is not ambient",
                    CapMask(1 << number)
                )));
            }
        }
    }
    if !target.uid.is_root() && !keep.contains(Cap::SETUID) {
        if kernel.set_uid(Uid::ROOT).is_ok() {
            return Err(Error::Verify(
                "after the switch: setresuid(0,0,0) succeeded".into(),
            ));
        }
        if target.gid != Gid(0) && !keep.contains(Cap::SETGID) && kernel.set_gid(Gid(0)).is_ok() {
            return Err(Error::Verify(
                "after the switch: setresgid(0,0,0) succeeded".into(),
            ));
        }
    }
    Ok(())
}

/// The real kernel, through the syscall layer.
pub struct LinuxKernel;

impl Kernel for LinuxKernel {
    fn resuid(&self) -> Result<[Uid; 3], Error> {
        sys::cred::resuid().map_err(|e| Error::syscall("getresuid", e))
    }

    fn resgid(&self) -> Result<[Gid; 3], Error> {
        sys::cred::resgid().map_err(|e| Error::syscall("getresgid", e))
    }

    fn groups(&self) -> Result<Vec<Gid>, Error> {
        sys::cred::groups().map_err(|e| Error::syscall("getgroups", e))
    }

    fn capabilities(&self) -> Result<CapSets, Error> {
        sys::caps::get().map_err(|e| Error::syscall("capget", e))
    }

    fn bounding(&self) -> Result<CapMask, Error> {
        sys::caps::bounding().map_err(|e| Error::syscall("prctl(PR_CAPBSET_READ)", e))
    }

    fn ambient_has(&self, number: u8) -> Result<bool, Error> {
        sys::caps::ambient_has(number)
            .map_err(|e| Error::syscall(format!("prctl(PR_CAP_AMBIENT_IS_SET, {number})"), e))
    }

    fn drop_bounding(&mut self, number: u8) -> Result<BoundingDrop, Error> {
        sys::caps::drop_bounding(number)
            .map_err(|e| Error::syscall(format!("prctl(PR_CAPBSET_DROP, {number})"), e))
    }

    fn set_keepcaps(&mut self, on: bool) -> Result<(), Error> {
        sys::caps::set_keepcaps(on)
            .map_err(|e| Error::syscall(format!("prctl(PR_SET_KEEPCAPS, {})", u8::from(on)), e))
    }

    fn set_groups(&mut self, groups: &[Gid]) -> Result<(), Error> {
        sys::cred::set_groups(groups)
            .map_err(|e| Error::syscall(format!("setgroups({})", list(groups)), e))
    }

    fn set_gid(&mut self, gid: Gid) -> Result<(), Error> {
        sys::cred::set_gid(gid)
            .map_err(|e| Error::syscall(format!("setresgid({gid},{gid},{gid})"), e))
    }

    fn set_uid(&mut self, uid: Uid) -> Result<(), Error> {
        sys::cred::set_uid(uid)
            .map_err(|e| Error::syscall(format!("setresuid({uid},{uid},{uid})"), e))
    }

    fn set_capabilities(&mut self, sets: CapSets) -> Result<(), Error> {
        sys::caps::set(sets).map_err(|e| Error::syscall("capset", e))
    }

    fn raise_ambient(&mut self, number: u8) -> Result<(), Error> {
        sys::caps::raise_ambient(number)
            .map_err(|e| Error::syscall(format!("prctl(PR_CAP_AMBIENT_RAISE, {number})"), e))
    }

    fn set_no_new_privs(&mut self) -> Result<(), Error> {
        sys::caps::set_no_new_privs().map_err(|e| Error::syscall("prctl(PR_SET_NO_NEW_PRIVS)", e))
    }

    fn block_terminal_injection(&mut self) -> Result<(), Error> {
        match sys::seccomp::block_terminal_injection() {
            // A kernel built without seccomp filters: say so, and go on.
            Err(sys::Errno::EINVAL) => {
                crate::log::error(format_args!(
                    "warning: this kernel has no seccomp filters; TIOCSTI is not blocked"
                ));
                Ok(())
            }
            result => result.map_err(|e| Error::syscall("prctl(PR_SET_SECCOMP)", e)),
        }
    }

    fn terminal_reachable(&self) -> bool {
        // A terminal on any descriptor is in reach: the command can make it its controlling
        // terminal (setsid, TIOCSCTTY) when no session has it, and then type into it.
        (0..=2).any(sys::io::is_terminal)
            || sys::io::any_descriptor_is_a_terminal() != Some(false)
            || sys::io::has_controlling_terminal() != Some(false)
    }

    fn hand_over(&mut self, hand: HandOver, gid: Gid) -> Result<(), Error> {
        sys::io::set_group_and_mode(hand.fd, gid.0, hand.mode)
            .map_err(|e| Error::syscall(format!("fchown({}, -1, {gid}) and fchmod", hand.fd), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Errno;

    /// The five capability sets of a thread, as the model keeps them.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    struct CapState {
        effective: CapMask,
        permitted: CapMask,
        inheritable: CapMask,
        ambient: CapMask,
        bounding: CapMask,
    }

    /// The kernel's last capability number, in the model.
    const LAST_CAP: u8 = 40;

    const SETUID: u64 = 1 << 7;
    const SETGID: u64 = 1 << 6;
    const SETPCAP: u64 = 1 << 8;
    const NET_BIND: u64 = 1 << 10;
    const SYS_ADMIN: u64 = 1 << 21;
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
        /// Makes dropping this capability from the bounding set fail (an LSM's veto).
        refused_drop: Option<u8>,
        /// A terminal is in reach of the command.
        terminal: bool,
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
        fn capabilities(&self) -> Result<CapSets, Error> {
            Ok(CapSets {
                effective: self.caps.effective,
                permitted: self.caps.permitted,
                inheritable: self.caps.inheritable,
            })
        }
        fn bounding(&self) -> Result<CapMask, Error> {
            Ok(self.caps.bounding)
        }
        fn ambient_has(&self, number: u8) -> Result<bool, Error> {
            Ok(self.caps.ambient.has(number))
        }
        fn drop_bounding(&mut self, number: u8) -> Result<BoundingDrop, Error> {
            if !self.has(SETPCAP) || self.refused_drop == Some(number) {
                self.eperm(format!("drop_bounding({number})"))?;
            }
            if number > LAST_CAP {
                self.calls.push(format!("drop_bounding({number}) EINVAL"));
                return Ok(BoundingDrop::NoSuchCapability);
            }
            self.caps.bounding = self.caps.bounding.minus(CapMask(1 << number));
            self.calls.push(format!("drop_bounding({number})"));
            Ok(BoundingDrop::Dropped)
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
        fn set_capabilities(&mut self, sets: CapSets) -> Result<(), Error> {
            // capset(2): permitted may only shrink, inheritable stays within the old
            // inheritable and permitted sets, effective within the new permitted set.
            let inheritable_allowed = self.caps.inheritable.union(self.caps.permitted);
            if !sets.permitted.is_subset_of(self.caps.permitted)
                || !sets.inheritable.is_subset_of(inheritable_allowed)
                || !sets.effective.is_subset_of(sets.permitted)
            {
                return self.eperm("capset".into());
            }
            self.caps.effective = sets.effective;
            self.caps.permitted = sets.permitted;
            self.caps.inheritable = sets.inheritable;
            // What is no longer both permitted and inheritable leaves the ambient set.
            self.caps.ambient =
                CapMask(self.caps.ambient.0 & sets.permitted.0 & sets.inheritable.0);
            self.calls.push(format!("capset({:#x})", sets.effective.0));
            Ok(())
        }
        fn raise_ambient(&mut self, number: u8) -> Result<(), Error> {
            if !self.caps.permitted.has(number) || !self.caps.inheritable.has(number) {
                return self.eperm(format!("ambient_raise({number})"));
            }
            self.caps.ambient = self.caps.ambient.union(CapMask(1 << number));
            self.calls.push(format!("ambient_raise({number})"));
            Ok(())
        }
        fn set_no_new_privs(&mut self) -> Result<(), Error> {
            self.no_new_privs = true;
            self.calls.push("no_new_privs".into());
            Ok(())
        }
        fn block_terminal_injection(&mut self) -> Result<(), Error> {
            // seccomp(2): a filter needs no_new_privs or CAP_SYS_ADMIN.
            if !self.no_new_privs && !self.has(SYS_ADMIN) {
                return self.eperm("filter".into());
            }
            self.calls.push("filter".into());
            Ok(())
        }
        fn terminal_reachable(&self) -> bool {
            self.terminal
        }
        fn hand_over(&mut self, hand: HandOver, gid: Gid) -> Result<(), Error> {
            // chown(2) of the group needs CAP_CHOWN, chmod(2) of root's pipe CAP_FOWNER.
            const CHOWN_AND_FOWNER: u64 = 1 | 1 << 3;
            let call = format!("hand_over({}, {gid}, {:o})", hand.fd, hand.mode);
            if self.caps.effective.0 & CHOWN_AND_FOWNER != CHOWN_AND_FOWNER {
                return self.eperm(call);
            }
            self.calls.push(call);
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

    const QUIET: Log = Log {
        verbose: false,
        warnings: false,
    };

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
            block_terminal_injection: false,
            explicit_group: false,
            added_groups: &[],
            stdio: &[],
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
        // Every capability the kernel has is dropped, without reading the set first; the
        // kernel's EINVAL past its last one ends the loop.
        let expected_drops: Vec<String> = (0..=LAST_CAP)
            .map(|n| format!("drop_bounding({n})"))
            .chain(["drop_bounding(41) EINVAL".to_string()])
            .collect();
        assert_eq!(model.calls[..first_id_call], expected_drops);
        assert_eq!(
            changes(&model),
            [
                "setgroups(29,50)",
                "setgid(1000)",
                "setuid(1000)",
                "capset(0x0)",
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
            ["capset(0x0)", "setuid(0) EPERM", "setgid(0) EPERM"]
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
    fn a_refused_bounding_drop_stops_the_switch_before_any_id_change() {
        let mut model = Model::root();
        model.refused_drop = Some(21);
        let error = run(&mut model, &target(1000, 1000, &[]), None, false).unwrap_err();
        assert_eq!(
            error.to_string(),
            "drop_bounding(21): Operation not permitted"
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
        assert!(!model.calls.iter().any(|c| c.starts_with("ambient")));
    }

    fn run_default(model: &mut Model, target: &Target, no_new_privs: bool) -> Result<(), Error> {
        let request = Request {
            target,
            keep: None,
            no_new_privs,
            block_terminal_injection: true,
            explicit_group: false,
            added_groups: &[],
            stdio: &[],
        };
        switch(model, &request, QUIET)
    }

    #[test]
    fn the_terminal_filter_follows_no_new_privs_or_goes_in_while_sys_admin_lasts() {
        // The default for a user: no_new_privs, then the filter, last.
        let mut model = Model::root();
        run_default(&mut model, &target(1000, 1000, &[]), true).unwrap();
        let calls = changes(&model);
        assert_eq!(
            calls[calls.len() - 4..],
            [
                "no_new_privs",
                "filter",
                "setuid(0) EPERM",
                "setgid(0) EPERM"
            ]
        );
        // --allow-new-privs: the filter goes in before the ids change, while CAP_SYS_ADMIN
        // is still there.
        let mut model = Model::root();
        run_default(&mut model, &target(1000, 1000, &[]), false).unwrap();
        assert_eq!(changes(&model)[..2], ["filter", "setgroups()"]);
        assert!(!model.no_new_privs);
        // Neither: no filter, and no failure (a warning, since a terminal is in reach).
        let mut model = Model::root();
        model.caps.effective = model.caps.effective.minus(CapMask(SYS_ADMIN));
        run_default(&mut model, &target(1000, 1000, &[]), false).unwrap();
        assert!(!model.calls.iter().any(|c| c.starts_with("filter")));
        // No terminal in reach (a container without a tty): TIOCSTI cannot work, no filter.
        let mut model = Model::root();
        model.terminal = false;
        run_default(&mut model, &target(1000, 1000, &[]), true).unwrap();
        assert!(model.no_new_privs);
        assert!(!model.calls.iter().any(|c| c.starts_with("filter")));
    }

    #[test]
    fn a_kernel_that_does_not_switch_is_caught() {
        let mut model = Model::root();
        model.lying_setuid = true;
        let error = run(&mut model, &target(1000, 1000, &[]), None, false).unwrap_err();
        assert!(matches!(error, Error::Verify(_)), "{error}");
    }

    const STDOUT_PIPE: HandOver = HandOver { fd: 1, mode: 0o620 };

    #[test]
    fn the_stdio_hand_over_is_the_last_privileged_change_after_every_check() {
        let mut model = Model::root();
        let target = target(1000, 1000, &[]);
        let request = Request {
            target: &target,
            keep: None,
            no_new_privs: true,
            block_terminal_injection: true,
            explicit_group: false,
            added_groups: &[],
            stdio: &[STDOUT_PIPE],
        };
        switch(&mut model, &request, QUIET).unwrap();
        assert_eq!(
            changes(&model),
            [
                "hand_over(1, 1000, 620)",
                "setgroups()",
                "setgid(1000)",
                "setuid(1000)",
                "capset(0x0)",
                "no_new_privs",
                "filter",
                "setuid(0) EPERM",
                "setgid(0) EPERM"
            ]
        );
        // Every bounding drop came before it.
        let hand = model.calls.iter().position(|c| c.starts_with("hand_over"));
        let last_drop = model
            .calls
            .iter()
            .rposition(|c| c.starts_with("drop_bounding"));
        assert!(last_drop < hand, "{:?}", model.calls);
    }

    #[test]
    fn a_refused_switch_hands_nothing_over() {
        let target = target(1000, 1000, &[]);
        // A capability sudrop lacks, and a caller that may not switch.
        let mut lacking = Model::root();
        lacking.caps.permitted = CapMask(FULL & !NET_BIND);
        let mut unprivileged = Model::root();
        unprivileged.caps = CapState::default();
        unprivileged.uids = [Uid(5); 3];
        for (mut model, keep) in [(lacking, Some(CapMask(NET_BIND))), (unprivileged, None)] {
            let request = Request {
                target: &target,
                keep,
                no_new_privs: true,
                block_terminal_injection: false,
                explicit_group: false,
                added_groups: &[],
                stdio: &[STDOUT_PIPE],
            };
            assert!(switch(&mut model, &request, QUIET).is_err());
            assert!(
                !model.calls.iter().any(|c| c.starts_with("hand_over")),
                "{:?}",
                model.calls
            );
        }
    }
}
