//! Typed user, group and process ids, and the one strict rule for reading an id from text.

use std::fmt;

/// The largest id sudrop accepts. `u32::MAX` is `(uid_t)-1`, which the kernel reads as
/// "leave unchanged": a spec that asked for it would silently keep the caller's id.
pub const MAX_ID: u32 = u32::MAX - 1;

/// A user id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uid(pub u32);

/// A group id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gid(pub u32);

impl Uid {
    pub const ROOT: Uid = Uid(0);
    pub fn is_root(self) -> bool {
        self == Self::ROOT
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for Gid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A process id (or, negated, a process group for `kill`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pid(pub i32);

impl std::fmt::Display for Pid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// How a piece of text reads as an id.
#[derive(Debug, PartialEq, Eq)]
pub enum IdText {
    /// Only ASCII digits, and the value is in `0..=MAX_ID`.
    Id(u32),
    /// Only ASCII digits, but the value is larger than `MAX_ID`. Never a name.
    OutOfRange,
    /// Anything else (empty, a sign, a space, hex, letters): not an id.
    NotAnId,
}

/// Reads `text` as a decimal id. No sign, no whitespace, no other base: `+5`, `-1`, ` 5` and
/// `0x10` are not ids. A digits-only text too large for an id is `OutOfRange`, never truncated.
pub fn parse_id(text: &[u8]) -> IdText {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return IdText::NotAnId;
    }
    let mut value: u64 = 0;
    for digit in text {
        value = value * 10 + u64::from(digit - b'0');
        if value > u64::from(MAX_ID) {
            return IdText::OutOfRange;
        }
    }
    // The loop stops as soon as the value passes MAX_ID, so it fits in a u32 here.
    match u32::try_from(value) {
        Ok(id) => IdText::Id(id),
        Err(_) => IdText::OutOfRange,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_ids() {
        assert_eq!(parse_id(b"0"), IdText::Id(0));
        assert_eq!(parse_id(b"007"), IdText::Id(7));
        assert_eq!(parse_id(b"4294967294"), IdText::Id(4_294_967_294));
    }

    #[test]
    fn minus_one_and_beyond_are_out_of_range_never_wrapped() {
        for text in [
            "4294967295",
            "4294967296",
            "99999999999999999999",
            "1".repeat(400).as_str(),
        ] {
            assert_eq!(parse_id(text.as_bytes()), IdText::OutOfRange, "{text}");
        }
    }

    #[test]
    fn signs_spaces_and_other_bases_are_not_ids() {
        for text in ["", "+5", "-1", " 5", "5 ", "0x10", "1e3", "1_000", "٣"] {
            assert_eq!(parse_id(text.as_bytes()), IdText::NotAnId, "{text:?}");
        }
    }
}
