//! Capability names and sets, as plain bit masks (bit N is capability N).
//!
//! The names are the kernel's (`include/uapi/linux/capability.h`), numbered as there. A
//! capability newer than this table still works everywhere sudrop handles sets: masks cover
//! all 64 bits, and the bounding set is emptied up to whatever the kernel's last one is.

use std::fmt;

/// Capability names by number, without the `CAP_` prefix.
pub const NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// A capability number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cap(pub u8);

impl Cap {
    pub const SETGID: Cap = Cap(6);
    pub const SETUID: Cap = Cap(7);
    pub const SETPCAP: Cap = Cap(8);
    pub const NET_BIND_SERVICE: Cap = Cap(10);
    pub const SYS_ADMIN: Cap = Cap(21);
}

/// A set of capabilities; bit N stands for capability number N.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapMask(pub u64);

impl CapMask {
    pub const EMPTY: CapMask = CapMask(0);

    pub fn of(cap: Cap) -> CapMask {
        CapMask(1 << cap.0)
    }
    pub fn contains(self, cap: Cap) -> bool {
        self.has(cap.0)
    }
    pub fn has(self, number: u8) -> bool {
        number < 64 && self.0 & (1 << number) != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn is_subset_of(self, other: CapMask) -> bool {
        self.0 & !other.0 == 0
    }
    pub fn union(self, other: CapMask) -> CapMask {
        CapMask(self.0 | other.0)
    }
    pub fn minus(self, other: CapMask) -> CapMask {
        CapMask(self.0 & !other.0)
    }
    /// How many capabilities are in the set.
    pub fn count(self) -> usize {
        self.0.count_ones() as usize
    }
    /// The capability numbers in the set, lowest first.
    pub fn numbers(self) -> impl Iterator<Item = u8> {
        (0..64u8).filter(move |&number| self.has(number))
    }
}

impl fmt::Display for CapMask {
    /// `none`, or the names in number order (`CAP_N` for one without a name).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        for (index, number) in self.numbers().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            match NAMES.get(usize::from(number)) {
                Some(name) => write!(f, "CAP_{name}")?,
                None => write!(f, "CAP_{number}")?,
            }
        }
        Ok(())
    }
}

/// Reads one capability name in any case, with or without `CAP_`.
pub fn parse_cap(name: &str) -> Option<Cap> {
    let bare = match name.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("CAP_") => &name[4..],
        _ => name,
    };
    let number = NAMES
        .iter()
        .position(|known| known.eq_ignore_ascii_case(bare))?;
    u8::try_from(number).ok().map(Cap)
}

/// A `--keep-cap` name that is no capability.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownCapability(pub String);

impl fmt::Display for UnknownCapability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown capability '{}' in --keep-cap", self.0)
    }
}

/// Reads `--keep-cap` lists: comma-separated names in any case, with or without `CAP_`.
pub fn parse_cap_list<'a>(
    lists: impl IntoIterator<Item = &'a str>,
) -> Result<CapMask, UnknownCapability> {
    let mut mask = CapMask::EMPTY;
    for list in lists {
        for name in list.split(',') {
            let cap = parse_cap(name).ok_or_else(|| UnknownCapability(name.into()))?;
            mask = mask.union(CapMask::of(cap));
        }
    }
    Ok(mask)
}

/// The three sets `capget` and `capset` carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapSets {
    pub effective: CapMask,
    pub permitted: CapMask,
    pub inheritable: CapMask,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mask_counts_the_numbers_it_lists() {
        for mask in [0, 1, 1 << 40, 0x1ff_ffff_ffff, u64::MAX] {
            assert_eq!(CapMask(mask).count(), CapMask(mask).numbers().count());
        }
    }

    #[test]
    fn names_in_any_case_with_or_without_prefix() {
        let expected = CapMask::of(Cap::NET_BIND_SERVICE);
        for name in [
            "NET_BIND_SERVICE",
            "net_bind_service",
            "CAP_NET_BIND_SERVICE",
            "cap_Net_Bind_Service",
        ] {
            assert_eq!(parse_cap_list([name]), Ok(expected), "{name}");
        }
    }

    #[test]
    fn lists_and_repeats_combine() {
        let mask = parse_cap_list(["chown,kill", "SETUID"]).unwrap();
        assert_eq!(mask.0, 1 | 1 << 5 | 1 << 7);
        assert_eq!(mask.to_string(), "CAP_CHOWN,CAP_KILL,CAP_SETUID");
        assert_eq!(CapMask(1 << 45 | 1).to_string(), "CAP_CHOWN,CAP_45");
    }

    #[test]
    fn unknown_and_empty_names_are_refused() {
        for list in [
            "bogus",
            "net_bind_service,",
            "",
            "CAP_",
            "CAP_CAP_KILL",
            "ÄKILL",
        ] {
            assert!(parse_cap_list([list]).is_err(), "{list:?}");
        }
    }

    #[test]
    fn the_table_follows_the_kernels_numbering() {
        // Spot checks against include/uapi/linux/capability.h.
        let number = |name| parse_cap(name).map(|cap| cap.0);
        assert_eq!(number("SYS_RESOURCE"), Some(24));
        assert_eq!(number("SETFCAP"), Some(31));
        assert_eq!(number("AUDIT_READ"), Some(37));
        assert_eq!(number("CHECKPOINT_RESTORE"), Some(40));
        assert_eq!(
            (Cap::SETGID, Cap::SETUID, Cap::SETPCAP, Cap::SYS_ADMIN),
            (Cap(6), Cap(7), Cap(8), Cap(21))
        );
    }
}
