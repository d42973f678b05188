//! Capability names and sets, as plain bit masks (bit N is capability N).

use caps::Capability;
use std::fmt;
use std::str::FromStr;

/// A set of capabilities; bit N stands for capability number N.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapMask(pub u64);

impl CapMask {
    pub const EMPTY: CapMask = CapMask(0);

    pub fn of(cap: Capability) -> CapMask {
        CapMask(cap.bitmask())
    }
    pub fn contains(self, cap: Capability) -> bool {
        self.0 & cap.bitmask() != 0
    }
    pub fn has(self, number: u8) -> bool {
        number < 64 && self.0 & (1 << number) != 0
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
    /// The capabilities in the set that `caps` has a name for.
    pub fn named(self) -> impl Iterator<Item = Capability> {
        caps::all()
            .into_iter()
            .filter(move |cap| self.contains(*cap))
    }
}

impl fmt::Display for CapMask {
    /// `none`, or the names in number order (`CAP_N` for one without a name).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("none");
        }
        let mut first = true;
        for number in 0..64u8 {
            if !self.has(number) {
                continue;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            match caps::all().into_iter().find(|cap| cap.index() == number) {
                Some(cap) => write!(f, "{cap}")?,
                None => write!(f, "CAP_{number}")?,
            }
        }
        Ok(())
    }
}

/// Reads `--keep-cap` lists: comma-separated names in any case, with or without `CAP_`.
pub fn parse_cap_list<'a>(lists: impl IntoIterator<Item = &'a str>) -> Result<CapMask, String> {
    let mut mask = CapMask::EMPTY;
    for list in lists {
        for name in list.split(',') {
            let cap = Capability::from_str(&caps::to_canonical(name))
                .map_err(|_| format!("unknown capability '{name}' in --keep-cap"))?;
            mask = mask.union(CapMask::of(cap));
        }
    }
    Ok(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_any_case_with_or_without_prefix() {
        let expected = CapMask::of(Capability::CAP_NET_BIND_SERVICE);
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
    }

    #[test]
    fn unknown_and_empty_names_are_refused() {
        for list in ["bogus", "net_bind_service,", "", "CAP_"] {
            assert!(parse_cap_list([list]).is_err(), "{list:?}");
        }
    }
}
