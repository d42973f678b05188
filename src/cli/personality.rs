//! sudrop under another tool's name: `gosu`, `su-exec`, `tini` (also `tini-static` and
//! `docker-init`), `catatonit` (also `podman-init`) and `dumb-init`. Installed or linked under
//! one of these names, sudrop reads that tool's command line and variables and answers
//! `--help`, `--version` and usage errors in its shape and with its exit status, so scripts and
//! engines that call the tool keep working; what runs is sudrop's, with its guarantees.
//!
//! Each grammar is a table of the tool's flags, each naming the row of [`super::options`] it
//! means (or what else it means), and a reader that turns a command line into the same
//! raw command line sudrop's own grammar gives; from there everything is shared. The droppers'
//! grammar is sudrop's `USER-SPEC COMMAND` without options; the inits run with `--init` and
//! USER-SPEC `-`, which changes no identity, capability, descriptor or signal state.

use super::options::Opt;
use super::{Given, Raw, Stop};
use std::ffi::CStr;
use std::fmt::Write as _;

/// Whose command line sudrop reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Personality {
    Sudrop,
    Gosu,
    SuExec,
    Tini,
    Catatonit,
    DumbInit,
}

/// The names sudrop answers to besides its own, and whose command line each one means.
pub const NAMES: [(&str, Personality); 8] = [
    ("gosu", Personality::Gosu),
    ("su-exec", Personality::SuExec),
    ("tini", Personality::Tini),
    ("tini-static", Personality::Tini),
    ("docker-init", Personality::Tini),
    ("catatonit", Personality::Catatonit),
    ("podman-init", Personality::Catatonit),
    ("dumb-init", Personality::DumbInit),
];

impl Personality {
    /// The personality of a program called as `argv0` (its last path component decides).
    pub fn of(argv0: &[u8]) -> Personality {
        let name = argv0.rsplit(|&b| b == b'/').next().unwrap_or_default();
        NAMES
            .iter()
            .find(|(known, _)| known.as_bytes() == name)
            .map_or(Personality::Sudrop, |&(_, personality)| personality)
    }

    /// gosu or su-exec: a privilege dropper, not an init.
    pub fn is_dropper(self) -> bool {
        matches!(self, Personality::Gosu | Personality::SuExec)
    }

    /// The tool's own grammar; `None` for sudrop's.
    pub fn grammar(self) -> Option<&'static Grammar> {
        GRAMMARS.iter().find(|grammar| grammar.personality == self)
    }
}

/// What one of the tool's flags means to sudrop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Means {
    /// One of sudrop's options: its row says what it does, its parser reads the value.
    Same(Opt),
    /// Forward signals to the command's whole process group (these tools forward to the
    /// command alone unless asked; `--single-child` is sudrop's spelling of that default).
    ProcessGroup,
    /// Something sudrop always does; the flag is accepted and changes nothing.
    Always(&'static str),
    /// Not offered: refused with this reason.
    Refused(&'static str),
    Help,
    Version,
    License,
}

/// One flag of the tool's command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag {
    pub short: Option<u8>,
    pub long: Option<&'static str>,
    /// The value's name, for a flag that takes one.
    pub value: Option<&'static str>,
    pub means: Means,
}

/// What one of the tool's environment variables means to sudrop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// Set at all (any value): as the flag meaning `Means::ProcessGroup`.
    ProcessGroupIfSet,
    /// A number of at least 2: `--verbose` (tini's verbosity levels).
    VerboseFromLevel,
    /// Exactly this value: `--verbose`.
    VerboseIf(&'static str),
    /// Set at all: `--verbose`.
    VerboseIfSet,
    /// Exactly this value: `--single-child` (dumb-init's `DUMB_INIT_SETSID=0`).
    SingleChildIf(&'static str),
    /// Read by the tool for something sudrop always does.
    Always(&'static str),
}

/// One environment variable of the tool's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variable {
    pub name: &'static str,
    pub setting: Setting,
}

/// A tool's command line, as sudrop reads it under the tool's name.
#[derive(Debug, PartialEq, Eq)]
pub struct Grammar {
    pub personality: Personality,
    /// The name in messages and help.
    pub name: &'static str,
    pub usage: &'static str,
    pub about: &'static str,
    /// Whether it runs as an init (`--init`, USER-SPEC `-`) rather than a dropper.
    pub init: bool,
    /// Whether signals go to the command alone unless a flag asks for the group.
    pub single_child_by_default: bool,
    pub flags: &'static [Flag],
    pub variables: &'static [Variable],
    /// The exit status of a usage error.
    pub usage_status: u8,
    /// Where `--version` and `--help` are written.
    pub answers_on_stderr: bool,
}

const fn short(letter: u8, means: Means) -> Flag {
    Flag {
        short: Some(letter),
        long: None,
        value: None,
        means,
    }
}

const fn valued(letter: u8, value: &'static str, means: Means) -> Flag {
    Flag {
        value: Some(value),
        ..short(letter, means)
    }
}

const fn long(self_: Flag, name: &'static str) -> Flag {
    Flag {
        long: Some(name),
        ..self_
    }
}

const SUBREAPER: &str = "sudrop is a child subreaper whenever it is not PID 1";

const DROPPER: &str = "switch to USER-SPEC and execute COMMAND, with every capability dropped, \
                       no_new_privs for a non-root user and the TIOCSTI filter";

const INIT: &str = "run COMMAND under sudrop's init, changing no identity, capability, \
                    descriptor or signal state; when COMMAND exits, what it left behind gets \
                    SIGTERM and the grace period";

/// gosu's and su-exec's grammar: no options, `USER-SPEC COMMAND [ARG]...`.
const fn dropper(personality: Personality, name: &'static str, usage: &'static str) -> Grammar {
    Grammar {
        personality,
        name,
        usage,
        about: DROPPER,
        init: false,
        single_child_by_default: false,
        flags: &[],
        variables: &[],
        usage_status: 1,
        answers_on_stderr: false,
    }
}

pub const GRAMMARS: [Grammar; 5] = [
    dropper(Personality::Gosu, "gosu", "gosu USER-SPEC COMMAND [ARG]..."),
    dropper(
        Personality::SuExec,
        "su-exec",
        "su-exec USER-SPEC COMMAND [ARG]...",
    ),
    Grammar {
        personality: Personality::Tini,
        name: "tini",
        usage: "tini [OPTIONS] [--] COMMAND [ARG]...",
        about: INIT,
        init: true,
        single_child_by_default: true,
        flags: &[
            short(b'h', Means::Help),
            short(b's', Means::Always(SUBREAPER)),
            valued(b'p', "SIGNAL", Means::Same(Opt::Pdeathsig)),
            short(b'v', Means::Same(Opt::Verbose)),
            short(b'w', Means::Same(Opt::Verbose)),
            short(b'g', Means::ProcessGroup),
            valued(b'e', "EXIT_CODE", Means::Same(Opt::RemapExit)),
            short(b'l', Means::License),
        ],
        variables: &[
            Variable {
                name: "TINI_SUBREAPER",
                setting: Setting::Always(SUBREAPER),
            },
            Variable {
                name: "TINI_VERBOSITY",
                setting: Setting::VerboseFromLevel,
            },
            Variable {
                name: "TINI_KILL_PROCESS_GROUP",
                setting: Setting::ProcessGroupIfSet,
            },
        ],
        usage_status: 1,
        answers_on_stderr: false,
    },
    Grammar {
        personality: Personality::Catatonit,
        name: "catatonit",
        usage: "catatonit [OPTIONS] [--] COMMAND [ARG]...",
        about: INIT,
        init: true,
        single_child_by_default: true,
        flags: &[
            short(b'h', Means::Help),
            short(b'g', Means::ProcessGroup),
            short(b'L', Means::License),
            short(
                b'P',
                Means::Refused("pause mode (-P) is not offered: sudrop always runs a command"),
            ),
            long(short(b'V', Means::Version), "version"),
        ],
        variables: &[Variable {
            name: "CATATONIT_DEBUG",
            setting: Setting::VerboseIfSet,
        }],
        usage_status: 1,
        answers_on_stderr: false,
    },
    Grammar {
        personality: Personality::DumbInit,
        name: "dumb-init",
        usage: "dumb-init [OPTIONS] COMMAND [ARG]...",
        about: INIT,
        init: true,
        single_child_by_default: false,
        flags: &[
            long(short(b'h', Means::Help), "help"),
            long(short(b'c', Means::Same(Opt::SingleChild)), "single-child"),
            long(valued(b'r', "s:r", Means::Same(Opt::Rewrite)), "rewrite"),
            long(short(b'v', Means::Same(Opt::Verbose)), "verbose"),
            long(short(b'V', Means::Version), "version"),
        ],
        variables: &[
            Variable {
                name: "DUMB_INIT_SETSID",
                setting: Setting::SingleChildIf("0"),
            },
            Variable {
                name: "DUMB_INIT_DEBUG",
                setting: Setting::VerboseIf("1"),
            },
        ],
        usage_status: 1,
        answers_on_stderr: true,
    },
];

/// The program name sudrop stands in for, for USER-SPEC `-` given by an init's grammar.
const NOBODY_TO_SWITCH: &CStr = c"-";

impl Grammar {
    /// Every name that means this grammar.
    pub fn names(&self) -> Vec<&'static str> {
        NAMES
            .iter()
            .filter(|(_, personality)| *personality == self.personality)
            .map(|(name, _)| *name)
            .collect()
    }

    /// The answer to `--version`, in the tool's shape where something parses it: `docker info`
    /// reads `tini version X - git.Y` and shows Y, which may hold no dot (catatonit prints
    /// `tini version X_catatonit` for the same reader).
    pub fn version(&self) -> String {
        let version = env!("CARGO_PKG_VERSION");
        match self.personality {
            Personality::Tini | Personality::Catatonit => {
                let commit = version.replace('.', "_");
                format!("tini version {version}_sudrop - git.sudrop-{commit}\n")
            }
            Personality::DumbInit => format!("dumb-init v{version} (sudrop)\n"),
            _ => format!("{version} (sudrop {version} as {})\n", self.name),
        }
    }

    /// `-h`: the tool's usage, each flag with the sudrop option it is and that option's help.
    pub fn help(&self) -> String {
        let mut text = format!(
            "Usage: {}\n\nsudrop as {}: {}.\n",
            self.usage, self.name, self.about
        );
        if !self.flags.is_empty() {
            text.push_str("\nOptions:\n");
        }
        for flag in self.flags {
            let mut spelled = String::new();
            if let Some(letter) = flag.short {
                let _ = write!(spelled, "-{}", char::from(letter));
            }
            if let Some(name) = flag.long {
                if !spelled.is_empty() {
                    spelled.push_str(", ");
                }
                let _ = write!(spelled, "--{name}");
            }
            if let Some(value) = flag.value {
                let _ = write!(spelled, " {value}");
            }
            let _ = writeln!(text, "  {spelled:<22}{}", describe(flag.means));
        }
        if !self.variables.is_empty() {
            text.push_str("\nEnvironment:\n");
        }
        for variable in self.variables {
            let _ = writeln!(
                text,
                "  {:<24}{}",
                variable.name,
                describe_setting(variable.setting)
            );
        }
        let _ = write!(
            text,
            "\nsudrop's own variables apply too (SUDROP_GRACE, SUDROP_STOP_DELAY, ...: see \
             sudrop(1)).\nExit status: {} for a usage error; 125 when sudrop itself fails; \
             126/127 when COMMAND cannot be executed or is not found; otherwise COMMAND's{}.\n",
            self.usage_status,
            if self.init {
                " (128+N when signal N ended it)"
            } else {
                ""
            }
        );
        text
    }

    /// A usage error in the tool's shape: the message, the usage line, its exit status.
    pub fn usage_error(&self, message: &dyn std::fmt::Display) -> Stop {
        let mut text = format!("{}: {message}\nUsage: {}\n", self.name, self.usage);
        // su-exec has no help of its own.
        if self.personality != Personality::SuExec {
            let _ = writeln!(text, "Try '{} -h' for more information.", self.name);
        }
        Stop::Say {
            text,
            stderr: true,
            status: self.usage_status,
        }
    }

    fn answer(&self, text: String) -> Stop {
        Stop::Say {
            text,
            stderr: self.answers_on_stderr,
            status: 0,
        }
    }

    /// Reads `argv` (program name first) by this grammar.
    pub(super) fn read<'a>(
        &self,
        argv: &'a [&'a CStr],
        env: &impl Fn(&str) -> Option<&'a str>,
    ) -> Result<Raw<'a>, Stop> {
        if self.init {
            self.read_init(argv, env)
        } else {
            self.read_dropper(argv)
        }
    }

    /// gosu and su-exec: no options, `USER-SPEC COMMAND [ARG]...`; gosu answers `--help`,
    /// `-h`, `-?`, `--version` and `-v` as its first argument.
    fn read_dropper<'a>(&self, argv: &'a [&'a CStr]) -> Result<Raw<'a>, Stop> {
        if self.personality == Personality::Gosu {
            match argv.get(1).map(|arg| arg.to_bytes()) {
                Some(b"--help" | b"-h" | b"-?") => return Err(self.answer(self.help())),
                Some(b"--version" | b"-v") => return Err(self.answer(self.version())),
                _ => {}
            }
        }
        match argv {
            [_, user_spec, command, command_args @ ..] => Ok(Raw {
                given: Given::default(),
                // `gosu - id` must fail as in gosu, never run as the caller.
                spec_forms: false,
                user_spec,
                command,
                command_args,
            }),
            _ => Err(self.usage_error(&"missing USER-SPEC or COMMAND")),
        }
    }

    /// The inits: flags until `--` or the first operand, which is COMMAND.
    fn read_init<'a>(
        &self,
        argv: &'a [&'a CStr],
        env: &impl Fn(&str) -> Option<&'a str>,
    ) -> Result<Raw<'a>, Stop> {
        let mut given = Given::default();
        let mut group = !self.single_child_by_default;
        // tini answers --version only as its sole argument.
        if self.personality == Personality::Tini
            && let [_, only] = argv
            && only.to_bytes() == b"--version"
        {
            return Err(self.answer(self.version()));
        }
        let mut next = 1;
        while let Some(arg) = argv.get(next).map(|arg| arg.to_bytes()) {
            if arg == b"--" {
                next += 1;
                break;
            }
            if arg.len() < 2 || arg[0] != b'-' {
                break;
            }
            next += 1;
            // (flag, value written inside the argument)
            let mut found: Vec<(&Flag, Option<&'a [u8]>)> = Vec::new();
            if let Some(name) = arg.strip_prefix(b"--") {
                let (name, inline) = match name.iter().position(|&b| b == b'=') {
                    Some(at) => (&name[..at], Some(&name[at + 1..])),
                    None => (name, None),
                };
                let flag = self
                    .flags
                    .iter()
                    .find(|flag| flag.long.is_some_and(|long| long.as_bytes() == name))
                    .ok_or_else(|| {
                        self.usage_error(&format_args!(
                            "unrecognized option '--{}'",
                            String::from_utf8_lossy(name)
                        ))
                    })?;
                found.push((flag, inline));
            } else {
                let letters = &arg[1..];
                for (at, letter) in letters.iter().enumerate() {
                    let flag = self
                        .flags
                        .iter()
                        .find(|flag| flag.short == Some(*letter))
                        .ok_or_else(|| {
                            self.usage_error(&format_args!(
                                "invalid option -- '{}'",
                                char::from(*letter)
                            ))
                        })?;
                    if flag.value.is_some() {
                        let rest = &letters[at + 1..];
                        found.push((flag, (!rest.is_empty()).then_some(rest)));
                        break;
                    }
                    found.push((flag, None));
                }
            }
            for (flag, inline) in found {
                let value = match (flag.value, inline) {
                    (None, _) => None,
                    (Some(_), Some(value)) => Some(value),
                    (Some(name), None) => {
                        let value = argv.get(next).map(|arg| arg.to_bytes()).ok_or_else(|| {
                            self.usage_error(&format_args!("option requires {name}"))
                        })?;
                        next += 1;
                        Some(value)
                    }
                };
                match flag.means {
                    Means::Same(option) => {
                        // Repeats add up or are idempotent here, as in the tools' getopt loops.
                        given.counts[option as usize] =
                            given.counts[option as usize].saturating_add(1);
                        if let Some(value) = value {
                            let value = std::str::from_utf8(value).map_err(|_| {
                                self.usage_error(&format_args!("a value that is not UTF-8"))
                            })?;
                            given.values.push((option, value));
                        }
                    }
                    Means::ProcessGroup => group = true,
                    Means::Always(_) => {}
                    Means::Refused(reason) => return Err(self.usage_error(&reason)),
                    Means::Help => return Err(self.answer(self.help())),
                    Means::Version => return Err(self.answer(self.version())),
                    Means::License => return Err(self.answer(license())),
                }
            }
        }
        for variable in self.variables {
            let value = env(variable.name);
            match (variable.setting, value) {
                (_, None) | (Setting::Always(_), _) => {}
                (Setting::ProcessGroupIfSet, Some(_)) => group = true,
                (Setting::VerboseIfSet, Some(_)) => given.counts[Opt::Verbose as usize] = 1,
                (Setting::VerboseIf(wanted), Some(value)) if value == wanted => {
                    given.counts[Opt::Verbose as usize] = 1
                }
                (Setting::VerboseFromLevel, Some(value))
                    if value.trim().parse::<i64>().is_ok_and(|level| level >= 2) =>
                {
                    given.counts[Opt::Verbose as usize] = 1
                }
                (Setting::SingleChildIf(wanted), Some(value)) if value == wanted => {
                    given.counts[Opt::SingleChild as usize] = 1
                }
                _ => {}
            }
        }
        if !group {
            given.counts[Opt::SingleChild as usize] = 1;
        }
        given.counts[Opt::Init as usize] = 1;
        match argv.get(next..).unwrap_or_default() {
            [command, command_args @ ..] => Ok(Raw {
                given,
                spec_forms: true,
                user_spec: NOBODY_TO_SWITCH,
                command,
                command_args,
            }),
            [] => Err(self.usage_error(&"missing COMMAND")),
        }
    }
}

/// `-l`/`-L`: the licence, in a line.
fn license() -> String {
    format!(
        "sudrop {} is licensed under {} (either, at your option); the texts are in the \
         source and in /usr/share/doc/sudrop/copyright.\n",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_LICENSE")
    )
}

/// A flag's line in the tool's help, made from the row it means.
pub fn describe(means: Means) -> String {
    match means {
        Means::Same(option) => {
            let row = option.row();
            format!("sudrop's --{}: {}", row.long, row.help)
        }
        Means::ProcessGroup => {
            "Forward signals to COMMAND's process group, not COMMAND alone (sudrop's default)"
                .into()
        }
        Means::Always(what) => format!("Accepted; {what}"),
        Means::Refused(reason) => format!("Refused: {reason}"),
        Means::Help => "Print this help".into(),
        Means::Version => "Print the version, in the form engines parse".into(),
        Means::License => "Print the licence".into(),
    }
}

/// A variable's line in the tool's help.
pub fn describe_setting(setting: Setting) -> String {
    match setting {
        Setting::ProcessGroupIfSet => describe(Means::ProcessGroup) + " (set to anything)",
        Setting::VerboseFromLevel => "2 or more: sudrop's --verbose".into(),
        Setting::VerboseIf(value) => format!("{value}: sudrop's --verbose"),
        Setting::VerboseIfSet => "Set to anything: sudrop's --verbose".into(),
        Setting::SingleChildIf(value) => format!(
            "{value}: sudrop's --single-child: {}",
            Opt::SingleChild.row().help
        ),
        Setting::Always(what) => format!("Accepted; {what}"),
    }
}

/// Parses `argv` by `personality`'s grammar, then as sudrop's own options would be.
pub fn parse<'a>(
    personality: Personality,
    argv: &'a [&'a CStr],
    env: impl Fn(&str) -> Option<&'a str>,
) -> Result<super::Args<'a>, Stop> {
    let Some(grammar) = personality.grammar() else {
        return super::parse(argv, env);
    };
    let raw = grammar.read(argv, &env)?;
    super::interpret(raw, env).map_err(|stop| match stop {
        Stop::Usage(usage) => grammar.usage_error(&usage),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Args, Who};
    use std::ffi::CString;

    fn argv(words: &[&str]) -> Vec<CString> {
        words.iter().map(|w| CString::new(*w).unwrap()).collect()
    }

    fn parse_with<'a>(
        personality: Personality,
        argv: &'a [&'a CStr],
        vars: &'a [(&'a str, &'a str)],
    ) -> Result<Args<'a>, Stop> {
        parse(personality, argv, move |name| {
            vars.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
        })
    }

    #[test]
    fn names_choose_the_grammar_by_the_last_path_component() {
        assert_eq!(Personality::of(b"/usr/local/bin/gosu"), Personality::Gosu);
        assert_eq!(Personality::of(b"/sbin/docker-init"), Personality::Tini);
        assert_eq!(Personality::of(b"/run/podman-init"), Personality::Catatonit);
        assert_eq!(Personality::of(b"dumb-init"), Personality::DumbInit);
        assert_eq!(Personality::of(b"su-exec"), Personality::SuExec);
        assert_eq!(Personality::of(b"/usr/bin/sudrop"), Personality::Sudrop);
        assert_eq!(Personality::of(b"gosu-old"), Personality::Sudrop);
        assert_eq!(Personality::of(b""), Personality::Sudrop);
    }

    #[test]
    fn tini_as_the_engine_calls_it_is_an_init_that_switches_nobody() {
        let words = argv(&["/sbin/docker-init", "--", "redis-server", "--port", "1"]);
        let refs: Vec<&CStr> = words.iter().map(|w| w.as_c_str()).collect();
        let args = parse_with(Personality::Tini, &refs, &[]).expect("parsed");
        assert_eq!(args.who, Who::Unchanged);
        let init = args.init.expect("init mode");
        assert!(init.single_child, "tini forwards to the child unless -g");
        assert_eq!(args.command.to_bytes(), b"redis-server");
        assert_eq!(args.command_args.len(), 2);
        assert!(args.keep_caps.is_none() && !args.no_new_privs);
    }

    #[test]
    fn tini_flags_mean_their_rows() {
        let words = argv(&[
            "tini", "-g", "-p", "SIGTERM", "-e", "143", "-e143", "-sv", "x",
        ]);
        let refs: Vec<&CStr> = words.iter().map(|w| w.as_c_str()).collect();
        let args = parse_with(Personality::Tini, &refs, &[]).expect("parsed");
        let init = args.init.expect("init");
        assert!(!init.single_child);
        assert_eq!(init.pdeathsig, Some(crate::signals::Signal::TERM));
        assert_eq!(init.remap_exit, vec![(143, 0), (143, 0)]);
        assert!(args.verbose);
        // The process group from the environment, as TINI_KILL_PROCESS_GROUP asks.
        let words = argv(&["tini", "--", "x"]);
        let refs: Vec<&CStr> = words.iter().map(|w| w.as_c_str()).collect();
        let vars = [("TINI_KILL_PROCESS_GROUP", "0"), ("TINI_VERBOSITY", "3")];
        let args = parse_with(Personality::Tini, &refs, &vars).expect("parsed");
        assert!(!args.init.expect("init").single_child);
        assert!(args.verbose);
    }

    #[test]
    fn tini_answers_version_alone_and_refuses_in_its_shape() {
        let stop = |words: &[&str]| {
            let words = argv(words);
            let refs: Vec<&CStr> = words.iter().map(|w| w.as_c_str()).collect();
            match parse_with(Personality::Tini, &refs, &[]) {
                Err(Stop::Say {
                    text,
                    stderr,
                    status,
                }) => (text, stderr, status),
                other => panic!("{words:?}: {other:?}"),
            }
        };
        let (text, stderr, status) = stop(&["tini", "--version"]);
        assert_eq!(text, "tini version 0.1.0_sudrop - git.sudrop-0_1_0\n");
        assert!(!stderr && status == 0);
        assert_eq!(stop(&["tini"]).2, 1);
        assert_eq!(stop(&["tini", "-x", "true"]).2, 1);
        assert_eq!(stop(&["tini", "-p"]).2, 1);
        assert_eq!(stop(&["tini", "-p", "BOGUS", "true"]).2, 1);
        assert!(stop(&["tini", "-h"]).0.contains("--pdeathsig"));
    }

    #[test]
    fn dumb_init_reads_its_long_flags_and_variables() {
        let words = argv(&[
            "dumb-init",
            "--rewrite",
            "15:3",
            "-r",
            "2:0",
            "sh",
            "-c",
            "x",
        ]);
        let refs: Vec<&CStr> = words.iter().map(|w| w.as_c_str()).collect();
        let args = parse_with(Personality::DumbInit, &refs, &[]).expect("parsed");
        let init = args.init.expect("init");
        assert!(!init.single_child, "dumb-init's setsid mode is the group");
        assert_eq!(init.rewrites.len(), 2);
        assert_eq!(
            args.command_args.len(),
            2,
            "no permutation: -c is the command's"
        );
        let words = argv(&["dumb-init", "x"]);
        let refs: Vec<&CStr> = words.iter().map(|w| w.as_c_str()).collect();
        let vars = [("DUMB_INIT_SETSID", "0")];
        let args = parse_with(Personality::DumbInit, &refs, &vars).expect("parsed");
        assert!(args.init.expect("init").single_child);
        let vars = [("DUMB_INIT_SETSID", "false")];
        let args = parse_with(Personality::DumbInit, &refs, &vars).expect("parsed");
        assert!(
            !args.init.expect("init").single_child,
            "only 0 means no setsid"
        );
        let words = argv(&["dumb-init", "--version"]);
        let refs: Vec<&CStr> = words.iter().map(|w| w.as_c_str()).collect();
        assert!(matches!(
            parse_with(Personality::DumbInit, &refs, &[]),
            Err(Stop::Say {
                stderr: true,
                status: 0,
                ..
            })
        ));
    }

    #[test]
    fn catatonit_refuses_pause_mode() {
        let words = argv(&["catatonit", "-P"]);
        let refs: Vec<&CStr> = words.iter().map(|w| w.as_c_str()).collect();
        assert!(matches!(
            parse_with(Personality::Catatonit, &refs, &[]),
            Err(Stop::Say { status: 1, .. })
        ));
    }

    #[test]
    fn gosu_reads_spec_and_command_without_options() {
        let words = argv(&["gosu", "--init", "x"]);
        let refs: Vec<&CStr> = words.iter().map(|w| w.as_c_str()).collect();
        let args = parse_with(Personality::Gosu, &refs, &[]).expect("parsed");
        assert_eq!(args.user_spec.to_bytes(), b"--init", "gosu has no options");
        assert!(args.init.is_none());
        for (words, status) in [
            (&["gosu"][..], 1),
            (&["gosu", "app"][..], 1),
            (&["gosu", "--version"][..], 0),
            (&["gosu", "-h"][..], 0),
        ] {
            let words = argv(words);
            let refs: Vec<&CStr> = words.iter().map(|w| w.as_c_str()).collect();
            match parse_with(Personality::Gosu, &refs, &[]) {
                Err(stop) => assert_eq!(stop.exit_code(), status, "{words:?}"),
                Ok(_) => panic!("{words:?} ran"),
            }
        }
        let words = argv(&["su-exec", "--help"]);
        let refs: Vec<&CStr> = words.iter().map(|w| w.as_c_str()).collect();
        assert_eq!(
            parse_with(Personality::SuExec, &refs, &[])
                .err()
                .map(|s| s.exit_code()),
            Some(1),
            "su-exec has no --help"
        );
    }

    #[test]
    fn every_flag_that_means_an_option_names_a_row_that_takes_the_same_kind() {
        for grammar in &GRAMMARS {
            for flag in grammar.flags {
                if let Means::Same(option) = flag.means {
                    assert_eq!(
                        flag.value.is_some(),
                        option.row().value.is_some(),
                        "{} -{:?}",
                        grammar.name,
                        flag.short.map(char::from)
                    );
                }
            }
        }
    }
}
