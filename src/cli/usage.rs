//! Why a command line is refused: every usage error as a value, its words made only in
//! `Display` (clap's where clap has them, so the two parsers say the same).

use super::options::Opt;
use crate::capability::UnknownCapability;
use crate::limits::LimitError;
use crate::signals::ValueError;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Usage {
    /// An option that is not repeatable, given again (`spelled` when given by its letter).
    Repeated {
        option: Opt,
        spelled: Option<String>,
    },
    UnexpectedLong(String),
    /// A value for a flag (`--verbose=1`).
    UnexpectedValue {
        option: Opt,
        value: String,
    },
    ValueRequired(Opt),
    NotUtf8 {
        option: Opt,
        value: String,
    },
    /// An unknown letter (as text: a byte that is no UTF-8 shows as U+FFFD), and the group of
    /// letters it came in (when more than one).
    UnexpectedShort {
        letter: String,
        within: Option<String>,
    },
    MissingOperands,
    MissingCommand,
    PrivilegesContradict,
    EmptyGroupName,
    /// A flag's variable holding neither 1 nor 0 (true/false, yes/no).
    Variable {
        variable: &'static str,
        value: String,
    },
    NeedsInit(Opt),
    /// An option that only means something for a switch, with USER-SPEC `-`.
    NothingToSwitch(Opt),
    Capability(UnknownCapability),
    Limit(LimitError),
    Value(ValueError),
    /// A value of this option, refused (`--grace: invalid duration ...`).
    ValueOf(Opt, ValueError),
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Usage::Repeated { option, spelled } => {
                write!(
                    f,
                    "the argument '{}' cannot be used multiple times",
                    option.row().display()
                )?;
                match spelled {
                    Some(spelled) => write!(f, " (given as '{spelled}')"),
                    None => Ok(()),
                }
            }
            Usage::UnexpectedLong(name) => write!(f, "unexpected argument '--{name}' found"),
            Usage::UnexpectedValue { option, value } => write!(
                f,
                "unexpected value '{value}' for '--{}' found; no more were expected",
                option.row().long
            ),
            Usage::ValueRequired(option) => write!(
                f,
                "a value is required for '{}' but none was supplied",
                option.row().display()
            ),
            Usage::NotUtf8 { option, value } => write!(
                f,
                "invalid UTF-8 in the value of '--{}': '{value}'",
                option.row().long
            ),
            Usage::UnexpectedShort { letter, within } => {
                write!(f, "unexpected argument '-{letter}' found")?;
                match within {
                    Some(group) => write!(f, " (in '{group}')"),
                    None => Ok(()),
                }
            }
            Usage::MissingOperands => f.write_str("missing USER-SPEC and COMMAND"),
            Usage::MissingCommand => f.write_str("missing COMMAND after USER-SPEC"),
            Usage::PrivilegesContradict => f.write_str(
                "--no-new-privs and --allow-new-privs (or SUDROP_ALLOW_NEW_PRIVS) contradict each \
                 other",
            ),
            Usage::EmptyGroupName => f.write_str("--group-add: an empty group name in the list"),
            Usage::Variable { variable, value } => write!(f, "{variable}='{value}': use 1 or 0"),
            Usage::NeedsInit(option) => write!(f, "--{} needs --init", option.row().long),
            Usage::NothingToSwitch(option) => write!(
                f,
                "--{} means nothing with USER-SPEC '-', which switches nobody",
                option.row().long
            ),
            Usage::Capability(error) => error.fmt(f),
            Usage::Limit(error) => error.fmt(f),
            Usage::Value(error) => error.fmt(f),
            Usage::ValueOf(option, error) => write!(f, "--{}: {error}", option.row().long),
        }
    }
}
