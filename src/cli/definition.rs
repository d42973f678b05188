//! The command line's definition of record, in clap: the man page, the completions and the
//! `--help` text are generated from it. The binary parses with the small parser in
//! [`super`], which a test holds to exactly what this definition accepts.

use clap::{Arg, ArgAction, Command, ValueHint, value_parser};
use std::ffi::OsString;

pub const ABOUT: &str = "Run a command as another user with capabilities dropped, by exec or under an unprivileged init";

const AFTER_HELP: &str = "\
USER-SPEC is USER, USER:GROUP, :GROUP, USER: or empty (the current user). A part made only of
digits is an id and is never looked up as a name. Resolution follows gosu: without GROUP the
supplementary groups are USER's memberships in /etc/group; with GROUP there are none.

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
                .help("Who to become: USER, USER:GROUP, :GROUP, USER: or empty"),
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

/// Everything but the operands.
fn options() -> Command {
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
                .help("Set no_new_privs for a root target too (a non-root target always gets it)"),
        )
        .arg(
            Arg::new("allow-new-privs")
                .long("allow-new-privs")
                .action(ArgAction::SetTrue)
                .help("Let setuid programs and file capabilities work after the drop (no no_new_privs)"),
        )
        .arg(
            Arg::new("keep-stdio-owner")
                .long("keep-stdio-owner")
                .action(ArgAction::SetTrue)
                .help("Leave stdin/stdout/stderr pipes and sockets owned by the caller (by default a user target gets them, so /dev/stdout opens)"),
        )
        .arg(
            Arg::new("if-privileged")
                .long("if-privileged")
                .action(ArgAction::SetTrue)
                .help("Switch only if allowed to; otherwise run COMMAND as the caller (OpenShift's random uid)"),
        )
        .arg(
            Arg::new("group-add")
                .long("group-add")
                .value_name("GROUP[,GROUP...]")
                .action(ArgAction::Append)
                .help("Add these supplementary groups (names in /etc/group or ids); repeatable"),
        )
        .arg(
            Arg::new("group-of")
                .long("group-of")
                .value_name("PATH")
                .action(ArgAction::Append)
                .help("Add the group that owns PATH (e.g. /dev/dri/renderD128) as a supplementary group; repeatable"),
        )
        .arg(
            Arg::new("umask")
                .long("umask")
                .value_name("MODE")
                .help("Set the command's umask (octal, e.g. 027)"),
        )
        .arg(
            Arg::new("ulimit")
                .long("ulimit")
                .value_name("NAME=SOFT[:HARD]")
                .action(ArgAction::Append)
                .help("Set a resource limit as docker run --ulimit does (nofile=65536, core=0, memlock=-1); repeatable"),
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
            Arg::new("stop-delay")
                .long("stop-delay")
                .value_name("DURATION")
                .help_heading("Init mode")
                .help("Hold the first SIGTERM this long before forwarding it (endpoints drain meanwhile)"),
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
}
