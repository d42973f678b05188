//! Project tasks, run as `cargo xtask <task>`.
//!
//! `cargo xtask test` is the whole test suite, as CI runs it: it installs what the tests need
//! (Debian packages, the musl target), builds the static release binary once, checks its size
//! and linkage, runs fmt and clippy, and runs every test with the root integration tests
//! required (not skipped) when running as root.

mod bench;
mod completions;
mod dist;
mod elf;
mod engine;
mod sbom;

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The stripped static x86_64 binary must stay within this many bytes, with every feature,
/// on stable Rust. (It was 684,592 before the syscall layer and the runtime parser; catatonit
/// is 699,160 bytes, tini-static 708,080 and gosu 2,225,848.)
pub(crate) const SIZE_BUDGET: u64 = 560_000;
const MUSL: &str = "x86_64-unknown-linux-musl";
/// Debian packages the tests use: the gosu oracle, busybox for the sandboxes' userland,
/// util-linux's unshare and setpriv, setcap, and a real redis-server for the shutdown test.
/// runc runs the end-to-end container tests; rpm lists the .rpm; tini is the benchmark's
/// reference; qemu-user runs the aarch64 binary; gpg signs SHA256SUMS with a throwaway key.
/// The benchmark also compares catatonit and dumb-init, and builds its C floor with musl-gcc.
const PACKAGES: &[(&str, &str)] = &[
    ("redis-server", "/usr/bin/redis-server"),
    ("runc", "/usr/sbin/runc"),
    ("rpm", "/usr/bin/rpm"),
    ("gosu", "/usr/sbin/gosu"),
    ("busybox-static", "/bin/busybox"),
    ("util-linux", "/usr/bin/unshare"),
    ("libcap2-bin", "/usr/sbin/setcap"),
    ("tini", "/usr/bin/tini-static"),
    ("qemu-user", "/usr/bin/qemu-aarch64"),
    ("gpg", "/usr/bin/gpg"),
    // gpg makes and uses keys through its agent, which is only a Recommends of gpg.
    ("gpg-agent", "/usr/bin/gpg-agent"),
    // The completions' tests run the real shells.
    (
        "bash-completion",
        "/usr/share/bash-completion/bash_completion",
    ),
    ("fish", "/usr/bin/fish"),
    ("zsh", "/usr/bin/zsh"),
];
const BENCH_PACKAGES: &[(&str, &str)] = &[
    ("catatonit", "/usr/bin/catatonit"),
    ("dumb-init", "/usr/bin/dumb-init"),
    ("musl-tools", "/usr/bin/musl-gcc"),
];

const USAGE: &str = "\
usage: cargo xtask COMMAND

  test                 the whole test suite, as CI runs it (root for all of it)
  engine-test          only the end-to-end suite under a real Docker engine and podman (root)
  dist                 release artifacts in target/dist, checked
  reproducible         after dist: build them again from a copy elsewhere; same bytes
  bench                benchmarks into docs/benchmarks.md (root)
  fuzz [--time SECS]   every fuzz target (nightly, cargo-fuzz)
  docs                 regenerate the man page and completions under packaging/
  build-static         the static musl release binary; prints its path
  help                 this text
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("engine-test") => engine_test(),
        Some("build-static") => build_static().map(|path| println!("{}", path.display())),
        Some("bench") => run_bench(),
        Some("dist") => install(&[("rpm", "/usr/bin/rpm")])
            .and_then(|()| dist::dist())
            .and_then(|()| dist::check()),
        Some("docs") => dist::write_docs(),
        Some("reproducible") => dist::check_reproducible(),
        Some("fuzz") => fuzz(&args[1..]),
        Some("help" | "--help" | "-h") => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}\n{USAGE}")),
        None => Err(format!("a command is needed\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the project")
        .to_path_buf()
}

pub(crate) fn cargo() -> Command {
    let mut command = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(project_root());
    command
}

pub(crate) fn run(mut command: Command) -> Result<(), String> {
    eprintln!("xtask: running {command:?}");
    let status = command
        .status()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed: {status}"))
    }
}

/// Runs a command with its output captured: its stdout, or an error with its stderr.
pub(crate) fn stdout_of(mut command: Command) -> Result<String, String> {
    let out = command
        .output()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{command:?} failed: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout == b"0\n")
}

/// Installs the Debian packages the tests need, where missing (root only).
fn install_packages() -> Result<(), String> {
    install(PACKAGES)
}

/// The packages whose file is not there.
fn missing_packages<'a>(packages: &[(&'a str, &str)]) -> Vec<&'a str> {
    packages
        .iter()
        .filter(|(_, path)| !Path::new(path).exists())
        .map(|(name, _)| *name)
        .collect()
}

fn install(packages: &[(&str, &str)]) -> Result<(), String> {
    let missing = missing_packages(packages);
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        eprintln!("xtask: not root, cannot install {missing:?}; the root tests will be skipped");
        return Ok(());
    }
    run({
        let mut c = Command::new("apt-get");
        c.args(["update", "-qq"]);
        c
    })?;
    // dpkg prints every unpacked package whatever apt-get's -qq: its output is shown only
    // when the install fails.
    eprintln!("xtask: installing {}", missing.join(" "));
    stdout_of({
        let mut c = Command::new("apt-get");
        c.args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive");
        c
    })
    .map(drop)
}

/// Builds the static musl release binary (checked: static, within the size budget).
fn build_static() -> Result<PathBuf, String> {
    dist::build_target(MUSL)
}

/// Whether an ELF file asks for a program interpreter (a dynamic loader).
pub(crate) fn has_interpreter(elf: &[u8]) -> Result<bool, String> {
    elf::Elf::parse(elf)?.has_interpreter()
}

/// Builds the static binary and the probe, then runs the side-by-side benchmark (root).
fn run_bench() -> Result<(), String> {
    install_packages()?;
    install(BENCH_PACKAGES)?;
    let sudrop = build_static()?;
    run({
        let mut c = cargo();
        c.args(["build", "--release", "--example", "probe"]);
        c
    })?;
    bench::bench(
        &sudrop,
        &project_root().join("target/release/examples/probe"),
    )
}

fn test() -> Result<(), String> {
    let mut suite = Suite::default();
    let missing = missing_packages(PACKAGES);
    let install = if is_root() {
        install(PACKAGES)
    } else {
        if !missing.is_empty() {
            eprintln!(
                "xtask: not root: cannot install {}; the steps that need them are skipped. To run \
                 everything: sudo apt-get install -y {} (then run this as root)",
                missing.join(" "),
                missing.join(" ")
            );
        }
        Ok(())
    };
    suite.check("install the test packages", install);
    let static_binary = match build_static() {
        Ok(path) => Some(path),
        Err(error) => {
            // Releases stay static musl; the tests then use the host build instead.
            eprintln!("xtask: no static musl build ({error}); testing the host build");
            None
        }
    };
    suite.check("cargo fmt --check", {
        let mut c = cargo();
        c.args(["fmt", "--all", "--", "--check"]);
        run(c)
    });
    suite.check("clippy", {
        let mut c = cargo();
        c.args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]);
        run(c)
    });
    match (&static_binary, Path::new("/usr/bin/rpm").exists()) {
        (None, _) => suite.skip("release artifacts", 2, "no static musl build"),
        (Some(_), false) => suite.skip(
            "release artifacts",
            2,
            "rpm is not installed, to list the .rpm (apt-get install rpm)",
        ),
        (Some(_), true) => {
            // The release artifacts: tarballs for both targets, .deb, .rpm, checked; then
            // the same again from a copy elsewhere.
            // Signed with a throwaway key, so that the signature's check runs too.
            suite.check(
                "release artifacts",
                dist::throwaway_signer().and_then(|signer| {
                    dist::dist_with(Some(&signer)).and_then(|()| dist::check_with(Some(&signer)))
                }),
            );
            suite.check("reproducible artifacts", dist::check_reproducible());
        }
    }
    let root_tests = root_tests_missing();
    if let Some(reason) = &root_tests {
        eprintln!("xtask: the root integration tests are skipped: {reason}");
    }
    let mut tests = cargo();
    if root_tests.is_none() {
        tests.args(["test", "--workspace"]);
        tests.env("SUDROP_REQUIRE_ROOT_TESTS", "1");
    } else {
        // Everything but the integration binary, whose tests all need root.
        tests.args([
            "test",
            "-p",
            "sudrop",
            "--lib",
            "--test",
            "cli",
            "--test",
            "properties",
            "--test",
            "completions",
        ]);
    }
    if let Some(path) = &static_binary {
        tests.env("SUDROP_TEST_BIN", path);
    }
    suite.tests("cargo test", run_counting(tests));
    // The unit tests on every other architecture: natively where this kernel runs it (i386),
    // else under qemu-user.
    for arch in dist::ARCHES.iter().filter(|arch| arch.target != MUSL) {
        let step = format!("unit tests, {}", arch.target);
        if let Err(reason) = dist::ensure_rust_target(arch.target) {
            suite.skip(&step, count_tests_lib()?, &reason);
            continue;
        }
        let mut unit = cargo();
        unit.args(["test", "-p", "sudrop", "--lib", "--target", arch.target]);
        if let Some(emulator) = arch.emulator {
            let variable = format!(
                "CARGO_TARGET_{}_RUNNER",
                arch.target.to_uppercase().replace('-', "_")
            );
            unit.env(variable, emulator);
        }
        suite.tests(&step, run_counting(unit));
    }
    let engine_tests = count_tests("engine")?;
    if let Some(reason) = &root_tests {
        suite.skip("integration (root)", count_tests("integration")?, reason);
        suite.skip(
            "engine",
            engine_tests,
            &format!("the root tests cannot run: {reason}"),
        );
        return suite.finish();
    }
    // The whole root suite again against the i386 release binary, which this kernel runs
    // natively: 32-bit ids, its own seccomp ABIs, its struct layouts, all against the real kernel.
    let i386 = project_root().join("target/i686-unknown-linux-musl/release/sudrop");
    if i386.exists() {
        let mut integration = cargo();
        integration
            .args(["test", "-p", "sudrop", "--test", "integration"])
            .env("SUDROP_REQUIRE_ROOT_TESTS", "1")
            .env("SUDROP_TEST_BIN", &i386);
        suite.tests("integration (root), i686 binary", run_counting(integration));
    } else {
        suite.skip(
            "integration (root), i686 binary",
            count_tests("integration")?,
            "no i686 release binary (the release artifacts were not built)",
        );
    }
    // `cargo test --workspace` counted the engine suite's tests as ignored (skipped); when
    // the engine runs here they move to passed or failed.
    let engine = match &static_binary {
        None => Err("no static musl binary to put into the images".to_string()),
        Some(sudrop) => engine::start(sudrop),
    };
    match engine {
        Err(reason) => suite.note_skipped("engine", engine_tests, &reason),
        Ok(engine) => {
            let (ran, result) = run_engine_suite(engine);
            suite.totals.ignored = suite.totals.ignored.saturating_sub(ran.passed + ran.failed);
            suite.tests("engine", (ran, result));
        }
    }
    suite.finish()
}

/// What every step of `cargo xtask test` came to, for one closing line over all of them.
#[derive(Default)]
struct Suite {
    totals: Totals,
    failed: Vec<String>,
    skipped: Vec<String>,
}

impl Suite {
    /// A step that is one check: one passed, or one failed.
    fn check(&mut self, step: &str, result: Result<(), String>) {
        match result {
            Ok(()) => self.totals.passed += 1,
            Err(error) => {
                eprintln!("xtask: {step} failed: {error}");
                self.totals.failed += 1;
                self.failed.push(step.into());
            }
        }
    }

    /// A step that runs test binaries: their counts, and whether it failed as a whole.
    fn tests(&mut self, step: &str, (totals, result): (Totals, Result<(), String>)) {
        self.totals.passed += totals.passed;
        self.totals.failed += totals.failed;
        self.totals.ignored += totals.ignored;
        if let Err(error) = result {
            eprintln!("xtask: {step} failed: {error}");
            // A build failure counts no test: the step itself is one failure.
            self.totals.failed += u64::from(totals.failed == 0);
            self.failed.push(step.into());
        }
    }

    /// A step not run: its tests count as skipped.
    fn skip(&mut self, step: &str, count: u64, reason: &str) {
        self.totals.ignored += count;
        self.note_skipped(step, count, reason);
    }

    /// A step not run whose tests another step already counted as skipped: only the reason.
    fn note_skipped(&mut self, step: &str, count: u64, reason: &str) {
        self.skipped
            .push(format!("{step} ({count} tests): {reason}"));
    }

    /// Says what was skipped and why, what failed, and closes with one line for the whole run.
    fn finish(self) -> Result<(), String> {
        for skipped in &self.skipped {
            eprintln!("xtask: skipped: {skipped}");
        }
        if !self.failed.is_empty() {
            eprintln!("xtask: failed steps: {}", self.failed.join(", "));
        }
        let Totals {
            passed,
            failed,
            ignored,
        } = self.totals;
        println!("{passed} passed, {failed} failed, {ignored} skipped");
        if !self.failed.is_empty() {
            return Err(format!("failed: {}", self.failed.join(", ")));
        }
        if passed == 0 {
            return Err("no test ran".into());
        }
        Ok(())
    }
}

/// Why the root integration tests cannot run here, if they cannot: not root, or no mount and
/// PID namespaces (root without CAP_SYS_ADMIN, as in a default `docker run`).
fn root_tests_missing() -> Option<String> {
    if !is_root() {
        return Some("not running as root".into());
    }
    let out = Command::new("unshare")
        .args(["--mount", "--pid", "--fork", "--mount-proc", "true"])
        .output();
    match out {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!(
            "`unshare --mount --pid --fork --mount-proc true` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(error) => Some(format!("cannot run unshare: {error}")),
    }
}

/// `cargo xtask engine-test`: only the end-to-end suite, with its engine (root).
fn engine_test() -> Result<(), String> {
    let sudrop = build_static()?;
    let (totals, result) = run_engine_suite(engine::start(&sudrop)?);
    println!("{} passed, {} failed", totals.passed, totals.failed);
    result
}

/// How many unit tests the library holds.
fn count_tests_lib() -> Result<u64, String> {
    let out = cargo()
        .args(["test", "-p", "sudrop", "--lib", "--", "--list"])
        .output()
        .map_err(|e| format!("listing the unit tests: {e}"))?;
    let listing = String::from_utf8_lossy(&out.stdout);
    Ok(listing.lines().filter(|l| l.ends_with(": test")).count() as u64)
}

/// How many tests one test binary (`tests/<name>`) holds.
fn count_tests(name: &str) -> Result<u64, String> {
    let out = cargo()
        .args(["test", "-p", "sudrop", "--test", name, "--", "--list"])
        .output()
        .map_err(|e| format!("listing the {name} tests: {e}"))?;
    let listing = String::from_utf8_lossy(&out.stdout);
    Ok(listing.lines().filter(|l| l.ends_with(": test")).count() as u64)
}

/// The end-to-end suite (`tests/engine/`) against the engine just started, which it stops
/// whatever the outcome; prints the figures the suite measured.
fn run_engine_suite(mut engine: engine::Engine) -> (Totals, Result<(), String>) {
    let results = project_root().join("target/engine/results.txt");
    let _ = std::fs::remove_file(&results);
    let mut tests = cargo();
    tests
        .args(["test", "-p", "sudrop", "--test", "engine", "--"])
        .args(["--ignored", "--test-threads", "4"])
        .env("SUDROP_ENGINE_DOCKER_HOST", &engine.docker_host);
    match &engine.podman_conf {
        Some(conf) => {
            tests.env("SUDROP_ENGINE_PODMAN_CONF", conf);
        }
        // Left out, so it stays counted as skipped (the reason was printed).
        None => {
            tests.args(["--skip", "podman"]);
        }
    }
    let started = std::time::Instant::now();
    let totals = run_counting(tests);
    engine.stop();
    eprintln!(
        "xtask: engine suite took {:.0} s; its measurements:\n{}",
        started.elapsed().as_secs_f64(),
        std::fs::read_to_string(&results).unwrap_or_default()
    );
    totals
}

/// The fuzz targets in `fuzz/fuzz_targets/`, each with its seeds in `fuzz/seeds/TARGET`.
const FUZZ_TARGETS: &[&str] = &["spec", "passwd", "group", "option_values", "resolve"];

/// `cargo xtask fuzz [--time SECONDS]`: runs every fuzz target for SECONDS (default 60) with
/// cargo-fuzz on nightly, installing both when missing. New inputs go to a corpus under
/// `fuzz/corpus/` (not committed); a crash leaves its input in `fuzz/artifacts/` and fails.
fn fuzz(args: &[String]) -> Result<(), String> {
    let seconds: u64 = match args {
        [] => 60,
        [flag, value] if flag == "--time" => value
            .parse()
            .map_err(|_| format!("--time takes whole seconds, not {value:?}"))?,
        _ => return Err("usage: cargo xtask fuzz [--time SECONDS]".into()),
    };
    let has_nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !has_nightly {
        run({
            let mut c = Command::new("rustup");
            c.args(["toolchain", "install", "nightly", "--profile", "minimal"]);
            c
        })?;
    }
    dist::ensure_cargo_tool("fuzz", "cargo-fuzz")?;
    let fuzz_dir = project_root().join("fuzz");
    for target in FUZZ_TARGETS {
        let corpus = fuzz_dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
        eprintln!("xtask: fuzzing {target} for {seconds} s");
        run({
            let mut c = Command::new("cargo");
            c.current_dir(&fuzz_dir)
                .args(["+nightly", "fuzz", "run", target])
                .arg(&corpus)
                .arg(fuzz_dir.join("seeds").join(target))
                .arg("--")
                .arg(format!("-max_total_time={seconds}"))
                .arg("-max_len=65536");
            c
        })?;
    }
    Ok(())
}

#[derive(Default)]
struct Totals {
    passed: u64,
    failed: u64,
    ignored: u64,
}

/// Runs `cargo test`, passing its output through and adding up libtest's result lines: the
/// counts, and whether the command succeeded.
fn run_counting(mut command: Command) -> (Totals, Result<(), String>) {
    use std::io::{BufRead, BufReader};
    eprintln!("xtask: running {command:?}");
    let mut totals = Totals::default();
    let spawned = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => return (totals, Err(format!("cannot start {command:?}: {e}"))),
    };
    // A test that cannot run here says `SKIPPED name: why` on stderr and returns, which
    // libtest counts as passed: those move to skipped.
    let stderr = child.stderr.take().map(|stderr| {
        std::thread::spawn(move || {
            let mut skipped = 0;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                skipped += u64::from(line.starts_with("SKIPPED "));
            }
            skipped
        })
    });
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            if let Some(counts) = line.strip_prefix("test result: ") {
                totals.add(counts);
            }
        }
    }
    let skipped = stderr.map_or(0, |reader| reader.join().unwrap_or(0));
    totals.passed = totals.passed.saturating_sub(skipped);
    totals.ignored += skipped;
    let result = match child.wait() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{command:?} failed: {status}")),
        Err(e) => Err(format!("waiting for {command:?}: {e}")),
    };
    (totals, result)
}

impl Totals {
    /// Adds one libtest result line's counts (`ok. 3 passed; 0 failed; 1 ignored; ...`).
    fn add(&mut self, counts: &str) {
        for part in counts.split(['.', ';']) {
            let mut words = part.split_whitespace();
            let (Some(number), Some(what)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(number) = number.parse::<u64>() else {
                continue;
            };
            match what {
                "passed" => self.passed += number,
                "failed" => self.failed += number,
                "ignored" => self.ignored += number,
                _ => {}
            }
        }
    }
}
