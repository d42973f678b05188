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

use crate::capability::{CapMask, parse_cap_list};
use crate::error::EXIT_FAILURE;
use crate::init::{DEFAULT_GRACE, Options as InitOptions};
use crate::limits::{Ulimit, parse_ulimit, parse_umask};
use crate::signals::{parse_duration, parse_remap, parse_rewrite, parse_signal};
use std::ffi::CStr;
use std::time::Duration;

pub use definition::command;

/// The environment variables options can also come from, for images whose CMD must not change
/// (the init's options, and `--allow-new-privs`). A flag on the command line wins over its
/// variable. sudrop removes them all from the command's environment.
pub const OPTION_ENV: &[(&str, &str)] = &[
    ("allow-new-privs", "SUDROP_ALLOW_NEW_PRIVS"),
    ("init", "SUDROP_INIT"),
    ("single-child", "SUDROP_SINGLE_CHILD"),
    ("rewrite", "SUDROP_REWRITE"),
    ("remap-exit", "SUDROP_REMAP_EXIT"),
    ("grace", "SUDROP_GRACE"),
    ("stop-delay", "SUDROP_STOP_DELAY"),
    ("pdeathsig", "SUDROP_PDEATHSIG"),
];

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
    pub user_spec: &'a CStr,
    pub command: &'a CStr,
    pub command_args: &'a [&'a CStr],
}

/// What the command line asks for when it does not ask to run a command.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// `--help` or `--version`: the text for stdout, exit 0.
    Print(&'static str),
    /// A usage error: the message for stderr, exit 125.
    Usage(String),
}

impl Stop {
    pub fn exit_code(&self) -> u8 {
        match self {
            Stop::Print(_) => 0,
            Stop::Usage(_) => EXIT_FAILURE,
        }
    }
}

/// `sudrop --help`: clap's rendering of [`definition::command`], byte for byte (a test
/// compares the two; `SUDROP_BLESS=1 cargo test --lib help` rewrites this file).
pub const HELP: &str = include_str!("help.txt");
pub const VERSION: &str = concat!("sudrop ", env!("CARGO_PKG_VERSION"), "\n");

/// One option of the definition, as the parser needs to know it.
pub struct OptionSpec {
    pub id: &'static str,
    pub long: &'static str,
    pub short: Option<u8>,
    pub takes_value: bool,
    /// The value's name in messages and `--help` (empty for a flag).
    pub value_name: &'static str,
    /// May be given more than once (values add up); clap refuses any other repeat.
    pub repeatable: bool,
}

const fn flag(id: &'static str, short: Option<u8>) -> OptionSpec {
    OptionSpec {
        id,
        long: id,
        short,
        takes_value: false,
        value_name: "",
        repeatable: false,
    }
}

const fn valued(id: &'static str, value_name: &'static str, repeatable: bool) -> OptionSpec {
    OptionSpec {
        id,
        long: id,
        short: None,
        takes_value: true,
        value_name,
        repeatable,
    }
}

/// Whether `word` is one of sudrop's own options as written on a command line (`--init`,
/// `--stop-delay=5s`, `-i`, `-v`), for the hint when one came after USER-SPEC.
pub fn is_own_option(word: &[u8]) -> bool {
    if let Some(long) = word.strip_prefix(b"--") {
        let name = long.split(|&b| b == b'=').next().unwrap_or_default();
        return OPTIONS.iter().any(|option| option.long.as_bytes() == name)
            || name == b"help"
            || name == b"version";
    }
    match word {
        [b'-', short] => {
            OPTIONS.iter().any(|option| option.short == Some(*short)) || *short == b'h'
        }
        _ => false,
    }
}

impl OptionSpec {
    /// `--grace <DURATION>` or `--verbose`, as clap names an option in its messages.
    fn display(&self) -> String {
        if self.takes_value {
            format!("--{} <{}>", self.long, self.value_name)
        } else {
            format!("--{}", self.long)
        }
    }
}

/// Every option but `--help` and `--version`, in the definition's order.
pub const OPTIONS: &[OptionSpec] = &[
    valued("keep-cap", "CAP[,CAP...]", true),
    flag("no-new-privs", None),
    flag("allow-new-privs", None),
    flag("keep-stdio-owner", None),
    flag("if-privileged", None),
    valued("group-add", "GROUP[,GROUP...]", true),
    valued("group-of", "PATH", true),
    valued("umask", "MODE", false),
    valued("ulimit", "NAME=SOFT[:HARD]", true),
    flag("init", Some(b'i')),
    flag("single-child", None),
    valued("rewrite", "FROM:TO", true),
    valued("remap-exit", "FROM:TO", true),
    valued("grace", "DURATION", false),
    valued("stop-delay", "DURATION", false),
    valued("pdeathsig", "SIG", false),
    flag("verbose", Some(b'v')),
];

/// The options as given: how often each flag, and every value, in order.
#[derive(Default)]
struct Given<'a> {
    counts: [u8; OPTIONS.len()],
    values: Vec<(usize, &'a str)>,
}

impl<'a> Given<'a> {
    /// Counts option `index`, given as `spelled`.
    fn count(&mut self, index: usize, spelled: &[u8]) -> Result<(), Stop> {
        let count = &mut self.counts[index];
        let option = &OPTIONS[index];
        if *count > 0 && !option.repeatable {
            let mut message = format!(
                "the argument '{}' cannot be used multiple times",
                option.display()
            );
            if !spelled.starts_with(b"--") {
                message += &format!(" (given as '{}')", quoted(spelled));
            }
            return Err(Stop::Usage(message));
        }
        *count = count.saturating_add(1);
        Ok(())
    }

    fn flag(&self, id: &str) -> bool {
        OPTIONS
            .iter()
            .position(|option| option.id == id)
            .is_some_and(|index| self.counts[index] > 0)
    }

    fn values(&self, id: &str) -> impl Iterator<Item = &'a str> + '_ {
        let index = OPTIONS.iter().position(|option| option.id == id);
        self.values
            .iter()
            .filter(move |(option, _)| Some(*option) == index)
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
            let unexpected =
                || Stop::Usage(format!("unexpected argument '--{}' found", quoted(name)));
            let index = match name {
                b"help" | b"version" if inline.is_some() => return Err(unexpected()),
                b"help" => return Err(Stop::Print(HELP)),
                b"version" => return Err(Stop::Print(VERSION)),
                _ => OPTIONS
                    .iter()
                    .position(|option| option.long.as_bytes() == name)
                    .ok_or_else(unexpected)?,
            };
            let option = &OPTIONS[index];
            given.count(index, arg)?;
            if !option.takes_value {
                if let Some(value) = inline {
                    return Err(Stop::Usage(format!(
                        "unexpected value '{}' for '--{}' found; no more were expected",
                        quoted(value),
                        option.long
                    )));
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
                        return Err(Stop::Usage(format!(
                            "a value is required for '{}' but none was supplied",
                            option.display()
                        )));
                    }
                },
            };
            let value = std::str::from_utf8(value).map_err(|_| {
                Stop::Usage(format!(
                    "invalid UTF-8 in the value of '--{}': '{}'",
                    option.long,
                    quoted(value)
                ))
            })?;
            given.values.push((index, value));
            continue;
        }
        if looks_like_option(arg) {
            for &letter in &arg[1..] {
                let index = match letter {
                    b'h' => return Err(Stop::Print(HELP)),
                    b'V' => return Err(Stop::Print(VERSION)),
                    _ => OPTIONS
                        .iter()
                        .position(|option| option.short == Some(letter))
                        .ok_or_else(|| {
                            let mut message =
                                format!("unexpected argument '-{}' found", quoted(&[letter]));
                            if arg.len() > 2 {
                                message += &format!(" (in '{}')", quoted(arg));
                            }
                            Stop::Usage(message)
                        })?,
                };
                given.count(index, &[b'-', letter])?;
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
    user_spec: &'a CStr,
    command: &'a CStr,
    command_args: &'a [&'a CStr],
}

fn read<'a>(argv: &'a [&'a CStr]) -> Result<Raw<'a>, Stop> {
    let (given, first_operand) = read_options(argv)?;
    match argv.get(first_operand..).unwrap_or_default() {
        [] => Err(Stop::Usage("missing USER-SPEC and COMMAND".into())),
        [_] => Err(Stop::Usage("missing COMMAND after USER-SPEC".into())),
        [user_spec, command, command_args @ ..] => Ok(Raw {
            given,
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
    let Raw {
        given,
        user_spec,
        command,
        command_args,
    } = read(argv)?;
    let keep_caps = if given.flag("keep-cap") {
        Some(parse_cap_list(given.values("keep-cap")).map_err(Stop::Usage)?)
    } else {
        None
    };
    let allow_new_privs = env_flag(&given, &env, "allow-new-privs")?;
    if allow_new_privs && given.flag("no-new-privs") {
        return Err(Stop::Usage(
            "--no-new-privs and --allow-new-privs (or SUDROP_ALLOW_NEW_PRIVS) contradict each other"
                .into(),
        ));
    }
    let umask = match given.values("umask").last() {
        Some(text) => Some(parse_umask(text).map_err(Stop::Usage)?),
        None => None,
    };
    let ulimits = given
        .values("ulimit")
        .map(parse_ulimit)
        .collect::<Result<Vec<_>, _>>()
        .map_err(Stop::Usage)?;
    let group_add: Vec<&str> = given
        .values("group-add")
        .flat_map(|list| list.split(','))
        .collect();
    if group_add.iter().any(|name| name.is_empty()) {
        return Err(Stop::Usage(
            "--group-add: an empty group name in the list".into(),
        ));
    }
    Ok(Args {
        verbose: given.flag("verbose"),
        if_privileged: given.flag("if-privileged"),
        keep_stdio_owner: given.flag("keep-stdio-owner"),
        group_add,
        group_of: given.values("group-of").collect(),
        umask,
        ulimits,
        no_new_privs: given.flag("no-new-privs"),
        allow_new_privs,
        init: init_options(&given, &env)?,
        keep_caps,
        user_spec,
        command,
        command_args,
    })
}

fn variable(id: &str) -> Option<&'static str> {
    OPTION_ENV
        .iter()
        .find(|(option, _)| *option == id)
        .map(|(_, variable)| *variable)
}

/// A flag from the command line, or from its variable (1/0, true/false, yes/no).
fn env_flag<'a>(
    given: &Given<'a>,
    env: &impl Fn(&str) -> Option<&'a str>,
    id: &str,
) -> Result<bool, Stop> {
    if given.flag(id) {
        return Ok(true);
    }
    let Some(variable) = variable(id) else {
        return Ok(false);
    };
    match env(variable).map(str::trim) {
        None | Some("" | "0" | "false" | "no") => Ok(false),
        Some("1" | "true" | "yes") => Ok(true),
        Some(other) => Err(Stop::Usage(format!("{variable}='{other}': use 1 or 0"))),
    }
}

/// An init option's values: from the command line if given there, else from its variable
/// (a list variable holds comma-separated values).
fn env_values<'a>(
    given: &Given<'a>,
    env: &impl Fn(&str) -> Option<&'a str>,
    id: &str,
) -> Vec<&'a str> {
    let on_command_line: Vec<&'a str> = given.values(id).collect();
    if !on_command_line.is_empty() {
        return on_command_line;
    }
    match variable(id).and_then(env) {
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
    let usage = Stop::Usage;
    if !env_flag(given, env, "init")? {
        let init_only = [
            "single-child",
            "rewrite",
            "remap-exit",
            "grace",
            "stop-delay",
            "pdeathsig",
        ];
        return match init_only.into_iter().find(|id| given.flag(id)) {
            Some(id) => Err(usage(format!("--{id} needs --init"))),
            None => Ok(None),
        };
    }
    let last = |id: &str| env_values(given, env, id).pop();
    Ok(Some(InitOptions {
        single_child: env_flag(given, env, "single-child")?,
        rewrites: env_values(given, env, "rewrite")
            .into_iter()
            .map(parse_rewrite)
            .collect::<Result<_, _>>()
            .map_err(usage)?,
        remap_exit: env_values(given, env, "remap-exit")
            .into_iter()
            .map(parse_remap)
            .collect::<Result<_, _>>()
            .map_err(usage)?,
        grace: match last("grace") {
            Some(text) => parse_duration(text).map_err(|e| usage(format!("--grace: {e}")))?,
            None => DEFAULT_GRACE,
        },
        stop_delay: match last("stop-delay") {
            Some(text) => parse_duration(text).map_err(|e| usage(format!("--stop-delay: {e}")))?,
            None => Duration::ZERO,
        },
        pdeathsig: match last("pdeathsig") {
            Some(text) => Some(parse_signal(text).map_err(|e| usage(format!("--pdeathsig: {e}")))?),
            None => None,
        },
    }))
}

#[cfg(test)]
mod tests;
