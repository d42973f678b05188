//! `cargo xtask bench`: sudrop against the tools it replaces, on this machine. Numbers only;
//! nothing here passes or fails on timing. Results go to stdout and to `docs/benchmarks.md`
//! with a chart, `docs/benchmarks.svg`.
//!
//! Start-up cost is measured as tools are used: each contender runs `/bin/true` as nobody,
//! again and again, and its cost is what it adds to a bare `/bin/true`. Rounds interleave the
//! contenders, each round starting one contender later, so that a noisy moment of the
//! machine hits all of them; the figure is the median over rounds. CPU time and minor page faults are the children's own (getrusage), the same
//! counts `perf stat` reports as task-clock and page-faults.

mod init;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const ROUNDS: usize = 15;
const CALLS: usize = 100;

/// One command line to time.
struct Contender {
    name: String,
    argv: Vec<String>,
}

fn contender(name: &str, argv: &[&str]) -> Contender {
    Contender {
        name: name.to_string(),
        argv: argv.iter().map(|a| a.to_string()).collect(),
    }
}

/// Per-call figures of one batch: wall µs, CPU µs (user+sys), minor faults.
#[derive(Clone, Copy, Default)]
struct Sample {
    wall: f64,
    cpu: f64,
    faults: f64,
}

fn children_usage() -> (f64, f64) {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let micros = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    (
        micros(usage.ru_utime) + micros(usage.ru_stime),
        usage.ru_minflt as f64,
    )
}

fn batch(contender: &Contender) -> Result<Sample, String> {
    let (cpu_before, faults_before) = children_usage();
    let started = Instant::now();
    for _ in 0..CALLS {
        let mut command = Command::new(&contender.argv[0]);
        // As a container starts: stdin, stdout and stderr, nothing else inherited from
        // whatever started the bench (a shell's stray descriptors would make sudrop list
        // /proc/self/fd looking for terminals).
        // SAFETY: close_range is async-signal-safe and touches no memory.
        unsafe {
            use std::os::unix::process::CommandExt;
            command.pre_exec(|| {
                libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
                Ok(())
            });
        }
        let status = command
            .args(&contender.argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("{}: {e}", contender.name))?;
        if !status.success() {
            return Err(format!("{} failed: {status}", contender.argv.join(" ")));
        }
    }
    let wall = started.elapsed().as_secs_f64() * 1e6;
    let (cpu_after, faults_after) = children_usage();
    let calls = CALLS as f64;
    Ok(Sample {
        wall: wall / calls,
        cpu: (cpu_after - cpu_before) / calls,
        faults: (faults_after - faults_before) / calls,
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Medians over interleaved rounds, per contender.
fn measure(contenders: &[Contender], what: &str) -> Result<Vec<Sample>, String> {
    let mut samples: Vec<Vec<Sample>> = contenders.iter().map(|_| Vec::new()).collect();
    for round in 0..ROUNDS {
        eprintln!("bench: {what}, round {} of {ROUNDS}", round + 1);
        // Each round starts one contender later, so that no contender always runs right
        // after the same neighbour (a position in the round measurably biases its figure).
        for offset in 0..contenders.len() {
            let index = (round + offset) % contenders.len();
            samples[index].push(batch(&contenders[index])?);
        }
    }
    Ok(samples
        .into_iter()
        .map(|s| Sample {
            wall: median(s.iter().map(|x| x.wall).collect()),
            cpu: median(s.iter().map(|x| x.cpu).collect()),
            faults: median(s.iter().map(|x| x.faults).collect()),
        })
        .collect())
}

fn run_text(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|out| {
            let text = if out.stdout.is_empty() {
                out.stderr
            } else {
                out.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_else(|_| "unavailable".into())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|r| {
            r.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|n| n.trim_matches('"').to_string())
        })
        .unwrap_or_default();
    let mut files = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into a valid rlimit.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut files) };
    // Above 1024 open files, sudrop lists /proc/self/fd to look for terminals (see README).
    format!(
        "{os}, Linux {}, {cpu}, {cores} cores, open-file limit {} (soft); {}",
        run_text("uname", &["-r"]),
        files.rlim_cur,
        run_text("rustc", &["--version"])
    )
}

/// Builds the C floor (static, musl when musl-gcc is there).
fn build_floor(dir: &Path) -> Result<PathBuf, String> {
    let source = crate::project_root().join("xtask/src/bench/floor.c");
    let output = dir.join("c-floor");
    let compiler = if Path::new("/usr/bin/musl-gcc").exists() {
        "musl-gcc"
    } else {
        "cc"
    };
    crate::run({
        let mut c = Command::new(compiler);
        c.args(["-static", "-Os", "-s", "-o"])
            .arg(&output)
            .arg(&source);
        c
    })?;
    Ok(output)
}

fn size_of(path: &str) -> String {
    std::fs::metadata(path).map_or_else(|_| "–".into(), |m| m.len().to_string())
}

fn linkage(path: &str) -> &'static str {
    match std::fs::read(path).map(|elf| crate::has_interpreter(&elf)) {
        Ok(Ok(false)) => "static",
        Ok(Ok(true)) => "dynamic",
        _ => "?",
    }
}

/// Runs every part of the benchmark (root) and writes the results.
pub fn bench(sudrop: &Path, probe: &Path) -> Result<(), String> {
    for tool in [
        "/usr/sbin/gosu",
        "/usr/bin/tini-static",
        "/usr/bin/catatonit",
        "/usr/bin/dumb-init",
    ] {
        if !Path::new(tool).exists() {
            return Err(format!("{tool} is missing"));
        }
    }
    // Everything the benchmark runs as nobody lives in a directory nobody can reach, whatever
    // the checkout's permissions.
    let dir = std::env::temp_dir().join(format!("sudrop-bench.{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let floor = build_floor(&dir)?;
    let sudrop_copy = dir.join("sudrop");
    let probe_copy = dir.join("probe");
    for (from, to) in [(sudrop, &sudrop_copy), (probe, &probe_copy)] {
        std::fs::copy(from, to).map_err(|e| format!("copy {}: {e}", from.display()))?;
    }
    crate::run({
        let mut c = Command::new("chmod");
        c.args(["755"]).arg(&dir);
        c
    })?;
    let result = run_all(&sudrop_copy, &floor, &probe_copy);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_all(sudrop: &Path, floor: &Path, probe: &Path) -> Result<(), String> {
    let sudrop = sudrop.to_str().ok_or("path")?;
    let floor = floor.to_str().ok_or("path")?;
    let baseline = std::env::var("SUDROP_BENCH_BASELINE").ok();
    let mut exec = vec![
        contender("/bin/true alone", &["/bin/true"]),
        contender("C floor", &[floor, "65534", "/bin/true"]),
        contender(
            "C doing sudrop's job",
            &[floor, "--same-job", "nobody", "/bin/true"],
        ),
        contender(
            "C doing sudrop's job for 65534, no user database",
            &[floor, "--no-lookup", "65534", "/bin/true"],
        ),
        contender("sudrop nobody", &[sudrop, "nobody", "/bin/true"]),
        contender("sudrop 65534", &[sudrop, "65534", "/bin/true"]),
        contender("gosu nobody", &["/usr/sbin/gosu", "nobody", "/bin/true"]),
        contender(
            "setpriv --reuid --regid --clear-groups",
            &[
                "/usr/bin/setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "/bin/true",
            ],
        ),
    ];
    if let Some(old) = &baseline {
        exec.push(contender(
            "sudrop nobody (baseline build)",
            &[old, "nobody", "/bin/true"],
        ));
    }
    let exec_results = measure(&exec, "exec mode")?;

    let mut inits = vec![
        contender("/bin/true alone", &["/bin/true"]),
        contender(
            "tini-static",
            &["/usr/bin/tini-static", "-s", "--", "/bin/true"],
        ),
        contender("catatonit", &["/usr/bin/catatonit", "--", "/bin/true"]),
        contender("dumb-init", &["/usr/bin/dumb-init", "/bin/true"]),
        contender(
            "sudrop --init nobody",
            &[sudrop, "--init", "nobody", "/bin/true"],
        ),
        contender(
            "C init floor, no user switch",
            &[floor, "--init-only", "/bin/true"],
        ),
        contender(
            "C doing sudrop --init's job",
            &[floor, "--init-job", "nobody", "/bin/true"],
        ),
    ];
    if let Some(old) = &baseline {
        inits.push(contender(
            "sudrop --init nobody (baseline build)",
            &[old, "--init", "nobody", "/bin/true"],
        ));
    }
    let init_results = measure(&inits, "init start")?;

    // The same under the 14 capabilities Docker leaves a container's root: what is in the
    // bounding set decides how many drops there are. Every row runs under the same setpriv,
    // `/bin/true` included, so the overheads are sudrop's and C's own.
    let docker = |argv: &[&str]| {
        let mut line = vec!["/usr/bin/setpriv", DOCKER_BOUNDING];
        line.extend_from_slice(argv);
        line.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let docker_inits: Vec<Contender> = [
        ("/bin/true alone", vec!["/bin/true"]),
        (
            "sudrop --init nobody",
            vec![sudrop, "--init", "nobody", "/bin/true"],
        ),
        (
            "C doing sudrop --init's job",
            vec![floor, "--init-job", "nobody", "/bin/true"],
        ),
        ("sudrop nobody", vec![sudrop, "nobody", "/bin/true"]),
        (
            "C doing sudrop's job",
            vec![floor, "--same-job", "nobody", "/bin/true"],
        ),
    ]
    .into_iter()
    .map(|(name, argv)| Contender {
        name: format!("{name}, Docker's capabilities"),
        argv: docker(&argv),
    })
    .collect();
    let docker_results = measure(&docker_inits, "start under Docker's capabilities")?;

    let figures = init::figures(Path::new(sudrop), probe)?;

    let date = run_text("date", &["-u", "+%Y-%m-%d"]);
    let mut doc = String::new();
    let _ = writeln!(
        doc,
        "# Benchmarks\n\nWritten by `cargo xtask bench` on {date}: {}.\n\n\
         Versions: {}; {}; {}; {}; {}.\n",
        machine(),
        run_text("/usr/sbin/gosu", &["--version"]),
        run_text("/usr/bin/setpriv", &["--version"]),
        run_text("/usr/bin/tini-static", &["--version"]),
        run_text("/usr/bin/catatonit", &["--version"]),
        run_text("/usr/bin/dumb-init", &["--version"]),
    );
    let _ = writeln!(
        doc,
        "Each contender runs `/bin/true` as nobody, {CALLS} times a round, {ROUNDS} rounds \
         interleaved (each round starting one contender later); figures are medians over \
         rounds, per call. Overhead is what the contender adds to `/bin/true` alone. The C floor (`xtask/src/bench/floor.c`, static musl) does \
         setgroups, setgid, setuid and execvp for a numeric user. \"C doing sudrop's job\" is \
         the same program given the user name, as sudrop is: it looks the user up as su-exec \
         does (musl's getpwnam and getgrouplist), sets HOME, empties the bounding set, drops \
         groups, gid and uid, clears the capability sets and checks that setuid(0) fails. \
         The row \"no user database\" does that job for a numeric uid without reading \
         /etc/passwd or /etc/group, which sudrop still reads for a number (gosu's semantics: \
         its name, home and groups). In the init table, \"C init floor\" is the least an \
         init does, as root and switching no user: every signal blocked and read from a \
         signalfd, child subreaper, the command started with vfork and reaped at SIGCHLD; \
         \"C doing sudrop --init's job\" is the job above followed by that init. CPU is the \
         children's user+sys time and faults their minor page faults (getrusage; what `perf \
         stat` calls task-clock and page-faults). Timing varies by tens of percent between \
         runs on a shared machine: compare rows of one run.\n"
    );
    let exec_table = overhead_table(&exec, &exec_results);
    let init_table = overhead_table(&inits, &init_results);
    let _ = writeln!(doc, "## Exec mode: start-up cost\n\n{exec_table}");
    let _ = writeln!(doc, "{}", exec_goals(&exec_results));
    let _ = writeln!(doc, "## Init mode: start-up cost\n\n{init_table}");
    let _ = writeln!(doc, "{}", init_goal(&init_results));
    let _ = writeln!(
        doc,
        "## Start-up cost under Docker's 14 capabilities\n\nEvery row, `/bin/true` included, runs \
         under `setpriv {DOCKER_BOUNDING}`, which leaves root the capabilities Docker gives a \
         container.\n\n{}",
        overhead_table(&docker_inits, &docker_results)
    );
    let _ = writeln!(
        doc,
        "sudrop --init nobody's start overhead against C doing the same job: {}; sudrop \
         nobody's: {} (the goals: at most 1.0×).\n",
        against(&docker_results, 1, 2),
        against(&docker_results, 3, 4),
    );
    let _ = writeln!(
        doc,
        "## Binary sizes (bytes)\n\n| binary | size | linkage |\n|---|---|---|"
    );
    for (name, path) in [
        ("sudrop (musl, stripped)", sudrop),
        ("C floor (musl, stripped)", floor),
        ("gosu", "/usr/sbin/gosu"),
        ("setpriv", "/usr/bin/setpriv"),
        ("tini-static", "/usr/bin/tini-static"),
        ("catatonit", "/usr/bin/catatonit"),
        ("dumb-init", "/usr/bin/dumb-init"),
    ] {
        let _ = writeln!(doc, "| {name} | {} | {} |", size_of(path), linkage(path));
    }
    doc.push('\n');
    let _ = writeln!(
        doc,
        "## Init mode: running\n\nIdle RSS and wakeups with `sleep` as the command, signal \
         forwarding latency (kill on the init to the command's read), and reaping orphans; \
         each init as PID 1 of its own PID namespace.\n\n{figures}"
    );
    let _ = writeln!(doc, "![start-up overhead](benchmarks.svg)");
    print!("{doc}");
    let docs = crate::project_root().join("docs");
    std::fs::create_dir_all(&docs).map_err(|e| e.to_string())?;
    std::fs::write(docs.join("benchmarks.md"), &doc).map_err(|e| e.to_string())?;
    std::fs::write(
        docs.join("benchmarks.svg"),
        chart(&exec, &exec_results, &inits, &init_results),
    )
    .map_err(|e| e.to_string())?;
    eprintln!("bench: wrote docs/benchmarks.md and docs/benchmarks.svg");
    Ok(())
}

fn overhead_table(contenders: &[Contender], results: &[Sample]) -> String {
    let base = results[0];
    let mut table = String::from(
        "| contender | wall µs | overhead µs | CPU µs | CPU overhead µs | page faults |\n|---|---|---|---|---|---|\n",
    );
    for (contender, sample) in contenders.iter().zip(results) {
        let _ = writeln!(
            table,
            "| {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} |",
            contender.name,
            sample.wall,
            sample.wall - base.wall,
            sample.cpu,
            sample.cpu - base.cpu,
            sample.faults
        );
    }
    table
}

fn ratio(of: f64, to: f64) -> String {
    if to <= 0.0 {
        "n/a".into()
    } else {
        format!("{:.2}×", of / to)
    }
}

/// Row `row`'s overhead against row `reference`'s (overheads over row 0, `/bin/true` alone),
/// wall and CPU.
fn against(results: &[Sample], row: usize, reference: usize) -> String {
    let base = results[0];
    format!(
        "{} wall, {} CPU",
        ratio(
            results[row].wall - base.wall,
            results[reference].wall - base.wall
        ),
        ratio(
            results[row].cpu - base.cpu,
            results[reference].cpu - base.cpu
        ),
    )
}

/// The exec goal: sudrop's overhead against the C references (rows: 1 C floor, 2 C doing the
/// job, 3 the job without the database, 4 sudrop nobody, 5 sudrop 65534).
fn exec_goals(results: &[Sample]) -> String {
    format!(
        "sudrop nobody's overhead against C doing the same job: {} (the goal: at most 1.0×). \
         sudrop 65534's against the job without the user database: {}. sudrop nobody's \
         against the bare C floor: {}.\n",
        against(results, 4, 2),
        against(results, 5, 3),
        against(results, 4, 1),
    )
}

/// The init goal: sudrop --init's start against tini-static's, and both C init rows against
/// tini-static's, which show how far down the same work can go on this machine (rows: 1
/// tini-static, 4 sudrop --init, 5 the C init floor, 6 C doing sudrop --init's job).
fn init_goal(results: &[Sample]) -> String {
    format!(
        "Start overhead against C doing sudrop --init's job: {} (the goal: at most 1.0×). \
         Against tini-static's: sudrop --init {}; C doing sudrop --init's job {}; the C init \
         floor, which switches no user, {}.\n",
        against(results, 4, 6),
        against(results, 4, 1),
        against(results, 6, 1),
        against(results, 5, 1),
    )
}

/// The bounding set Docker leaves a container's root (its default 14 capabilities), as
/// setpriv's option.
const DOCKER_BOUNDING: &str = "--bounding-set=-all,+chown,+dac_override,+fowner,+fsetid,+kill,\
+setgid,+setuid,+setpcap,+net_bind_service,+net_raw,+sys_chroot,+mknod,+audit_write,+setfcap";

/// A horizontal bar chart of CPU overhead per call.
fn chart(
    exec: &[Contender],
    exec_results: &[Sample],
    inits: &[Contender],
    init_results: &[Sample],
) -> String {
    let mut rows: Vec<(String, f64, bool)> = Vec::new();
    for (group, contenders, results) in
        [("exec", exec, exec_results), ("init", inits, init_results)]
    {
        let base = results[0].cpu;
        for (contender, sample) in contenders.iter().zip(results).skip(1) {
            let name = format!("{group}: {}", contender.name);
            rows.push((
                name,
                (sample.cpu - base).max(0.0),
                contender.name.starts_with("sudrop"),
            ));
        }
    }
    let widest = rows.iter().map(|r| r.1).fold(1.0, f64::max);
    let (label_width, bar_width, row_height) = (430.0, 420.0, 26.0);
    let height = 50.0 + row_height * rows.len() as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"13\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"22\" font-size=\"15\">CPU time each tool adds to /bin/true (µs per call, median; lower is better)</text>\n",
        label_width + bar_width + 80.0
    );
    for (index, (name, value, ours)) in rows.iter().enumerate() {
        let y = 40.0 + row_height * index as f64;
        let length = value / widest * bar_width;
        let colour = match (*ours, name.contains("baseline")) {
            (true, false) => "#d9480f",
            (true, true) => "#f4a582",
            _ => "#868e96",
        };
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{label_width}\" y=\"{y}\" width=\"{length:.1}\" height=\"18\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"{}\">{value:.0}</text>",
            label_width - 8.0,
            y + 14.0,
            name.replace('&', "&amp;").replace('<', "&lt;"),
            label_width + length + 6.0,
            y + 14.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}
