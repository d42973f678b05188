//! The command line's definition of record, in clap: the man page, the completions and the
//! `--help` text are generated from it. The binary parses with the small parser in
//! [`super`], which a test holds to exactly what this definition accepts.

use super::options::{ROWS, Row, Section};
use clap::{Arg, ArgAction, Command, ValueHint, value_parser};
use std::ffi::OsString;

pub const ABOUT: &str = "Run a command as another user with capabilities dropped, by exec or under an unprivileged init";

const AFTER_HELP: &str = "\
USER-SPEC is USER, USER:GROUP, :GROUP, USER: or empty (the current user). A part made only of
digits is an id and is never looked up as a name. Resolution follows gosu: without GROUP the
supplementary groups are USER's memberships in /etc/group; with GROUP there are none.
USER-SPEC /PATH is PATH's owner, as UID:GID (never root, never through a symbolic link);
USER-SPEC - switches nobody: identity, capabilities, descriptors and signals stay as they are.
Linked as gosu, su-exec, tini, docker-init, catatonit, podman-init or dumb-init, sudrop reads
that tool's command line instead (see NAME -h).

With --init, sudrop switches to USER-SPEC itself, then forks COMMAND in its own process group,
forwards every signal but SIGCHLD to that group, reaps every zombie, and when COMMAND exits gives
the processes it left behind SIGTERM and the --grace period before SIGKILL. Each init option can
also come from the environment: SUDROP_INIT=1, SUDROP_SINGLE_CHILD=1, SUDROP_REWRITE=TERM:QUIT,...,
SUDROP_REMAP_EXIT=143:0,..., SUDROP_GRACE=30s, SUDROP_STOP_DELAY=5s, SUDROP_PDEATHSIG=TERM (a
flag wins).

For a non-root target sudrop sets no_new_privs (a setuid-root program then runs without root)
and blocks the TIOCSTI and TIOCLINUX ioctls, which could type into the caller's terminal.
--allow-new-privs (or SUDROP_ALLOW_NEW_PRIVS=1) leaves no_new_privs off.

Exit status:
  125  sudrop itself failed (usage, user spec, user database, privilege switch)
  126  COMMAND was found but cannot be executed
  127  COMMAND was not found
  otherwise the exit status of COMMAND (in exec mode sudrop is replaced by it; with --init,
  128+N when signal N killed it, after --remap-exit)";

/// The definition as documented: USER-SPEC and COMMAND are two arguments, each with its own
/// help line and completion (user names; commands, then the command's own arguments).
pub fn command() -> Command {
    options()
        .arg(
            Arg::new("user-spec")
                .value_name("USER-SPEC")
                .required(true)
                .value_parser(value_parser!(OsString))
                .value_hint(ValueHint::Username)
                .help("Who to become: USER, USER:GROUP, :GROUP, USER:, empty, /PATH or -"),
        )
        .arg(
            Arg::new("command")
                .value_name("COMMAND")
                .required(true)
                .num_args(1..)
                .trailing_var_arg(true)
                .allow_hyphen_values(true)
                .value_parser(value_parser!(OsString))
                .value_hint(ValueHint::CommandWithArguments)
                .help("The command to run, then its own arguments (passed untouched)"),
        )
}

/// The definition as parsed, for the test that holds the runtime parser to it. Options end at
/// USER-SPEC, and clap can only say that of the last positional argument (given two, it reads
/// `sudrop nobody -i` as the flag `-i`), so here USER-SPEC and COMMAND are one operand list.
#[cfg(test)]
pub(crate) fn parsing_command() -> Command {
    options().arg(
        Arg::new("operands")
            .value_names(["USER-SPEC", "COMMAND"])
            .required(true)
            .num_args(2..)
            .trailing_var_arg(true)
            .value_parser(value_parser!(OsString)),
    )
}

/// Everything but the operands: one clap argument per row of [`super::options::ROWS`].
fn options() -> Command {
    let command = Command::new("sudrop")
        .version(env!("CARGO_PKG_VERSION"))
        .about(ABOUT)
        .override_usage("sudrop [OPTIONS] USER-SPEC COMMAND [ARG]...")
        .after_help(AFTER_HELP);
    ROWS.iter()
        .fold(command, |command, row| command.arg(argument(row)))
}

/// One row as clap's argument.
fn argument(row: &Row) -> Arg {
    let mut arg = Arg::new(row.long).long(row.long).help(row.help);
    if let Some(letter) = row.short {
        arg = arg.short(char::from(letter));
    }
    arg = match row.value {
        None => arg.action(ArgAction::SetTrue),
        Some(value) if value.repeatable => arg.value_name(value.name).action(ArgAction::Append),
        Some(value) => arg.value_name(value.name),
    };
    match row.section {
        Section::General => arg,
        Section::Init => arg.help_heading("Init mode"),
    }
}
