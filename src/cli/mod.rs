//! The command line as the binary reads it.
//!
//! Options come only before USER-SPEC (`--` may end them); USER-SPEC and everything after it
//! are operands, passed on untouched: `sudrop app echo -i --init x` prints `-i --init x`.
//!
//! [`definition::command`] (clap) is the definition of record: the man page, the completions
//! and the `--help` text come from it. Linking clap into the binary would cost about a fifth
//! of its size and ~100 µs of every start, so the binary uses the small parser below, which
//! borrows `argv` and allocates only for option values. A test holds it to clap: over a
//! generated corpus of argument vectors both accept the same ones, with the same meaning.

pub mod definition;
pub mod options;
pub mod personality;
pub mod usage;

use crate::capability::{CapMask, parse_cap_list};
use crate::error::EXIT_FAILURE;
use crate::init::{DEFAULT_GRACE, Options as InitOptions};
use crate::limits::{Ulimit, parse_ulimit, parse_umask};
use crate::signals::{parse_duration, parse_remap, parse_rewrite, parse_signal};
use std::ffi::CStr;
use std::time::Duration;

pub use definition::command;
pub use options::{Opt, ROWS, Row};
pub use usage::Usage;

/// What the command line asks for, borrowed from `argv`.
#[derive(Debug, PartialEq, Eq)]
pub struct Args<'a> {
    pub verbose: bool,
    pub no_new_privs: bool,
    /// `--allow-new-privs`: no no_new_privs for a non-root target.
    pub allow_new_privs: bool,
    /// `--init`: `None` in exec mode.
    pub init: Option<InitOptions>,
    /// `--keep-cap`: `None` when not given.
    pub keep_caps: Option<CapMask>,
    /// `--keep-stdio-owner`: do not give the target stdin/stdout/stderr pipes and sockets.
    pub keep_stdio_owner: bool,
    /// `--if-privileged`: run as the caller when it may not switch.
    pub if_privileged: bool,
    /// `--group-add` names or ids, comma lists split.
    pub group_add: Vec<&'a str>,
    /// `--group-of` paths.
    pub group_of: Vec<&'a str>,
    /// `--umask`.
    pub umask: Option<u32>,
    /// `--ulimit`, in order.
    pub ulimits: Vec<Ulimit>,
    /// USER-SPEC, as written.
    pub user_spec: &'a CStr,
    /// Who USER-SPEC names.
    pub who: Who<'a>,
    pub command: &'a CStr,
    pub command_args: &'a [&'a CStr],
}

/// Who the command runs as, from USER-SPEC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who<'a> {
    /// A `USER[:GROUP]` spec, resolved as gosu does.
    Spec(&'a CStr),
    /// `-`: nobody to switch to. Nothing about the identity, the capabilities, the descriptors
    /// or the signals changes (with `--init`: an init only, as an engine's `--init` gives).
    Unchanged,
    /// An absolute path (`/data`): its owner's uid and gid, read without following a symbolic
    /// link in its last component (what `gosu "$(stat -c %u:%g /data)"` does, in one step).
    OwnerOf(&'a CStr),
}

impl<'a> Who<'a> {
    pub fn of(user_spec: &'a CStr) -> Who<'a> {
        match user_spec.to_bytes() {
            b"-" => Who::Unchanged,
            [b'/', ..] => Who::OwnerOf(user_spec),
            _ => Who::Spec(user_spec),
        }
    }
}

/// The options that mean nothing without a switch, refused with USER-SPEC `-`.
const SWITCH_ONLY: [Opt; 6] = [
    Opt::KeepCap,
    Opt::AllowNewPrivs,
    Opt::KeepStdioOwner,
    Opt::IfPrivileged,
    Opt::GroupAdd,
    Opt::GroupOf,
];

/// What the command line asks for when it does not ask to run a command.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// `--help` or `--version`: the text for stdout, exit 0.
    Print(&'static str),
    /// A usage error, for stderr, exit 125.
    Usage(Usage),
    /// Another tool's answer, in its shape (see [`personality`]): the text, whether it goes to
    /// stderr, and the exit status.
    Say {
        text: String,
        stderr: bool,
        status: u8,
    },
}

impl Stop {
    pub fn exit_code(&self) -> u8 {
        match self {
            Stop::Print(_) => 0,
            Stop::Usage(_) => EXIT_FAILURE,
            Stop::Say { status, .. } => *status,
        }
    }
}

/// `sudrop --help`: clap's rendering of [`definition::command`], byte for byte (a test
/// compares the two; `SUDROP_BLESS=1 cargo test --lib help` rewrites this file).
pub const HELP: &str = include_str!("help.txt");
pub const VERSION: &str = concat!("sudrop ", env!("CARGO_PKG_VERSION"), "\n");

/// Whether `word` is one of sudrop's own options as written on a command line (`--init`,
/// `--stop-delay=5s`, `-i`, `-v`), for the hint when one came after USER-SPEC.
pub fn is_own_option(word: &[u8]) -> bool {
    if let Some(long) = word.strip_prefix(b"--") {
        let name = long.split(|&b| b == b'=').next().unwrap_or_default();
        return ROWS.iter().any(|row| row.long.as_bytes() == name)
            || name == b"help"
            || name == b"version";
    }
    match word {
        [b'-', short] => ROWS.iter().any(|row| row.short == Some(*short)) || *short == b'h',
        _ => false,
    }
}

/// The options as given: how often each one, and every value, in order.
#[derive(Default)]
struct Given<'a> {
    counts: [u8; ROWS.len()],
    values: Vec<(Opt, &'a str)>,
}

impl<'a> Given<'a> {
    /// Counts `option`, given as `spelled`.
    fn count(&mut self, option: Opt, spelled: &[u8]) -> Result<(), Stop> {
        let count = &mut self.counts[option as usize];
        let row = option.row();
        if *count > 0 && !row.repeats() {
            return Err(Stop::Usage(Usage::Repeated {
                option,
                spelled: (!spelled.starts_with(b"--")).then(|| quoted(spelled)),
            }));
        }
        *count = count.saturating_add(1);
        Ok(())
    }

    fn flag(&self, option: Opt) -> bool {
        self.counts[option as usize] > 0
    }

    fn values(&self, option: Opt) -> impl Iterator<Item = &'a str> + '_ {
        self.values
            .iter()
            .filter(move |(given, _)| *given == option)
            .map(|(_, value)| *value)
    }
}

fn quoted(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

/// Whether an argument would be read as an option, so it cannot be an option's value.
fn looks_like_option(arg: &[u8]) -> bool {
    arg.len() > 1 && arg[0] == b'-'
}

/// Reads the options of `argv` (program name first); returns them and where operands start.
fn read_options<'a>(argv: &'a [&'a CStr]) -> Result<(Given<'a>, usize), Stop> {
    let mut given = Given::default();
    let mut next = 1;
    while let Some(arg) = argv.get(next).map(|arg| arg.to_bytes()) {
        next += 1;
        if arg == b"--" {
            break;
        }
        if let Some(body) = arg.strip_prefix(b"--") {
            let (name, inline) = match body.iter().position(|&b| b == b'=') {
                Some(at) => (&body[..at], Some(&body[at + 1..])),
                None => (body, None),
            };
            let unexpected = || Stop::Usage(Usage::UnexpectedLong(quoted(name)));
            let option = match name {
                b"help" | b"version" if inline.is_some() => return Err(unexpected()),
                b"help" => return Err(Stop::Print(HELP)),
                b"version" => return Err(Stop::Print(VERSION)),
                _ => ROWS
                    .iter()
                    .find(|row| row.long.as_bytes() == name)
                    .ok_or_else(unexpected)?,
            };
            given.count(option.option, arg)?;
            if !option.takes_value() {
                if let Some(value) = inline {
                    return Err(Stop::Usage(Usage::UnexpectedValue {
                        option: option.option,
                        value: quoted(value),
                    }));
                }
                continue;
            }
            let value = match inline {
                Some(value) => value,
                None => match argv.get(next).map(|arg| arg.to_bytes()) {
                    Some(value) if !looks_like_option(value) => {
                        next += 1;
                        value
                    }
                    _ => {
                        return Err(Stop::Usage(Usage::ValueRequired(option.option)));
                    }
                },
            };
            let value = std::str::from_utf8(value).map_err(|_| {
                Stop::Usage(Usage::NotUtf8 {
                    option: option.option,
                    value: quoted(value),
                })
            })?;
            given.values.push((option.option, value));
            continue;
        }
        if looks_like_option(arg) {
            for &letter in &arg[1..] {
                let row = match letter {
                    b'h' => return Err(Stop::Print(HELP)),
                    b'V' => return Err(Stop::Print(VERSION)),
                    _ => ROWS
                        .iter()
                        .find(|row| row.short == Some(letter))
                        .ok_or_else(|| {
                            Stop::Usage(Usage::UnexpectedShort {
                                letter: quoted(&[letter]),
                                within: (arg.len() > 2).then(|| quoted(arg)),
                            })
                        })?,
                };
                given.count(row.option, &[b'-', letter])?;
            }
            continue;
        }
        // The first operand: USER-SPEC.
        next -= 1;
        break;
    }
    Ok((given, next))
}

/// The command line as given, before any value is interpreted.
struct Raw<'a> {
    given: Given<'a>,
    /// Whether USER-SPEC `-` and `/PATH` mean what they mean to sudrop (not under gosu's and
    /// su-exec's names, where a spec is only what those tools read as one).
    spec_forms: bool,
    user_spec: &'a CStr,
    command: &'a CStr,
    command_args: &'a [&'a CStr],
}

fn read<'a>(argv: &'a [&'a CStr]) -> Result<Raw<'a>, Stop> {
    let (given, first_operand) = read_options(argv)?;
    match argv.get(first_operand..).unwrap_or_default() {
        [] => Err(Stop::Usage(Usage::MissingOperands)),
        [_] => Err(Stop::Usage(Usage::MissingCommand)),
        [user_spec, command, command_args @ ..] => Ok(Raw {
            given,
            spec_forms: true,
            user_spec,
            command,
            command_args,
        }),
    }
}

/// Parses `argv` (program name first), with init options missing from it taken from the
/// environment through `env`.
pub fn parse<'a>(
    argv: &'a [&'a CStr],
    env: impl Fn(&str) -> Option<&'a str>,
) -> Result<Args<'a>, Stop> {
    interpret(read(argv)?, env)
}

/// What a command line read by any grammar asks for.
fn interpret<'a>(raw: Raw<'a>, env: impl Fn(&str) -> Option<&'a str>) -> Result<Args<'a>, Stop> {
    let Raw {
        given,
        spec_forms,
        user_spec,
        command,
        command_args,
    } = raw;
    let who = if spec_forms {
        Who::of(user_spec)
    } else {
        Who::Spec(user_spec)
    };
    if who == Who::Unchanged
        && let Some(option) = SWITCH_ONLY.into_iter().find(|&option| given.flag(option))
    {
        return Err(Stop::Usage(Usage::NothingToSwitch(option)));
    }
    let keep_caps = if given.flag(Opt::KeepCap) {
        Some(
            parse_cap_list(given.values(Opt::KeepCap))
                .map_err(|e| Stop::Usage(Usage::Capability(e)))?,
        )
    } else {
        None
    };
    let allow_new_privs = env_flag(&given, &env, Opt::AllowNewPrivs)?;
    if allow_new_privs && given.flag(Opt::NoNewPrivs) {
        return Err(Stop::Usage(Usage::PrivilegesContradict));
    }
    let umask = match given.values(Opt::Umask).last() {
        Some(text) => Some(parse_umask(text).map_err(|e| Stop::Usage(Usage::Limit(e)))?),
        None => None,
    };
    let ulimits = given
        .values(Opt::Ulimit)
        .map(parse_ulimit)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Stop::Usage(Usage::Limit(e)))?;
    let group_add: Vec<&str> = given
        .values(Opt::GroupAdd)
        .flat_map(|list| list.split(','))
        .collect();
    if group_add.iter().any(|name| name.is_empty()) {
        return Err(Stop::Usage(Usage::EmptyGroupName));
    }
    Ok(Args {
        verbose: given.flag(Opt::Verbose),
        if_privileged: given.flag(Opt::IfPrivileged),
        keep_stdio_owner: given.flag(Opt::KeepStdioOwner),
        group_add,
        group_of: given.values(Opt::GroupOf).collect(),
        umask,
        ulimits,
        no_new_privs: given.flag(Opt::NoNewPrivs),
        allow_new_privs,
        init: init_options(&given, &env)?,
        keep_caps,
        user_spec,
        who,
        command,
        command_args,
    })
}

/// A flag from the command line, or from its variable (1/0, true/false, yes/no).
fn env_flag<'a>(
    given: &Given<'a>,
    env: &impl Fn(&str) -> Option<&'a str>,
    option: Opt,
) -> Result<bool, Stop> {
    if given.flag(option) {
        return Ok(true);
    }
    let Some(variable) = option.row().variable else {
        return Ok(false);
    };
    match env(variable).map(str::trim) {
        None | Some("" | "0" | "false" | "no") => Ok(false),
        Some("1" | "true" | "yes") => Ok(true),
        Some(other) => Err(Stop::Usage(Usage::Variable {
            variable,
            value: other.into(),
        })),
    }
}

/// An init option's values: from the command line if given there, else from its variable
/// (a list variable holds comma-separated values).
fn env_values<'a>(
    given: &Given<'a>,
    env: &impl Fn(&str) -> Option<&'a str>,
    option: Opt,
) -> Vec<&'a str> {
    let on_command_line: Vec<&'a str> = given.values(option).collect();
    if !on_command_line.is_empty() {
        return on_command_line;
    }
    match option.row().variable.and_then(env) {
        Some(value) => value
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect(),
        None => Vec::new(),
    }
}

fn init_options<'a>(
    given: &Given<'a>,
    env: &impl Fn(&str) -> Option<&'a str>,
) -> Result<Option<InitOptions>, Stop> {
    let value = |e| Stop::Usage(Usage::Value(e));
    let of = |option| move |e| Stop::Usage(Usage::ValueOf(option, e));
    if !env_flag(given, env, Opt::Init)? {
        let mut needs_init = ROWS.iter().filter(|row| row.needs_init);
        return match needs_init.find(|row| given.flag(row.option)) {
            Some(row) => Err(Stop::Usage(Usage::NeedsInit(row.option))),
            None => Ok(None),
        };
    }
    let last = |option: Opt| env_values(given, env, option).pop();
    Ok(Some(InitOptions {
        single_child: env_flag(given, env, Opt::SingleChild)?,
        rewrites: env_values(given, env, Opt::Rewrite)
            .into_iter()
            .map(parse_rewrite)
            .collect::<Result<_, _>>()
            .map_err(value)?,
        remap_exit: env_values(given, env, Opt::RemapExit)
            .into_iter()
            .map(parse_remap)
            .collect::<Result<_, _>>()
            .map_err(value)?,
        grace: match last(Opt::Grace) {
            Some(text) => parse_duration(text).map_err(of(Opt::Grace))?,
            None => DEFAULT_GRACE,
        },
        stop_delay: match last(Opt::StopDelay) {
            Some(text) => parse_duration(text).map_err(of(Opt::StopDelay))?,
            None => Duration::ZERO,
        },
        pdeathsig: match last(Opt::Pdeathsig) {
            Some(text) => Some(parse_signal(text).map_err(of(Opt::Pdeathsig))?),
            None => None,
        },
    }))
}

#[cfg(test)]
mod tests;
