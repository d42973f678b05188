//! The command starts with exactly the signal mask and ignored set of sudrop's launcher.

use crate::databases::{GROUP, PASSWD};
use crate::sandbox::{Launch, Sandbox, code, root_or_skip, status_mask, stdout};
use nix::sys::signal::Signal;

fn bit(signal: Signal) -> u64 {
    1 << (signal as i32 - 1)
}

#[test]
fn ignored_and_blocked_signals_pass_through_exactly() {
    if !root_or_skip("ignored_and_blocked_signals_pass_through_exactly") {
        return;
    }
    let sandbox = Sandbox::new(Some(PASSWD), Some(GROUP));
    let launch = Launch {
        ignore: vec![Signal::SIGINT, Signal::SIGPIPE],
        block: vec![Signal::SIGUSR1],
        ..Launch::default()
    };
    // The same launcher without sudrop shows what the command should see.
    // (The test runner's own ancestry may add bits; only equality with the control counts.)
    let control = stdout(&sandbox.run_with(&launch, &["cat", "/proc/self/status"]));
    let ignored = bit(Signal::SIGINT) | bit(Signal::SIGPIPE);
    assert_eq!(
        status_mask(&control, "SigIgn") & ignored,
        ignored,
        "{control}"
    );
    assert_eq!(
        status_mask(&control, "SigBlk") & bit(Signal::SIGUSR1),
        bit(Signal::SIGUSR1),
        "{control}"
    );

    let via_sudrop =
        stdout(&sandbox.run_with(&launch, &["sudrop", "nobody", "cat", "/proc/self/status"]));
    assert_eq!(
        status_mask(&via_sudrop, "SigIgn"),
        status_mask(&control, "SigIgn"),
        "{via_sudrop}"
    );
    assert_eq!(
        status_mask(&via_sudrop, "SigBlk"),
        status_mask(&control, "SigBlk"),
        "{via_sudrop}"
    );
}

#[test]
fn sigpipe_stays_default_so_pipelines_end_quietly() {
    if !root_or_skip("sigpipe_stays_default_so_pipelines_end_quietly") {
        return;
    }
    let sandbox = Sandbox::new(Some(PASSWD), Some(GROUP));
    let control = stdout(&sandbox.run(&["cat", "/proc/self/status"]));
    let status = stdout(&sandbox.run(&["sudrop", "nobody", "cat", "/proc/self/status"]));
    assert_eq!(
        status_mask(&status, "SigIgn") & bit(Signal::SIGPIPE),
        0,
        "{status}"
    );
    assert_eq!(
        status_mask(&status, "SigIgn"),
        status_mask(&control, "SigIgn"),
        "{status}"
    );
    assert_eq!(
        status_mask(&status, "SigBlk"),
        status_mask(&control, "SigBlk"),
        "{status}"
    );
    // `yes` must die of SIGPIPE (141), not fail with "Broken pipe".
    let out = sandbox.run(&[
        "sudrop",
        "nobody",
        "sh",
        "-c",
        "set -o pipefail; yes | head -n 1 >/dev/null; echo $?",
    ]);
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "141\n"), "{out:?}");
}
