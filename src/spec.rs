//! The `USER[:GROUP]` grammar.
//!
//! Forms: `USER`, `USER:GROUP`, `:GROUP`, `USER:`, and `` or `:` (keep the current user).
//! At most one colon, no trimming, names are case-sensitive. A part made only of ASCII digits
//! is always an id, never looked up as a name (a passwd line *named* `1000` must not decide
//! what `1000` means); an all-digit part too large for an id is refused.

use crate::id::{IdText, parse_id};
use std::fmt;

/// One half of a spec, as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part<'a> {
    Id(u32),
    Name(&'a [u8]),
}

/// A parsed spec; `None` means that half was not given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserSpec<'a> {
    pub user: Option<Part<'a>>,
    pub group: Option<Part<'a>>,
}

/// Which half of the spec an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Half {
    User,
    Group,
}

#[derive(Debug, PartialEq, Eq)]
pub enum SpecError {
    /// More than one `:`.
    TooManyColons,
    /// An all-digit part larger than the largest id (4294967294).
    IdOutOfRange { half: Half, text: Vec<u8> },
    /// A part that starts with `+` or `-`.
    Signed { half: Half, text: Vec<u8> },
}

/// Why a name may not start with `+` or `-`.
pub const SIGNED_REASON: &str = "starts with '+' or '-', which gosu reads as a signed id (-0 is \
     root) and glibc as a NIS entry; write the id or the name without it";

/// Whether `text` starts with `+` or `-`.
pub fn is_signed(text: &[u8]) -> bool {
    matches!(text.first(), Some(b'+' | b'-'))
}

impl fmt::Display for Half {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Half::User => "user",
            Half::Group => "group",
        })
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::TooManyColons => f.write_str("more than one ':' (the form is USER[:GROUP])"),
            SpecError::IdOutOfRange { half, text } => write!(
                f,
                "{half} id '{}' is out of range (ids run from 0 to {})",
                crate::log::shown(text),
                crate::id::MAX_ID
            ),
            SpecError::Signed { half, text } => {
                write!(f, "{half} '{}' {SIGNED_REASON}", crate::log::shown(text))
            }
        }
    }
}

pub fn parse(spec: &[u8]) -> Result<UserSpec<'_>, SpecError> {
    let (user, group) = match spec.iter().position(|&b| b == b':') {
        None => (spec, &b""[..]),
        Some(colon) => (&spec[..colon], &spec[colon + 1..]),
    };
    if group.contains(&b':') {
        return Err(SpecError::TooManyColons);
    }
    Ok(UserSpec {
        user: parse_part(user, Half::User)?,
        group: parse_part(group, Half::Group)?,
    })
}

fn parse_part(text: &[u8], half: Half) -> Result<Option<Part<'_>>, SpecError> {
    if text.is_empty() {
        return Ok(None);
    }
    match parse_id(text) {
        IdText::Id(id) => Ok(Some(Part::Id(id))),
        IdText::OutOfRange => Err(SpecError::IdOutOfRange {
            half,
            text: text.to_vec(),
        }),
        IdText::NotAnId if is_signed(text) => Err(SpecError::Signed {
            half,
            text: text.to_vec(),
        }),
        IdText::NotAnId => Ok(Some(Part::Name(text))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> UserSpec<'_> {
        parse(text.as_bytes()).expect(text)
    }

    #[test]
    fn every_form() {
        let alice = Some(Part::Name(b"alice"));
        let staff = Some(Part::Name(b"staff"));
        assert_eq!(
            spec("alice"),
            UserSpec {
                user: alice,
                group: None
            }
        );
        assert_eq!(
            spec("alice:staff"),
            UserSpec {
                user: alice,
                group: staff
            }
        );
        assert_eq!(
            spec(":staff"),
            UserSpec {
                user: None,
                group: staff
            }
        );
        assert_eq!(
            spec("alice:"),
            UserSpec {
                user: alice,
                group: None
            }
        );
        assert_eq!(
            spec(""),
            UserSpec {
                user: None,
                group: None
            }
        );
        assert_eq!(
            spec(":"),
            UserSpec {
                user: None,
                group: None
            }
        );
        assert_eq!(
            spec("1000:50"),
            UserSpec {
                user: Some(Part::Id(1000)),
                group: Some(Part::Id(50))
            }
        );
    }

    #[test]
    fn at_most_one_colon() {
        for text in ["a:b:c", "::", "alice:staff:", ":a:b"] {
            assert_eq!(
                parse(text.as_bytes()),
                Err(SpecError::TooManyColons),
                "{text}"
            );
        }
    }

    #[test]
    fn no_trimming_and_case_kept() {
        assert_eq!(spec(" alice").user, Some(Part::Name(b" alice")));
        assert_eq!(spec("ALICE").user, Some(Part::Name(b"ALICE")));
        assert_eq!(spec(" 5").user, Some(Part::Name(b" 5")));
    }

    #[test]
    fn hex_numbers_are_names_not_ids() {
        for text in ["0x10", "1e3", "5+"] {
            assert_eq!(spec(text).user, Some(Part::Name(text.as_bytes())));
        }
    }

    #[test]
    fn a_part_starting_with_a_sign_is_refused() {
        // gosu reads `+5` as uid 5 and `-0` as root; glibc reads `+name` as NIS.
        for (text, half) in [
            ("+5", Half::User),
            ("-0", Half::User),
            ("-alice", Half::User),
            ("+", Half::User),
            ("alice:+5", Half::Group),
            (":-0", Half::Group),
        ] {
            let (user, group) = text.split_once(':').unwrap_or((text, ""));
            let signed = if half == Half::User { user } else { group };
            assert_eq!(
                parse(text.as_bytes()),
                Err(SpecError::Signed {
                    half,
                    text: signed.as_bytes().to_vec()
                }),
                "{text}"
            );
        }
    }

    #[test]
    fn out_of_range_ids_are_refused_in_either_half() {
        assert!(matches!(
            parse(b"4294967295"),
            Err(SpecError::IdOutOfRange {
                half: Half::User,
                ..
            })
        ));
        assert!(matches!(
            parse(b"1000:4294967296"),
            Err(SpecError::IdOutOfRange {
                half: Half::Group,
                ..
            })
        ));
        assert!(matches!(
            parse(b"99999999999999999999"),
            Err(SpecError::IdOutOfRange {
                half: Half::User,
                ..
            })
        ));
    }
}
