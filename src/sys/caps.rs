//! Capability sets: effective, permitted and inheritable in one `capget`/`capset`, and the
//! per-capability `prctl` calls for the bounding and ambient sets.

use super::{Errno, check};
use crate::capability::{CapMask, CapSets};

const VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct Header {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Data {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

fn join(low: u32, high: u32) -> CapMask {
    CapMask(u64::from(low) | u64::from(high) << 32)
}

fn split(mask: CapMask) -> (u32, u32) {
    (mask.0 as u32, (mask.0 >> 32) as u32)
}

/// This thread's effective, permitted and inheritable sets (one `capget`).
pub fn get() -> Result<CapSets, Errno> {
    let mut header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: version 3 reads two Data elements, which `data` holds; the header is valid.
    check(unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) })?;
    Ok(CapSets {
        effective: join(data[0].effective, data[1].effective),
        permitted: join(data[0].permitted, data[1].permitted),
        inheritable: join(data[0].inheritable, data[1].inheritable),
    })
}

/// Sets all three sets at once (one `capset`).
pub fn set(sets: CapSets) -> Result<(), Errno> {
    let mut header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let (e, p, i) = (
        split(sets.effective),
        split(sets.permitted),
        split(sets.inheritable),
    );
    let data = [
        Data {
            effective: e.0,
            permitted: p.0,
            inheritable: i.0,
        },
        Data {
            effective: e.1,
            permitted: p.1,
            inheritable: i.1,
        },
    ];
    // SAFETY: version 3 reads two Data elements from `data`; the header is valid. One
    // thread, so the thread's sets are the process's.
    check(unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) }).map(drop)
}

fn prctl(option: libc::c_int, arg: libc::c_ulong, arg3: libc::c_ulong) -> Result<i32, Errno> {
    // SAFETY: the options used here take integer arguments only and touch no memory.
    check(unsafe { libc::prctl(option, arg, arg3, 0, 0) })
}

/// Removes capability `number` from the bounding set (needs CAP_SETPCAP).
pub fn drop_bounding(number: u8) -> Result<(), Errno> {
    prctl(libc::PR_CAPBSET_DROP, number.into(), 0).map(drop)
}

/// Whether capability `number` is in the bounding set; EINVAL past the kernel's last one.
pub fn bounding_has(number: u8) -> Result<bool, Errno> {
    prctl(libc::PR_CAPBSET_READ, number.into(), 0).map(|answer| answer == 1)
}

/// The bounding set, read capability by capability up to the kernel's last one.
pub fn bounding() -> Result<CapMask, Errno> {
    let mut mask = CapMask::EMPTY;
    for number in 0..64u8 {
        match prctl(libc::PR_CAPBSET_READ, number.into(), 0) {
            Ok(1) => mask = mask.union(CapMask(1 << number)),
            Ok(_) => {}
            Err(Errno::EINVAL) => break,
            Err(errno) => return Err(errno),
        }
    }
    Ok(mask)
}

pub fn clear_ambient() -> Result<(), Errno> {
    prctl(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
        0,
    )
    .map(drop)
}

pub fn raise_ambient(number: u8) -> Result<(), Errno> {
    prctl(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
        number.into(),
    )
    .map(drop)
}

pub fn ambient_has(number: u8) -> Result<bool, Errno> {
    prctl(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_IS_SET as libc::c_ulong,
        number.into(),
    )
    .map(|answer| answer == 1)
}

pub fn set_keepcaps(on: bool) -> Result<(), Errno> {
    prctl(libc::PR_SET_KEEPCAPS, on.into(), 0).map(drop)
}

pub fn set_no_new_privs() -> Result<(), Errno> {
    prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0).map(drop)
}
