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
