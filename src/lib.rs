//! sudrop: switch to a user and exec a command, the way a container's PID 1 should.
//!
//! Data flows one way: `argv → cli::Args → spec::UserSpec → resolve::Target → plan::Plan →
//! switch → exec` (or `init`, which forks the exec). An option is defined once, as a row of
//! [`cli::options`]; another tool's command line (sudrop called as gosu, tini, ...) is a
//! table over those rows in [`cli::personality`]; every decision about the switch is made by
//! the pure [`plan::plan`], and every decision of the init by [`init::machine`]; both are
//! tested without root. The only module that changes the process's credentials is [`switch`],
//! the only one that executes is [`exec`], and every system call goes through [`sys`], the one
//! place allowed `unsafe`. Nothing below [`cli`] imports it.
#![deny(unsafe_code)]

pub mod call;
pub mod capability;
pub mod cli;
pub mod error;
pub mod exec;
pub mod id;
pub mod init;
pub mod limits;
pub mod log;
pub mod plan;
pub mod resolve;
pub mod signals;
pub mod spec;
pub mod switch;
pub mod sys;
pub mod userdb;

use cli::Who;
use cli::personality::Personality;
use error::{Error, GroupOfRefusal};
use log::Log;
use resolve::{Caller, Target};
use std::ffi::{CStr, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use switch::LinuxKernel;
use sys::io::{STDERR, STDOUT, write_all};

/// Runs sudrop with `argv` (program name first) and returns its exit status. Returns only when
/// no command runs (or after `--help`); on success the process has become the command.
pub fn main(argv: &[&CStr]) -> u8 {
    // A bug must not turn into a SIGABRT exit status: like every failure before the exec,
    // it is sudrop's own failure, 125, and nothing runs.
    std::panic::set_hook(Box::new(|info| {
        log::error(format_args!("internal error: {info}"));
        sys::process::exit_now(error::EXIT_FAILURE)
    }));
    // Before anything else: a setuid or file-capability install would let any user pick root.
    if sys::cred::is_secure_execution() {
        log::error(format_args!("{}", Error::InsecureInstall));
        return Error::InsecureInstall.exit_code();
    }
    let environ = sys::exec::environment();
    // Under another tool's name, that tool's command line (the only new work at start).
    let personality = Personality::of(argv.first().map_or(&b""[..], |name| name.to_bytes()));
    let args = match cli::personality::parse(personality, argv, |name| variable(&environ, name)) {
        Ok(args) => args,
        Err(stop) => {
            match &stop {
                cli::Stop::Print(text) => {
                    // Nothing useful can be done if stdout is closed.
                    let _ = write_all(STDOUT, text.as_bytes());
                }
                cli::Stop::Usage(message) => log::error(format_args!(
                    "{message}\nsudrop: try 'sudrop --help' for more information"
                )),
                cli::Stop::Say { text, stderr, .. } => {
                    let _ = write_all(if *stderr { STDERR } else { STDOUT }, text.as_bytes());
                }
            }
            return stop.exit_code();
        }
    };
    run(&args, personality, &environ).unwrap_or_else(|error| {
        log::error(format_args!("{error}"));
        let not_found = matches!(
            error,
            Error::CommandNotFound { .. } | Error::UnsearchablePath { .. }
        );
        if not_found && cli::is_own_option(args.command.to_bytes()) {
            log::error(format_args!(
                "'{}' is an option of sudrop's: options go before USER-SPEC",
                log::shown(args.command.to_bytes())
            ));
        }
        error.exit_code()
    })
}

/// The value of environment variable `name`, if it is there and UTF-8.
fn variable<'a>(environ: &[&'a CStr], name: &str) -> Option<&'a str> {
    environ.iter().find_map(|entry| {
        let value = entry.to_bytes().strip_prefix(name.as_bytes())?;
        std::str::from_utf8(value.strip_prefix(b"=")?).ok()
    })
}

/// Switches, then becomes the command (exec mode) or runs it under the init (init mode).
/// Returns the init's exit status, or the reason nothing could run.
///
/// The flow: who calls and who the target is (read), what will change (the pure plan), the
/// changes (the switch applies and verifies them), then the exec or the init.
fn run(args: &cli::Args<'_>, personality: Personality, environ: &[&CStr]) -> Result<u8, Error> {
    let log = Log::new(args.verbose);
    // Init mode blocks signals first, so nothing arriving during start-up is lost.
    let init = match &args.init {
        Some(options) => Some((options, init::block_signals()?, sys::process::parent_pid())),
        None => None,
    };
    let kernel = &mut LinuxKernel {
        own_descriptor: init.as_ref().map(|(_, (_, signal_fd), _)| signal_fd.raw()),
    };
    let (uids, gids) = switch::ids(kernel)?;
    // sudrop's own variables stay with sudrop.
    let own: Vec<&str> = cli::options::variables()
        .map(|(_, variable)| variable)
        .collect();
    if args.who == Who::Unchanged {
        // Nobody to switch to: only what was asked for by name changes, and nothing is
        // read, resolved or verified (an engine's init gets exactly what the engine gave).
        let plan = plan::unchanged(&args.ulimits, args.umask, args.no_new_privs, (uids, gids));
        let env = exec::unswitched_environment(environ, &own);
        let prepared = exec::prepare(args.command, args.command_args, &env);
        switch::apply(kernel, &plan, log)?;
        return start(args, &prepared, init, true, log);
    }
    let caller = Caller {
        uid: uids[0],
        gid: gids[0],
    };
    let (target, explicit_group, added_groups) = resolve_target(args, caller, log)?;
    // What the spec resolves to, said before --if-privileged may put the caller in its place.
    log.say(format_args!(
        "'{}' is uid {} gid {} groups [{}] home '{}' name '{}'",
        log::shown(args.user_spec.to_bytes()),
        target.uid,
        target.gid,
        call::list(&target.groups),
        log::shown(&target.home),
        log::shown(target.name.as_deref().unwrap_or_default()),
    ));
    let full = !target.uid.is_root() || args.keep_caps.is_some() || args.if_privileged;
    let before = switch::observe(kernel, (uids, gids), full)?;
    let request = plan::Request {
        keep: args.keep_caps,
        no_new_privs: args.no_new_privs,
        allow_new_privs: args.allow_new_privs,
        explicit_group,
        added_groups: &added_groups,
        if_privileged: args.if_privileged,
        keep_stdio_owner: args.keep_stdio_owner,
        limits: &args.ulimits,
        umask: args.umask,
        // Looked for only where it decides something: a root caller that may hand pipes over.
        command_found: !full
            || !uids[1].is_root()
            || args.keep_stdio_owner
            || exec::may_be_found(args.command, environ),
    };
    // Looked for only when the target is not root; otherwise the init asks the terminal.
    let terminal_reachable = !full || before.terminal_reachable;
    let plan = plan::plan(&request, &before, target)?;
    // Under gosu's or su-exec's name the image was written for a dropper without
    // no_new_privs: a command that needs setuid or file capabilities is told why they fail.
    if (personality.is_dropper() || args.verbose)
        && plan.steps.contains(&plan::Step::NoNewPrivs)
        && let Some((path, raising)) = exec::raises_privilege(args.command, environ)
    {
        log.warn(format_args!("{} {raising}", log::shown(&path)));
    }
    let env = if plan.unswitched {
        exec::unswitched_environment(environ, &own)
    } else {
        exec::environment(environ, &plan.target, &own)
    };
    let prepared = exec::prepare(args.command, args.command_args, &env);
    let applied = switch::apply(kernel, &plan, log)?;
    switch::verify(kernel, &plan, applied)?;
    start(args, &prepared, init, terminal_reachable, log)
}

/// What [`init::block_signals`] returns: the launcher's signal state and the init's signalfd.
type StartSignals = (init::LauncherSignals, sys::signal::SignalFd);

/// The last step: becomes the command (exec mode) or runs it under the init.
fn start(
    args: &cli::Args<'_>,
    prepared: &exec::Prepared<'_>,
    init: Option<(&init::Options, StartSignals, id::Pid)>,
    terminal_reachable: bool,
    log: Log,
) -> Result<u8, Error> {
    match init {
        None => {
            log.say(format_args!("exec {}", log::shown(args.command.to_bytes())));
            Err(exec::execute(prepared))
        }
        Some((options, (launcher, signal_fd), parent)) => init::run(
            prepared,
            options,
            &launcher,
            signal_fd,
            parent,
            terminal_reachable,
            log,
        ),
    }
}

/// The target (with `--group-add` and `--group-of` among its groups), whether the spec named a
/// group, and the groups those two options added.
fn resolve_target(
    args: &cli::Args<'_>,
    caller: Caller,
    log: Log,
) -> Result<(Target, bool, Vec<id::Gid>), Error> {
    let spec_text = || OsStr::from_bytes(args.user_spec.to_bytes()).to_owned();
    let owner = match args.who {
        Who::OwnerOf(path) => Some((path, owner_of(path)?)),
        _ => None,
    };
    let spec = match owner {
        Some((_, (uid, gid))) => spec::UserSpec {
            user: Some(spec::Part::Id(uid)),
            group: Some(spec::Part::Id(gid)),
        },
        None => spec::parse(args.user_spec.to_bytes()).map_err(|error| Error::Spec {
            spec: spec_text(),
            error,
        })?,
    };
    let read = |path: &'static str| {
        userdb::read_database(Path::new(path)).map_err(|error| Error::Database { path, error })
    };
    let passwd = read(userdb::PASSWD_PATH)?;
    let group = read(userdb::GROUP_PATH)?;
    let resolve_error = |error| Error::Resolve {
        spec: spec_text(),
        error,
    };
    let mut target = resolve::resolve(&spec, caller, &passwd, &group).map_err(resolve_error)?;
    let names: Vec<&[u8]> = args.group_add.iter().map(|name| name.as_bytes()).collect();
    let explicit = resolve::group_add_gids(&names, &group).map_err(resolve_error)?;
    // As for --group-of: a path's group 0 only when --group-add names it too.
    if let Some((path, (_, 0))) = owner
        && !explicit.contains(&id::Gid(0))
    {
        return Err(Error::OwnerOf {
            path: String::from_utf8_lossy(path.to_bytes()).into_owned(),
            refusal: GroupOfRefusal::RootOwnerGroup,
        });
    }
    // Owners of paths, read before the switch (the target may not be able to stat them).
    let mut owners = Vec::new();
    for path in &args.group_of {
        owners.push(group_of(path, &explicit)?);
    }
    let before = target.groups.clone();
    resolve::add_groups(&mut target, &explicit, &owners).map_err(resolve_error)?;
    if let Who::OwnerOf(path) = args.who
        && let Some(directory) = writable_directory(OsStr::from_bytes(path.to_bytes()), &target)
    {
        log.warn(format_args!(
            "USER-SPEC {}: its directory {} is writable by uid {}, which could replace it with \
             another file before the next start",
            log::shown(path.to_bytes()),
            log::shown(directory.as_os_str().as_bytes()),
            target.uid
        ));
    }
    for path in &args.group_of {
        if let Some(directory) = writable_directory(OsStr::new(path), &target) {
            log.warn(format_args!(
                "--group-of {}: its directory {} is writable by uid {}, which could replace it \
                 with another file before the next start",
                log::shown(path.as_bytes()),
                log::shown(directory.as_os_str().as_bytes()),
                target.uid
            ));
        }
    }
    let added = target
        .groups
        .iter()
        .copied()
        // Both lists are sorted: n log n even with 65,536 groups.
        .filter(|gid| before.binary_search(gid).is_err())
        .collect();
    Ok((target, spec.group.is_some(), added))
}

/// The group owning `path` for `--group-of`. The last component is never followed when it is
/// a symbolic link (one planted in a volume the target owns would hand out any file's group),
/// and group 0 is refused unless `--group-add` names it too.
fn group_of(path: &str, explicit: &[id::Gid]) -> Result<id::Gid, Error> {
    use std::os::unix::fs::MetadataExt;
    let refuse = |refusal| Error::GroupOf {
        path: path.into(),
        refusal,
    };
    let gid = id::Gid(unfollowed(OsStr::new(path), refuse)?.gid());
    if gid.0 == 0 && !explicit.contains(&gid) {
        return Err(refuse(GroupOfRefusal::RootGroup));
    }
    Ok(gid)
}

/// USER-SPEC as a path: its owner's uid and gid, to be resolved as the spec `UID:GID` (so no
/// supplementary groups, as `gosu "$(stat -c %u:%g PATH)"` gives). The rules of `--group-of`
/// hold: the last component is never followed when it is a symbolic link, and uid 0 never comes
/// from a path (group 0 is checked against `--group-add` once that is resolved).
fn owner_of(path: &CStr) -> Result<(u32, u32), Error> {
    use std::os::unix::fs::MetadataExt;
    let refuse = |refusal| Error::OwnerOf {
        path: String::from_utf8_lossy(path.to_bytes()).into_owned(),
        refusal,
    };
    let metadata = unfollowed(OsStr::from_bytes(path.to_bytes()), refuse)?;
    if metadata.uid() == 0 {
        return Err(refuse(GroupOfRefusal::RootOwner));
    }
    Ok((metadata.uid(), metadata.gid()))
}

/// `path`'s metadata without following a symbolic link in its last component, which is
/// refused: the target could have planted it. `refuse` makes the error for the option asking.
fn unfollowed(
    path: &OsStr,
    refuse: impl Fn(GroupOfRefusal) -> Error,
) -> Result<std::fs::Metadata, Error> {
    let metadata = std::fs::symlink_metadata(path).map_err(|error| {
        refuse(GroupOfRefusal::Stat(sys::Errno::from_raw(
            error.raw_os_error().unwrap_or(0),
        )))
    })?;
    if metadata.file_type().is_symlink() {
        return Err(refuse(GroupOfRefusal::SymbolicLink));
    }
    Ok(metadata)
}

/// The directory holding `path`, when the target could write to it (as its owner, through one
/// of its groups, or as anyone).
fn writable_directory(path: &OsStr, target: &Target) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let directory = match Path::new(path).parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let metadata = std::fs::metadata(&directory).ok()?;
    let mode = metadata.mode();
    let in_group =
        target.gid.0 == metadata.gid() || target.groups.contains(&id::Gid(metadata.gid()));
    let writable = (metadata.uid() == target.uid.0 && mode & 0o200 != 0)
        || (in_group && mode & 0o020 != 0)
        || mode & 0o002 != 0;
    writable.then_some(directory)
}
