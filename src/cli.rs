//! The command line: one clap definition serves parsing, `--help`, and later the man page and
//! completions.
//!
//! Options come only before USER-SPEC (`--` may end them). USER-SPEC and everything after it
//! are one trailing list, so clap stops looking for options at USER-SPEC and the command's own
//! arguments are passed on untouched: `sudrop app echo -i --init x` prints `-i --init x`.

use crate::capability::{CapMask, parse_cap_list};
use crate::error::EXIT_FAILURE;
use clap::{Arg, ArgAction, Command, value_parser};
use std::ffi::OsString;

#[derive(Debug)]
pub struct Args {
    pub verbose: bool,
    pub no_new_privs: bool,
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

const ABOUT: &str =
    "Run a command as another user, with capabilities dropped, as its container's PID 1.";

const AFTER_HELP: &str = "\
USER-SPEC is USER, USER:GROUP, :GROUP, USER: or empty (the current user). A part made only of
digits is an id and is never looked up as a name. Resolution follows gosu: without GROUP the
supplementary groups are USER's memberships in /etc/group; with GROUP there are none.

Exit status:
  125  sudrop itself failed (usage, user spec, user database, privilege switch)
  126  COMMAND was found but cannot be executed
  127  COMMAND was not found
  otherwise the exit status of COMMAND (sudrop is replaced by it)";

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

pub fn parse(argv: Vec<OsString>) -> Result<Args, Stop> {
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
    Ok(Args {
        verbose: matches.get_flag("verbose"),
        no_new_privs: matches.get_flag("no-new-privs"),
        keep_caps,
        user_spec,
        command,
        command_args: operands.collect(),
    })
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
