//! The command line: one clap definition serves parsing, `--help`, and later the man page and
//! completions.
//!
//! Options come only before USER-SPEC (`--` may end them). USER-SPEC and everything after it
//! are one trailing list, so clap stops looking for options at USER-SPEC and the command's own
//! arguments are passed on untouched: `sudrop app echo -i --init x` prints `-i --init x`.

use crate::capability::{CapMask, parse_cap_list};
use crate::error::EXIT_FAILURE;
use crate::signals::{parse_duration, parse_remap, parse_rewrite, parse_signal};
use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};
use std::ffi::OsString;
use std::time::Duration;

/// What `--init` and its options ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitOptions {
    /// Forward to the command alone instead of its process group.
    pub single_child: bool,
    /// Signal rewrites, first match wins; `None` drops the signal.
    pub rewrites: Vec<(i32, Option<i32>)>,
    pub remap_exit: Vec<(u8, u8)>,
    /// How long leftovers get between SIGTERM and SIGKILL.
    pub grace: Duration,
    pub pdeathsig: Option<i32>,
}

pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// Each init option's environment variable, for images whose CMD must not change. A flag on
/// the command line wins over its variable. sudrop removes them from the command's environment.
pub const INIT_ENV: &[(&str, &str)] = &[
    ("init", "SUDROP_INIT"),
    ("single-child", "SUDROP_SINGLE_CHILD"),
    ("rewrite", "SUDROP_REWRITE"),
    ("remap-exit", "SUDROP_REMAP_EXIT"),
    ("grace", "SUDROP_GRACE"),
    ("pdeathsig", "SUDROP_PDEATHSIG"),
];

#[derive(Debug)]
pub struct Args {
    pub verbose: bool,
    pub no_new_privs: bool,
    /// `--init`: `None` in exec mode.
    pub init: Option<InitOptions>,
    /// `--keep-cap`: `None` when not given.
    pub keep_caps: Option<CapMask>,
    pub user_spec: OsString,
    pub command: OsString,
    pub command_args: Vec<OsString>,
}

/// What the command line asks for when it does not ask to run a command.
#[derive(Debug)]
pub enum Stop {
    /// `--help` or `--version`: the text for stdout, exit 0.
    Print(String),
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

const ABOUT: &str = "Run a command as another user with capabilities dropped, by exec or under an unprivileged init";

const AFTER_HELP: &str = "\
USER-SPEC is USER, USER:GROUP, :GROUP, USER: or empty (the current user). A part made only of
digits is an id and is never looked up as a name. Resolution follows gosu: without GROUP the
supplementary groups are USER's memberships in /etc/group; with GROUP there are none.

With --init, sudrop switches to USER-SPEC itself, then forks COMMAND in its own process group,
forwards every signal but SIGCHLD to that group, reaps every zombie, and when COMMAND exits gives
the processes it left behind SIGTERM and the --grace period before SIGKILL. Each init option can
also come from the environment: SUDROP_INIT=1, SUDROP_SINGLE_CHILD=1, SUDROP_REWRITE=TERM:QUIT,...,
SUDROP_REMAP_EXIT=143:0,..., SUDROP_GRACE=30s, SUDROP_PDEATHSIG=TERM (a flag wins).

Exit status:
  125  sudrop itself failed (usage, user spec, user database, privilege switch)
  126  COMMAND was found but cannot be executed
  127  COMMAND was not found
  otherwise the exit status of COMMAND (in exec mode sudrop is replaced by it; with --init,
  128+N when signal N killed it, after --remap-exit)";

pub fn command() -> Command {
    Command::new("sudrop")
        .version(env!("CARGO_PKG_VERSION"))
        .about(ABOUT)
        .override_usage("sudrop [OPTIONS] USER-SPEC COMMAND [ARG]...")
        .after_help(AFTER_HELP)
        .arg(
            Arg::new("keep-cap")
                .long("keep-cap")
                .value_name("CAP[,CAP...]")
                .action(ArgAction::Append)
                .help("Keep these capabilities (e.g. NET_BIND_SERVICE) in every set; repeatable"),
        )
        .arg(
            Arg::new("no-new-privs")
                .long("no-new-privs")
                .action(ArgAction::SetTrue)
                .help("Set no_new_privs: setuid programs and file capabilities grant nothing"),
        )
        .arg(
            Arg::new("init")
                .short('i')
                .long("init")
                .action(ArgAction::SetTrue)
                .help_heading("Init mode")
                .help("Run COMMAND under a built-in init: reaper, signal forwarder, graceful drain"),
        )
        .arg(
            Arg::new("single-child")
                .long("single-child")
                .action(ArgAction::SetTrue)
                .help_heading("Init mode")
                .help("Forward signals to COMMAND alone, not to its whole process group"),
        )
        .arg(
            Arg::new("rewrite")
                .long("rewrite")
                .value_name("FROM:TO")
                .action(ArgAction::Append)
                .help_heading("Init mode")
                .help("Forward signal FROM as TO (names or numbers; TO=0 drops it); repeatable"),
        )
        .arg(
            Arg::new("remap-exit")
                .long("remap-exit")
                .value_name("FROM:TO")
                .action(ArgAction::Append)
                .help_heading("Init mode")
                .help("Exit with TO when COMMAND's status is FROM (e.g. 143:0); repeatable"),
        )
        .arg(
            Arg::new("grace")
                .long("grace")
                .value_name("DURATION")
                .help_heading("Init mode")
                .help("Time leftovers get between SIGTERM and SIGKILL [default: 10s] (10, 0.5, 500ms, 1m)"),
        )
        .arg(
            Arg::new("pdeathsig")
                .long("pdeathsig")
                .value_name("SIG")
                .help_heading("Init mode")
                .help("Signal sudrop gets (and forwards) when its parent dies"),
        )
        .arg(
            Arg::new("verbose")
                .short('v')
                .long("verbose")
                .action(ArgAction::SetTrue)
                .help("Print the resolved identity and each step to stderr"),
        )
        .arg(
            Arg::new("user-spec-and-command")
                .value_names(["USER-SPEC", "COMMAND"])
                .required(true)
                .num_args(2..)
                .trailing_var_arg(true)
                .value_parser(value_parser!(OsString))
                .help("Who to become, then the command to run and its arguments"),
        )
}

/// Parses the command line, with init options missing from it taken from the environment.
pub fn parse(argv: Vec<OsString>) -> Result<Args, Stop> {
    parse_with_env(argv, |name| std::env::var(name).ok())
}

pub fn parse_with_env(
    argv: Vec<OsString>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Args, Stop> {
    let matches = command().try_get_matches_from(argv).map_err(|error| {
        use clap::error::ErrorKind;
        match error.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                Stop::Print(error.render().to_string())
            }
            ErrorKind::MissingRequiredArgument => {
                Stop::Usage("missing USER-SPEC and COMMAND".into())
            }
            ErrorKind::TooFewValues => Stop::Usage("missing COMMAND after USER-SPEC".into()),
            _ => Stop::Usage(usage_message(&error)),
        }
    })?;
    let keep_caps = match matches.get_many::<String>("keep-cap") {
        None => None,
        Some(lists) => Some(parse_cap_list(lists.map(String::as_str)).map_err(Stop::Usage)?),
    };
    let mut operands = matches
        .get_many::<OsString>("user-spec-and-command")
        .into_iter()
        .flatten()
        .cloned();
    let (Some(user_spec), Some(command)) = (operands.next(), operands.next()) else {
        return Err(Stop::Usage("missing COMMAND after USER-SPEC".into()));
    };
    let init = init_options(&matches, &env)?;
    Ok(Args {
        verbose: matches.get_flag("verbose"),
        no_new_privs: matches.get_flag("no-new-privs"),
        init,
        keep_caps,
        user_spec,
        command,
        command_args: operands.collect(),
    })
}

/// An init option's values: from the command line if given there, else from its variable
/// (a list variable holds comma-separated values).
fn option_values(
    matches: &ArgMatches,
    env: &impl Fn(&str) -> Option<String>,
    id: &str,
) -> Option<(Vec<String>, bool)> {
    if let Some(values) = matches.get_many::<String>(id) {
        return Some((values.cloned().collect(), true));
    }
    let (_, variable) = INIT_ENV.iter().find(|(option, _)| *option == id)?;
    let value = env(variable)?;
    Some((
        value
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect(),
        false,
    ))
}

fn flag(
    matches: &ArgMatches,
    env: &impl Fn(&str) -> Option<String>,
    id: &str,
) -> Result<bool, Stop> {
    if matches.get_flag(id) {
        return Ok(true);
    }
    let Some((_, variable)) = INIT_ENV.iter().find(|(option, _)| *option == id) else {
        return Ok(false);
    };
    match env(variable).as_deref().map(str::trim) {
        None | Some("" | "0" | "false" | "no") => Ok(false),
        Some("1" | "true" | "yes") => Ok(true),
        Some(other) => Err(Stop::Usage(format!("{variable}='{other}': use 1 or 0"))),
    }
}

fn init_options(
    matches: &ArgMatches,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<InitOptions>, Stop> {
    let usage = Stop::Usage;
    if !flag(matches, env, "init")? {
        let given = [
            "single-child",
            "rewrite",
            "remap-exit",
            "grace",
            "pdeathsig",
        ]
        .into_iter()
        .find(|id| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine));
        return match given {
            Some(id) => Err(usage(format!("--{id} needs --init"))),
            None => Ok(None),
        };
    }
    let list = |id: &str| {
        option_values(matches, env, id)
            .map(|(values, _)| values)
            .unwrap_or_default()
    };
    let single = |id: &str| -> Option<String> { list(id).pop() };
    Ok(Some(InitOptions {
        single_child: flag(matches, env, "single-child")?,
        rewrites: list("rewrite")
            .iter()
            .map(|v| parse_rewrite(v))
            .collect::<Result<_, _>>()
            .map_err(usage)?,
        remap_exit: list("remap-exit")
            .iter()
            .map(|v| parse_remap(v))
            .collect::<Result<_, _>>()
            .map_err(usage)?,
        grace: match single("grace") {
            Some(text) => parse_duration(&text).map_err(|e| usage(format!("--grace: {e}")))?,
            None => DEFAULT_GRACE,
        },
        pdeathsig: match single("pdeathsig") {
            Some(text) => {
                Some(parse_signal(&text).map_err(|e| usage(format!("--pdeathsig: {e}")))?)
            }
            None => None,
        },
    }))
}

/// clap's first line, without its `error: ` prefix (the hint is added by the caller).
fn usage_message(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    let first = rendered.lines().next().unwrap_or("invalid usage");
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(line: &str) -> Result<Args, Stop> {
        parse(
            std::iter::once("sudrop")
                .chain(line.split_whitespace())
                .map(OsString::from)
                .collect(),
        )
    }

    #[test]
    fn everything_after_the_spec_belongs_to_the_command() {
        let args = parse_line("app echo -i --init x").unwrap();
        assert_eq!(args.user_spec, "app");
        assert_eq!(args.command, "echo");
        assert_eq!(args.command_args, ["-i", "--init", "x"]);
        let args = parse_line("-v app -v --help --").unwrap();
        assert!(args.verbose);
        assert_eq!(args.command, "-v");
        assert_eq!(args.command_args, ["--help", "--"]);
    }

    #[test]
    fn double_dash_ends_options() {
        let args = parse_line("-- -odd-name cmd").unwrap();
        assert_eq!(
            (args.user_spec.to_str(), args.command.to_str()),
            (Some("-odd-name"), Some("cmd"))
        );
    }

    #[test]
    fn keep_cap_is_repeatable() {
        let args = parse_line("--keep-cap net_bind_service --keep-cap=chown,kill app x").unwrap();
        assert_eq!(args.keep_caps, Some(CapMask(1 << 10 | 1 | 1 << 5)));
        assert_eq!(parse_line("app x").unwrap().keep_caps, None);
    }

    fn parse_env(line: &str, vars: &[(&str, &str)]) -> Result<Args, Stop> {
        let argv = std::iter::once("sudrop")
            .chain(line.split_whitespace())
            .map(OsString::from)
            .collect();
        parse_with_env(argv, |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn init_options_from_flags() {
        let args = parse_line("-i --single-child --rewrite TERM:QUIT --rewrite=WINCH:0 --remap-exit 143:0 --grace 500ms --pdeathsig USR1 app x").unwrap();
        let init = args.init.unwrap();
        assert!(init.single_child);
        assert_eq!(init.rewrites, [(15, Some(3)), (28, None)]);
        assert_eq!(init.remap_exit, [(143, 0)]);
        assert_eq!(init.grace, Duration::from_millis(500));
        assert_eq!(init.pdeathsig, Some(10));
        let plain = parse_line("--init app x").unwrap().init.unwrap();
        assert_eq!(
            (plain.single_child, plain.grace, plain.pdeathsig),
            (false, DEFAULT_GRACE, None)
        );
        assert_eq!(parse_line("app x").unwrap().init, None);
    }

    #[test]
    fn init_options_from_the_environment_and_flags_win() {
        let vars = [
            ("SUDROP_INIT", "1"),
            ("SUDROP_GRACE", "2s"),
            ("SUDROP_REWRITE", "TERM:QUIT, WINCH:0"),
            ("SUDROP_REMAP_EXIT", "143:0"),
        ];
        let init = parse_env("app x", &vars).unwrap().init.unwrap();
        assert_eq!(
            (init.grace, init.rewrites.len(), init.remap_exit.as_slice()),
            (Duration::from_secs(2), 2, &[(143, 0)][..])
        );
        let init = parse_env("--grace 1m --rewrite INT:TERM app x", &vars)
            .unwrap()
            .init
            .unwrap();
        assert_eq!(
            (init.grace, init.rewrites.as_slice()),
            (Duration::from_secs(60), &[(2, Some(15))][..])
        );
        // Variables for init options are ignored in exec mode; flags are refused.
        assert_eq!(
            parse_env("app x", &[("SUDROP_GRACE", "2s")]).unwrap().init,
            None
        );
        assert!(matches!(
            parse_env("app x", &[("SUDROP_INIT", "maybe")]),
            Err(Stop::Usage(_))
        ));
        assert!(matches!(
            parse_env("app x", &[("SUDROP_INIT", "1"), ("SUDROP_GRACE", "soon")]),
            Err(Stop::Usage(_))
        ));
    }

    #[test]
    fn init_options_without_init_are_usage_errors() {
        for line in [
            "--grace 5 app x",
            "--single-child app x",
            "--rewrite TERM:QUIT app x",
            "--pdeathsig TERM app x",
        ] {
            assert!(matches!(parse_line(line), Err(Stop::Usage(_))), "{line}");
        }
        for line in [
            "-i --grace soon app x",
            "-i --rewrite TERM app x",
            "-i --remap-exit 1 app x",
            "-i --pdeathsig NOPE app x",
        ] {
            assert!(matches!(parse_line(line), Err(Stop::Usage(_))), "{line}");
        }
    }

    #[test]
    fn usage_errors_exit_125_help_and_version_0() {
        for line in [
            "",
            "app",
            "--bogus app x",
            "--keep-cap bogus app x",
            "-x app x",
        ] {
            let stop = parse_line(line).expect_err(line);
            assert!(matches!(stop, Stop::Usage(_)), "{line}: {stop:?}");
            assert_eq!(stop.exit_code(), 125);
        }
        for line in ["--help", "-h", "--version", "-V", "--verbose --help"] {
            let stop = parse_line(line).expect_err(line);
            assert!(matches!(stop, Stop::Print(_)), "{line}");
            assert_eq!(stop.exit_code(), 0);
        }
    }
}
