//! Every option of sudrop's grammar, defined once: one row each in [`ROWS`], named by a
//! variant of [`Opt`]. The clap definition of record (and from it `--help`, the man page and
//! the completions), the runtime parser's table, the environment variables (read by the
//! parser, removed from the command's environment, listed in the man page) and how each value
//! completes in a shell all come from these rows.
//!
//! A new option is a variant, a row, and the code whose behaviour it is: [`super::parse`]
//! reads it into [`super::Args`] by its variant (the compiler checks the name), and whatever
//! acts on it takes it from there.

/// One option, by name. The variants are in [`ROWS`]' order: `Opt::X as usize` is its row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opt {
    KeepCap,
    NoNewPrivs,
    AllowNewPrivs,
    KeepStdioOwner,
    IfPrivileged,
    GroupAdd,
    GroupOf,
    Umask,
    Ulimit,
    Init,
    SingleChild,
    Rewrite,
    RemapExit,
    Grace,
    StopDelay,
    Pdeathsig,
    Verbose,
}

/// How an option's value completes in a shell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completion {
    /// Capability names, a comma list.
    Capabilities,
    /// Group names, a comma list.
    Groups,
    /// A path.
    Path,
    /// A signal name.
    Signal,
    /// A resource name, followed by `=`.
    Resource,
    /// Typed by hand: a number, a duration, a mapping.
    Typed,
}

/// What an option that takes a value takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Value {
    /// Its name in `--help` and in messages (`DURATION`).
    pub name: &'static str,
    /// May be given more than once (values add up); any other repeat is refused.
    pub repeatable: bool,
    pub completes: Completion,
}

/// Where in `--help` an option is listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    General,
    /// "Init mode": `--init` and the options that only mean something with it.
    Init,
}

/// One option: everything said about it anywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    pub option: Opt,
    pub long: &'static str,
    pub short: Option<u8>,
    /// `None` for a flag.
    pub value: Option<Value>,
    pub help: &'static str,
    pub section: Section,
    /// Refused without `--init`.
    pub needs_init: bool,
    /// The environment variable it may also come from (a flag on the command line wins). A
    /// list option's variable holds comma-separated values.
    pub variable: Option<&'static str>,
}

const fn flag(option: Opt, long: &'static str, help: &'static str) -> Row {
    Row {
        option,
        long,
        short: None,
        value: None,
        help,
        section: Section::General,
        needs_init: false,
        variable: None,
    }
}

const fn valued(
    option: Opt,
    long: &'static str,
    name: &'static str,
    completes: Completion,
    help: &'static str,
) -> Row {
    Row {
        value: Some(Value {
            name,
            repeatable: false,
            completes,
        }),
        ..flag(option, long, help)
    }
}

impl Row {
    const fn short(self, letter: u8) -> Row {
        Row {
            short: Some(letter),
            ..self
        }
    }

    const fn repeatable(self) -> Row {
        match self.value {
            Some(value) => Row {
                value: Some(Value {
                    repeatable: true,
                    ..value
                }),
                ..self
            },
            None => self,
        }
    }

    /// Listed under "Init mode", and refused without `--init`.
    const fn init_only(self) -> Row {
        Row {
            section: Section::Init,
            needs_init: true,
            ..self
        }
    }

    const fn with_variable(self, variable: &'static str) -> Row {
        Row {
            variable: Some(variable),
            ..self
        }
    }

    pub fn takes_value(&self) -> bool {
        self.value.is_some()
    }

    pub fn repeats(&self) -> bool {
        self.value.is_some_and(|value| value.repeatable)
    }

    /// `--grace <DURATION>` or `--verbose`, as clap names an option in its messages.
    pub fn display(&self) -> String {
        match self.value {
            Some(value) => format!("--{} <{}>", self.long, value.name),
            None => format!("--{}", self.long),
        }
    }
}

impl Opt {
    pub fn row(self) -> &'static Row {
        &ROWS[self as usize]
    }
}

use Completion::{Capabilities, Groups, Path, Resource, Signal, Typed};

/// Every option but `--help` and `--version` (which clap adds), in `--help`'s order.
pub const ROWS: &[Row] = &[
    valued(
        Opt::KeepCap,
        "keep-cap",
        "CAP[,CAP...]",
        Capabilities,
        "Keep these capabilities (e.g. NET_BIND_SERVICE) in every set; repeatable",
    )
    .repeatable(),
    flag(
        Opt::NoNewPrivs,
        "no-new-privs",
        "Set no_new_privs for a root target too (a non-root target always gets it)",
    ),
    flag(
        Opt::AllowNewPrivs,
        "allow-new-privs",
        "Let setuid programs and file capabilities work after the drop (no no_new_privs)",
    )
    .with_variable("SUDROP_ALLOW_NEW_PRIVS"),
    flag(
        Opt::KeepStdioOwner,
        "keep-stdio-owner",
        "Leave stdin/stdout/stderr pipes and sockets owned by the caller (by default a user target gets them, so /dev/stdout opens)",
    ),
    flag(
        Opt::IfPrivileged,
        "if-privileged",
        "Switch only if allowed to; otherwise run COMMAND as the caller (OpenShift's random uid)",
    ),
    valued(
        Opt::GroupAdd,
        "group-add",
        "GROUP[,GROUP...]",
        Groups,
        "Add these supplementary groups (names in /etc/group or ids); repeatable",
    )
    .repeatable(),
    valued(
        Opt::GroupOf,
        "group-of",
        "PATH",
        Path,
        "Add the group that owns PATH (e.g. /dev/dri/renderD128) as a supplementary group; repeatable",
    )
    .repeatable(),
    valued(
        Opt::Umask,
        "umask",
        "MODE",
        Typed,
        "Set the command's umask (octal, e.g. 027)",
    ),
    valued(
        Opt::Ulimit,
        "ulimit",
        "NAME=SOFT[:HARD]",
        Resource,
        "Set a resource limit as docker run --ulimit does (nofile=65536, core=0, memlock=-1); repeatable",
    )
    .repeatable(),
    Row {
        section: Section::Init,
        ..flag(
            Opt::Init,
            "init",
            "Run COMMAND under a built-in init: reaper, signal forwarder, graceful drain",
        )
    }
    .short(b'i')
    .with_variable("SUDROP_INIT"),
    flag(
        Opt::SingleChild,
        "single-child",
        "Forward signals to COMMAND alone, not to its whole process group",
    )
    .init_only()
    .with_variable("SUDROP_SINGLE_CHILD"),
    valued(
        Opt::Rewrite,
        "rewrite",
        "FROM:TO",
        Typed,
        "Forward signal FROM as TO (names or numbers; TO=0 drops it); repeatable",
    )
    .repeatable()
    .init_only()
    .with_variable("SUDROP_REWRITE"),
    valued(
        Opt::RemapExit,
        "remap-exit",
        "FROM:TO",
        Typed,
        "Exit with TO when COMMAND's status is FROM (e.g. 143:0; 143 alone is 143:0); repeatable",
    )
    .repeatable()
    .init_only()
    .with_variable("SUDROP_REMAP_EXIT"),
    valued(
        Opt::Grace,
        "grace",
        "DURATION",
        Typed,
        "Time leftovers get between SIGTERM and SIGKILL [default: 10s] (10, 0.5, 500ms, 1m)",
    )
    .init_only()
    .with_variable("SUDROP_GRACE"),
    valued(
        Opt::StopDelay,
        "stop-delay",
        "DURATION",
        Typed,
        "Hold the first SIGTERM this long before forwarding it (endpoints drain meanwhile)",
    )
    .init_only()
    .with_variable("SUDROP_STOP_DELAY"),
    valued(
        Opt::Pdeathsig,
        "pdeathsig",
        "SIG",
        Signal,
        "Signal sudrop gets (and forwards) when its parent dies",
    )
    .init_only()
    .with_variable("SUDROP_PDEATHSIG"),
    flag(
        Opt::Verbose,
        "verbose",
        "Print the resolved identity and each step to stderr",
    )
    .short(b'v'),
];

/// The environment variables options may come from, each with its option.
pub fn variables() -> impl Iterator<Item = (Opt, &'static str)> {
    ROWS.iter()
        .filter_map(|row| row.variable.map(|variable| (row.option, variable)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_variant_names_its_own_row() {
        for (index, row) in ROWS.iter().enumerate() {
            assert_eq!(row.option as usize, index, "{}", row.long);
            assert_eq!(row.option.row(), row);
        }
    }

    #[test]
    fn names_letters_and_variables_are_unique() {
        for (index, row) in ROWS.iter().enumerate() {
            for other in &ROWS[index + 1..] {
                assert_ne!(row.long, other.long);
                assert!(
                    row.short.is_none() || row.short != other.short,
                    "{}",
                    row.long
                );
                assert!(
                    row.variable.is_none() || row.variable != other.variable,
                    "{}",
                    row.long
                );
            }
            assert!(
                !matches!(row.short, Some(b'h' | b'V')),
                "clap's own letters"
            );
            assert!(
                row.needs_init <= (row.section == Section::Init),
                "{}",
                row.long
            );
        }
    }
}
