//! User and group ids of the process.

use super::{Errno, check};
use crate::id::{Gid, Uid};

/// The real, effective and saved user ids.
pub fn resuid() -> Result<[Uid; 3], Errno> {
    let (mut real, mut effective, mut saved) = (0, 0, 0);
    // SAFETY: getresuid writes three ids into the valid locations it is given.
    check(unsafe { libc::getresuid(&mut real, &mut effective, &mut saved) })?;
    Ok([Uid(real), Uid(effective), Uid(saved)])
}

/// The real, effective and saved group ids.
pub fn resgid() -> Result<[Gid; 3], Errno> {
    let (mut real, mut effective, mut saved) = (0, 0, 0);
    // SAFETY: getresgid writes three ids into the valid locations it is given.
    check(unsafe { libc::getresgid(&mut real, &mut effective, &mut saved) })?;
    Ok([Gid(real), Gid(effective), Gid(saved)])
}

/// The supplementary groups.
pub fn groups() -> Result<Vec<Gid>, Errno> {
    loop {
        // SAFETY: a zero size asks only for the count and writes nothing.
        let count = check(unsafe { libc::getgroups(0, std::ptr::null_mut()) })?;
        if count == 0 {
            return Ok(Vec::new());
        }
        let mut groups = vec![0; count as usize];
        // SAFETY: `groups` has room for `count` gids.
        match check(unsafe { libc::getgroups(count, groups.as_mut_ptr()) }) {
            Ok(filled) => {
                groups.truncate(filled as usize);
                return Ok(groups.into_iter().map(Gid).collect());
            }
            // The list grew between the two calls (it cannot for a single thread; be safe).
            Err(Errno::EINVAL) => continue,
            Err(errno) => return Err(errno),
        }
    }
}

// On i386 and arm, `setgroups`, `setresgid` and `setresuid` are the old calls with 16-bit ids
// (a uid of 100000 would become 34464); the 32-bit ones carry a `32` suffix there. Every other
// architecture has only 32-bit ids under the plain names.
#[cfg(not(any(target_arch = "x86", target_arch = "arm")))]
use libc::{
    SYS_setgroups as SYS_SETGROUPS, SYS_setresgid as SYS_SETRESGID, SYS_setresuid as SYS_SETRESUID,
};
#[cfg(any(target_arch = "x86", target_arch = "arm"))]
use libc::{
    SYS_setgroups32 as SYS_SETGROUPS, SYS_setresgid32 as SYS_SETRESGID,
    SYS_setresuid32 as SYS_SETRESUID,
};

/// Sets the supplementary groups.
pub fn set_groups(groups: &[Gid]) -> Result<(), Errno> {
    let ids: Vec<libc::gid_t> = groups.iter().map(|gid| gid.0).collect();
    // SAFETY: the raw syscall reads `ids.len()` gids from `ids`. It changes this thread's
    // credentials, which are the process's: sudrop has one thread (see the module text).
    check(unsafe { libc::syscall(SYS_SETGROUPS, ids.len(), ids.as_ptr()) }).map(drop)
}

/// Sets the real, effective and saved group id.
pub fn set_gid(gid: Gid) -> Result<(), Errno> {
    // SAFETY: integer arguments only; one thread, so the thread's ids are the process's.
    check(unsafe { libc::syscall(SYS_SETRESGID, gid.0, gid.0, gid.0) }).map(drop)
}

/// Sets the real, effective and saved user id.
pub fn set_uid(uid: Uid) -> Result<(), Errno> {
    // SAFETY: integer arguments only; one thread, so the thread's ids are the process's.
    check(unsafe { libc::syscall(SYS_SETRESUID, uid.0, uid.0, uid.0) }).map(drop)
}

/// Whether the kernel started sudrop with AT_SECURE: installed setuid, setgid or with file
/// capabilities. Read from the auxiliary vector, so no /proc is needed.
pub fn is_secure_execution() -> bool {
    // SAFETY: getauxval has no preconditions; it returns 0 for an absent entry.
    unsafe { libc::getauxval(libc::AT_SECURE) != 0 }
}
