//! sudrop against Debian's gosu on the same specs and databases: uid, gid, supplementary
//! groups (as the kernel reports them) and HOME must be identical.

use crate::databases::{GROUP, PASSWD};
use crate::sandbox::{Launch, Sandbox, code, gosu_path, root_or_skip, stdout};

const PROBE: &[&str] = &[
    "/bin/sh",
    "-c",
    "grep -E '^(Uid|Gid|Groups):' /proc/self/status; echo \"HOME=$HOME\"",
];

/// gosu's own test matrix (Dockerfile.test-*): 17 specs and the HOME cases.
const GOSU_SUITE_SPECS: &[&str] = &[
    "0",
    "0:0",
    "root",
    "0:root",
    "root:0",
    "root:root",
    "1000",
    "0:1000",
    "1000:1000",
    "root:1000",
    "1000:root",
    "1000:daemon",
    "games",
    "games:daemon",
    "0:",
    "",
    ":0",
    "nobody",
    "65534",
    "1000:0",
];

/// With gosu's matrix, the lab table of the reference and more.
const MORE_SPECS: &[&str] = &[
    ":",
    "alice",
    "alice:",
    "alice:staff",
    "alice:50",
    "1000:staff",
    ":staff",
    "nohome",
    "1001",
    "1234",
    "2000",
    "5000",
    "5000:staff",
    ":4242",
    "daemon",
    "65534:65534",
    "2147483647",
    "app",
    "3000:50",
];

fn all_specs() -> Vec<&'static str> {
    GOSU_SUITE_SPECS.iter().chain(MORE_SPECS).copied().collect()
}

/// Specs both must refuse.
const INVALID: &[&str] = &[
    "bogus",
    "0day",
    "0:bogus",
    "0:0day",
    "alice:bogus",
    "ALICE",
    " 5",
    "0x10",
    "1e3",
    "-1",
    "4294967296",
];

/// gosu's test suite also adds `nobody` to every group and `games` to `users`.
const GOSU_SUITE_PASSWD: &str = "root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
games:x:5:60:games:/usr/games:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
";
const GOSU_SUITE_GROUP: &str = "root:x:0:nobody
daemon:x:1:nobody
games:x:60:nobody
users:x:100:games,nobody
nogroup:x:65534:nobody
";

fn run_both(
    sandbox: &Sandbox,
    launch: &Launch,
    spec: &str,
) -> (std::process::Output, std::process::Output) {
    let gosu: Vec<&str> = ["gosu", spec].iter().chain(PROBE).copied().collect();
    let sudrop: Vec<&str> = ["sudrop", spec].iter().chain(PROBE).copied().collect();
    (
        sandbox.run_with(launch, &gosu),
        sandbox.run_with(launch, &sudrop),
    )
}

fn gosu_available(test: &str) -> bool {
    if gosu_path().is_some() {
        return true;
    }
    if std::env::var_os("SUDROP_REQUIRE_ROOT_TESTS").is_some() {
        panic!("{test}: gosu is not installed (apt-get install gosu)");
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: gosu is not installed");
    false
}

fn differential(test: &str, passwd: &str, group: &str, specs: &[&str], launch: &Launch) {
    if !root_or_skip(test) || !gosu_available(test) {
        return;
    }
    let sandbox = Sandbox::new(Some(passwd), Some(group));
    let mut compared = 0;
    for spec in specs {
        let (gosu, sudrop) = run_both(&sandbox, launch, spec);
        assert_eq!(code(&gosu), 0, "gosu {spec:?} failed: {gosu:?}");
        assert_eq!(code(&sudrop), 0, "sudrop {spec:?} failed: {sudrop:?}");
        assert!(
            stdout(&gosu).contains("Uid:"),
            "no probe output for {spec:?}"
        );
        assert_eq!(stdout(&sudrop), stdout(&gosu), "identity for spec {spec:?}");
        compared += 1;
    }
    for spec in INVALID {
        let (gosu, sudrop) = run_both(&sandbox, launch, spec);
        assert_eq!(code(&gosu), 1, "gosu accepted {spec:?}: {gosu:?}");
        assert_eq!(code(&sudrop), 125, "sudrop accepted {spec:?}: {sudrop:?}");
        assert_eq!(stdout(&sudrop), "", "the command ran for {spec:?}");
    }
    assert_eq!(compared, specs.len());
}

#[test]
fn same_identity_as_gosu_on_the_lab_database() {
    differential(
        "same_identity_as_gosu_on_the_lab_database",
        PASSWD,
        GROUP,
        &all_specs(),
        &Launch::default(),
    );
}

#[test]
fn same_identity_as_gosu_when_the_caller_has_another_gid() {
    // Unknown uids take the caller's gid: here 100, not 0.
    let launch = Launch {
        as_user: Some((0, 100)),
        ..Launch::default()
    };
    differential(
        "same_identity_as_gosu_when_the_caller_has_another_gid",
        PASSWD,
        GROUP,
        &all_specs(),
        &launch,
    );
}

#[test]
fn same_identity_as_gosu_on_gosus_own_test_database() {
    differential(
        "same_identity_as_gosu_on_gosus_own_test_database",
        GOSU_SUITE_PASSWD,
        GOSU_SUITE_GROUP,
        GOSU_SUITE_SPECS,
        &Launch::default(),
    );
}

#[test]
fn stricter_than_gosu_where_gosu_is_unsafe_or_lax() {
    let test = "stricter_than_gosu_where_gosu_is_unsafe_or_lax";
    if !root_or_skip(test) || !gosu_available(test) {
        return;
    }
    let sandbox = Sandbox::new(Some(PASSWD), Some(GROUP));
    let launch = Launch::default();
    // gosu reads `+5` as uid 5 and ignores a second colon; sudrop refuses both.
    for spec in ["+5", "alice:staff:junk"] {
        let (gosu, sudrop) = run_both(&sandbox, &launch, spec);
        assert_eq!(code(&gosu), 0, "gosu {spec}");
        assert_eq!(code(&sudrop), 125, "sudrop {spec}: {sudrop:?}");
    }
    // gosu stops at 2^31-1; sudrop takes every id up to 4294967294.
    let (gosu, sudrop) = run_both(&sandbox, &launch, "4294967294");
    assert_eq!(code(&gosu), 1);
    assert!(
        stdout(&sudrop).contains("Uid:\t4294967294\t4294967294"),
        "{sudrop:?}"
    );
}
