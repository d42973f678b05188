//! sudrop: switch to a user and exec a command, the way a container's PID 1 should.
//!
//! Data flows one way: `argv → cli::Args → spec::UserSpec → resolve::Target → switch → exec`.
//! Everything up to `Target` is pure and tested without root; the only module that changes
//! the process's credentials is [`switch`], and the only one that executes is [`exec`].

pub mod capability;
pub mod cli;
pub mod error;
pub mod exec;
pub mod id;
pub mod init;
pub mod resolve;
pub mod signals;
pub mod spec;
pub mod switch;
pub mod userdb;

use error::Error;
use id::{Gid, Uid};
use resolve::{Caller, Target};
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use switch::{LinuxKernel, Log, Request};

/// Runs sudrop with `argv` (program name first) and returns its exit status. Returns only when
/// no command runs (or after `--help`); on success the process has become the command.
pub fn main(argv: Vec<OsString>) -> u8 {
    // A bug must not turn into a SIGABRT exit status: like every failure before the exec,
    // it is sudrop's own failure, 125, and nothing runs.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("sudrop: internal error: {info}");
        std::process::exit(i32::from(error::EXIT_FAILURE));
    }));
    // Before anything else: a setuid or file-capability install would let any user pick root.
    if is_secure_execution() {
        eprintln!("sudrop: {}", Error::InsecureInstall);
        return Error::InsecureInstall.exit_code();
    }
    let args = match cli::parse(argv) {
        Ok(args) => args,
        Err(stop) => {
            match &stop {
                cli::Stop::Print(text) => {
                    let mut out = std::io::stdout().lock();
                    // Nothing useful can be done if stdout is closed.
                    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
                }
                cli::Stop::Usage(message) => {
                    eprintln!(
                        "sudrop: {message}\nsudrop: try 'sudrop --help' for more information"
                    );
                }
            }
            return stop.exit_code();
        }
    };
    let outcome = match &args.init {
        None => Err(exec_mode(&args)),
        Some(options) => init_mode(&args, options),
    };
    outcome.unwrap_or_else(|error| {
        eprintln!("sudrop: {error}");
        error.exit_code()
    })
}

/// AT_SECURE is set by the kernel when sudrop runs setuid, setgid or with file capabilities.
/// Read from the auxiliary vector, so no /proc is needed.
fn is_secure_execution() -> bool {
    // SAFETY: getauxval has no preconditions; it returns 0 for an absent entry.
    unsafe { libc::getauxval(libc::AT_SECURE) != 0 }
}

/// Exec mode: switch, then become the command. Returns only the reason it could not.
fn exec_mode(args: &cli::Args) -> Error {
    match switch_and_prepare(args) {
        Ok(prepared) => exec::execute(&prepared),
        Err(error) => error,
    }
}

/// Init mode: signals blocked first, then the same switch, then the init runs the command.
fn init_mode(args: &cli::Args, options: &cli::InitOptions) -> Result<u8, Error> {
    let (launcher, signal_fd) = init::block_signals()?;
    let parent = nix::unistd::getppid().as_raw();
    let prepared = switch_and_prepare(args)?;
    let pending = init::arm(options, parent)?;
    let log = Log {
        verbose: args.verbose,
    };
    init::run(&prepared, options, &launcher, signal_fd, pending, log)
}

fn switch_and_prepare(args: &cli::Args) -> Result<exec::Prepared, Error> {
    let log = Log {
        verbose: args.verbose,
    };
    let target = resolve_target(args)?;
    log.say(format_args!(
        "'{}' is uid {} gid {} groups [{}] home '{}' name '{}'",
        args.user_spec.to_string_lossy(),
        target.uid,
        target.gid,
        target
            .groups
            .iter()
            .map(Gid::to_string)
            .collect::<Vec<_>>()
            .join(","),
        String::from_utf8_lossy(&target.home),
        target
            .name
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default(),
    ));
    let env = exec::environment(std::env::vars_os(), &target);
    let prepared = exec::prepare(&args.command, &args.command_args, &env)?;
    let request = Request {
        target: &target,
        keep: args.keep_caps,
        no_new_privs: args.no_new_privs,
    };
    switch::switch(&mut LinuxKernel, &request, log)?;
    log.say(format_args!("exec {}", args.command.to_string_lossy()));
    Ok(prepared)
}

fn resolve_target(args: &cli::Args) -> Result<Target, Error> {
    let spec = spec::parse(args.user_spec.as_bytes()).map_err(|error| Error::Spec {
        spec: args.user_spec.clone(),
        error,
    })?;
    let read = |path: &'static str| {
        userdb::read_database(Path::new(path)).map_err(|error| Error::Database { path, error })
    };
    let passwd = read(userdb::PASSWD_PATH)?;
    let group = read(userdb::GROUP_PATH)?;
    let caller = Caller {
        uid: Uid(nix::unistd::getuid().as_raw()),
        gid: Gid(nix::unistd::getgid().as_raw()),
    };
    resolve::resolve(&spec, caller, &passwd, &group).map_err(|error| Error::Resolve {
        spec: args.user_spec.clone(),
        error,
    })
}
