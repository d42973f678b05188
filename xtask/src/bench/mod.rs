//! `cargo xtask bench`: sudrop against the tools it replaces, on this machine. Numbers only;
//! nothing here passes or fails on timing. Results go to stdout and to `docs/benchmarks.md`
//! with a chart, `docs/benchmarks.svg`.
//!
//! Start-up cost is measured as tools are used: each contender runs `/bin/true` as nobody,
//! again and again, and its cost is what it adds to a bare `/bin/true`. The contenders take
//! turns call by call (a round is one call of each, each round starting one contender later),
//! so that a slow moment of the machine, or a drift over the run, hits all of them alike; a
//! figure is the median over all calls. A ratio between two rows is also worked out for each
//! fifth of the rounds on its own, and the spread of those five is given beside it: a ratio
//! whose fifths straddle 1.0 is not a difference this machine can show.
//!
//! Calls are started with `posix_spawn` (a `vfork`, so the bench's own size adds no
//! page-table copy) with `/dev/null` as stdin, stdout and stderr and nothing else open. Wall
//! time runs from the spawn to the reaping `wait4`; CPU time and minor page faults are the
//! child's own, its reaped children included (the rusage `wait4` returns: what `perf stat`
//! calls task-clock and page-faults).

mod init;

use std::ffi::CString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Calls of each contender; the medians are over all of them.
const ROUNDS: usize = 2500;
/// The parts a run is cut into for the spread of a ratio.
const FIFTHS: usize = 5;

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

/// Figures of one call, or medians over calls: wall µs, CPU µs (user+sys), minor faults.
#[derive(Clone, Copy)]
struct Sample {
    wall: f64,
    cpu: f64,
    faults: f64,
}

/// Every call of every contender, in order; `of[contender][round]`.
struct Calls {
    of: Vec<Vec<Sample>>,
}

/// Marks every descriptor the bench inherited close-on-exec, so that a call starts with
/// stdin, stdout and stderr only, as a container does (a shell's stray descriptors would make
/// sudrop list /proc/self/fd looking for terminals).
fn close_inherited_on_exec() {
    const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;
    // SAFETY: integer arguments only; marks descriptors, touches no memory.
    unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, CLOSE_RANGE_CLOEXEC) };
}

/// The environment every call gets: what Docker gives a container whose image sets none
/// (sudrop and the C reference both walk the environment, so the bench's own, which cargo
/// fills with some twenty variables of its own, would weigh on both).
const CONTAINER_ENVIRONMENT: [&std::ffi::CStr; 3] = [
    c"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    c"HOSTNAME=0123456789ab",
    c"HOME=/root",
];

/// Runs `argv` once and returns its figures.
fn call(argv: &[CString]) -> Result<Sample, String> {
    let mut pointers: Vec<*mut libc::c_char> = argv.iter().map(|a| a.as_ptr().cast_mut()).collect();
    pointers.push(std::ptr::null_mut());
    let null = c"/dev/null";
    let started = Instant::now();
    let environment: [*mut libc::c_char; 4] = [
        CONTAINER_ENVIRONMENT[0].as_ptr().cast_mut(),
        CONTAINER_ENVIRONMENT[1].as_ptr().cast_mut(),
        CONTAINER_ENVIRONMENT[2].as_ptr().cast_mut(),
        std::ptr::null_mut(),
    ];
    // SAFETY: the file actions are initialised before use and destroyed after; every pointer
    // handed to posix_spawn points into `argv`, `pointers`, `environment` or a literal, all
    // alive across the call; wait4 writes into locals.
    let (status, usage) = unsafe {
        let mut actions = std::mem::zeroed::<libc::posix_spawn_file_actions_t>();
        libc::posix_spawn_file_actions_init(&mut actions);
        libc::posix_spawn_file_actions_addopen(&mut actions, 0, null.as_ptr(), libc::O_RDONLY, 0);
        for fd in [1, 2] {
            libc::posix_spawn_file_actions_addopen(
                &mut actions,
                fd,
                null.as_ptr(),
                libc::O_WRONLY,
                0,
            );
        }
        let mut pid = 0;
        let spawned = libc::posix_spawn(
            &mut pid,
            pointers[0],
            &actions,
            std::ptr::null(),
            pointers.as_ptr(),
            environment.as_ptr(),
        );
        libc::posix_spawn_file_actions_destroy(&mut actions);
        if spawned != 0 {
            return Err(format!(
                "{}: {}",
                argv[0].to_string_lossy(),
                std::io::Error::from_raw_os_error(spawned)
            ));
        }
        let mut status = 0;
        let mut usage = std::mem::zeroed::<libc::rusage>();
        if libc::wait4(pid, &mut status, 0, &mut usage) != pid {
            return Err(format!("wait4: {}", std::io::Error::last_os_error()));
        }
        (status, usage)
    };
    let wall = started.elapsed().as_secs_f64() * 1e6;
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        let line: Vec<_> = argv.iter().map(|a| a.to_string_lossy()).collect();
        return Err(format!(
            "{} failed: wait status {status:#x}",
            line.join(" ")
        ));
    }
    let micros = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    Ok(Sample {
        wall,
        cpu: micros(usage.ru_utime) + micros(usage.ru_stime),
        faults: usage.ru_minflt as f64,
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The medians of `samples`, figure by figure.
fn medians(samples: &[Sample]) -> Sample {
    Sample {
        wall: median(samples.iter().map(|x| x.wall).collect()),
        cpu: median(samples.iter().map(|x| x.cpu).collect()),
        faults: median(samples.iter().map(|x| x.faults).collect()),
    }
}

impl Calls {
    /// The medians over every call, per contender.
    fn medians(&self) -> Vec<Sample> {
        self.of.iter().map(|calls| medians(calls)).collect()
    }

    /// The medians over one fifth of the rounds, per contender.
    fn fifth(&self, part: usize) -> Vec<Sample> {
        self.of
            .iter()
            .map(|calls| {
                let length = calls.len() / FIFTHS;
                medians(&calls[part * length..(part + 1) * length])
            })
            .collect()
    }
}

/// Calls every contender `ROUNDS` times, taking turns call by call.
fn measure(contenders: &[Contender], what: &str) -> Result<Calls, String> {
    let argvs: Vec<Vec<CString>> = contenders
        .iter()
        .map(|c| {
            c.argv
                .iter()
                .map(|a| CString::new(a.as_str()).map_err(|e| e.to_string()))
                .collect()
        })
        .collect::<Result<_, _>>()?;
    let mut of: Vec<Vec<Sample>> = contenders.iter().map(|_| Vec::new()).collect();
    for round in 0..ROUNDS {
        if round % (ROUNDS / 10) == 0 {
            eprintln!("bench: {what}, round {} of {ROUNDS}", round + 1);
        }
        // Each round starts one contender later, so that no contender always runs right
        // after the same neighbour (a position in the round measurably biases its figure).
        for offset in 0..contenders.len() {
            let index = (round + offset) % contenders.len();
            of[index].push(call(&argvs[index])?);
        }
    }
    Ok(Calls { of })
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
    // Part of the setting a start runs in (the bench closes every inherited descriptor).
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
    let baseline = std::env::var_os("SUDROP_BENCH_BASELINE").map(PathBuf::from);
    let baseline_copy = dir.join("sudrop-baseline");
    let mut copies = vec![(sudrop, &sudrop_copy), (probe, &probe_copy)];
    if let Some(baseline) = &baseline {
        copies.push((baseline, &baseline_copy));
    }
    for (from, to) in copies {
        std::fs::copy(from, to).map_err(|e| format!("copy {}: {e}", from.display()))?;
    }
    // How a binary came into the page cache changes what running it costs (a file just
    // written is cached differently from one read in by its first exec, by up to 20 µs a
    // start here): every binary compared is dropped from the cache, so that each is read in
    // the same way, by its first run.
    for binary in [&sudrop_copy, &floor, &baseline_copy] {
        if binary.exists() {
            uncache(binary)?;
        }
    }
    crate::run({
        let mut c = Command::new("chmod");
        c.args(["755"]).arg(&dir);
        c
    })?;
    close_inherited_on_exec();
    let result = run_all(
        &sudrop_copy,
        &floor,
        &probe_copy,
        baseline.is_some().then_some(baseline_copy.as_path()),
    );
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Writes `path` out and drops it from the page cache.
fn uncache(path: &Path) -> Result<(), String> {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    file.sync_all()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    // SAFETY: an advice on a descriptor this function holds open; no memory is involved.
    let advised = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    if advised != 0 {
        return Err(format!(
            "{}: posix_fadvise: {}",
            path.display(),
            std::io::Error::from_raw_os_error(advised)
        ));
    }
    Ok(())
}

fn run_all(
    sudrop: &Path,
    floor: &Path,
    probe: &Path,
    baseline: Option<&Path>,
) -> Result<(), String> {
    let sudrop = sudrop.to_str().ok_or("path")?;
    let floor = floor.to_str().ok_or("path")?;
    let baseline = baseline.map(|b| b.to_str().ok_or("path")).transpose()?;
    let mut exec = vec![
        contender("/bin/true alone", &["/bin/true"]),
        contender("C floor", &[floor, "65534", "/bin/true"]),
        contender(
            "C doing sudrop's job",
            &[floor, "--same-job", "nobody", "/bin/true"],
        ),
        contender(
            "C doing su-exec's job for 65534, no user database",
            &[floor, "--no-lookup", "65534", "/bin/true"],
        ),
        contender("sudrop nobody", &[sudrop, "nobody", "/bin/true"]),
        contender("sudrop 65534", &[sudrop, "65534", "/bin/true"]),
        contender(
            "C doing su-exec's job",
            &[floor, "--suexec-job", "nobody", "/bin/true"],
        ),
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
    if let Some(old) = baseline {
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
    if let Some(old) = baseline {
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
        "Each contender runs `/bin/true` as nobody, {ROUNDS} times, the contenders taking \
         turns call by call (each round starting one contender later); figures are medians \
         over all calls. Overhead is what the contender adds to `/bin/true` alone. A ratio of \
         two overheads is given with its lowest and highest value over the five fifths of the \
         run, each worked out on its own: the spread is how far this machine moves the ratio. \
         Calls are started with posix_spawn, with /dev/null as stdin, stdout and stderr and \
         nothing else open, and the environment Docker gives a container (PATH, HOSTNAME and \
         HOME). Every binary compared is written out and dropped from the page \
         cache first, so that each is read in the same way, by its first run (how a file came \
         into the cache moves its start-up cost by up to 20 µs here). The C floor (`xtask/src/bench/floor.c`, static musl) does \
         setgroups, setgid, setuid and execvp for a numeric user. \"C doing sudrop's job\" is \
         the same program given the user name, doing what sudrop does, step for step: it reads \
         the caller's ids, groups and capabilities, looks the user up as su-exec does (musl's \
         getpwnam and getgrouplist), sets HOME, looks for a terminal in reach (stdin, stdout \
         and stderr, /dev/tty, and the descriptors above 2 as /proc/self/fd counts them), \
         takes the facts of stdin, stdout and stderr that the hand-over needs, finds the \
         command on PATH, empties the bounding set, sets groups (when they differ), gid and \
         uid, clears the capability sets, sets no_new_privs, and checks the result (ids, \
         groups, capability sets, the bounding set, and that uid 0 and gid 0 cannot be had \
         back). \"su-exec's job\" is the part of it su-exec and gosu do (the look-up, HOME, the \
         bounding set, the ids, the capability sets and the setuid(0) check), which this \
         table showed as \"C doing sudrop's job\" before 2026-12-06. The row \"no user \
         database\" does that part for a numeric uid without reading /etc/passwd or \
         /etc/group, which sudrop still reads for a number (gosu's semantics: its name, home \
         and groups). In the init table, \"C init floor\" is the least an init does, as root \
         and switching no user: every signal blocked and read from a signalfd, child \
         subreaper, the command started with vfork and reaped at SIGCHLD; \"C doing sudrop \
         --init's job\" is sudrop's job above followed by the init sudrop runs: the launcher's \
         SIGCHLD disposition read, the parent's pid kept for the parent-death check, the \
         command in a process group of its own, the init out of the launch directory and \
         holding no inherited descriptor, and every child reaped until none is left. CPU is \
         the child's user+sys time and faults its minor page faults (wait4's rusage; what \
         `perf stat` calls task-clock and page-faults).\n"
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

fn overhead_table(contenders: &[Contender], calls: &Calls) -> String {
    let results = calls.medians();
    let base = results[0];
    let mut table = String::from(
        "| contender | wall µs | overhead µs | CPU µs | CPU overhead µs | page faults |\n|---|---|---|---|---|---|\n",
    );
    for (contender, sample) in contenders.iter().zip(&results) {
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

/// Row `row`'s overhead over row 0 (`/bin/true` alone) divided by row `reference`'s, by
/// `figure` (wall or CPU) of `results`; `None` when the reference adds nothing.
fn overhead_ratio(
    results: &[Sample],
    row: usize,
    reference: usize,
    figure: fn(&Sample) -> f64,
) -> Option<f64> {
    let base = figure(&results[0]);
    let under = figure(&results[reference]) - base;
    (under > 0.0).then(|| (figure(&results[row]) - base) / under)
}

/// The ratio over all calls and the lowest and highest over the fifths of the run.
struct Ratio {
    all: Option<f64>,
    fifths: Option<(f64, f64)>,
}

fn ratio(calls: &Calls, row: usize, reference: usize, figure: fn(&Sample) -> f64) -> Ratio {
    let all = overhead_ratio(&calls.medians(), row, reference, figure);
    let parts: Option<Vec<f64>> = (0..FIFTHS)
        .map(|part| overhead_ratio(&calls.fifth(part), row, reference, figure))
        .collect();
    let fifths = parts.map(|parts| {
        let low = parts.iter().copied().fold(f64::INFINITY, f64::min);
        let high = parts.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (low, high)
    });
    Ratio { all, fifths }
}

impl std::fmt::Display for Ratio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.all, self.fifths) {
            (Some(all), Some((low, high))) => {
                write!(f, "{all:.2}× (fifths {low:.2}–{high:.2}×)")
            }
            (Some(all), None) => write!(f, "{all:.2}×"),
            _ => f.write_str("n/a"),
        }
    }
}

/// Row `row`'s overhead against row `reference`'s (overheads over row 0, `/bin/true` alone),
/// wall and CPU, each with its spread over the fifths of the run.
fn against(calls: &Calls, row: usize, reference: usize) -> String {
    format!(
        "{} wall, {} CPU",
        ratio(calls, row, reference, |s| s.wall),
        ratio(calls, row, reference, |s| s.cpu),
    )
}

/// The exec goal: sudrop's overhead against the C references (rows: 1 C floor, 2 C doing the
/// job, 3 su-exec's part without the database, 4 sudrop nobody, 5 sudrop 65534, 6 su-exec's
/// part).
fn exec_goals(calls: &Calls) -> String {
    format!(
        "sudrop nobody's overhead against C doing the same job: {} (the goal: at most 1.0×, \
         never above 1.1×). Against C doing su-exec's part of it: {}. sudrop 65534's against \
         su-exec's part without the user database: {}. sudrop nobody's against the bare C \
         floor: {}.\n",
        against(calls, 4, 2),
        against(calls, 4, 6),
        against(calls, 5, 3),
        against(calls, 4, 1),
    )
}

/// The init goal: sudrop --init's start against tini-static's, and both C init rows against
/// tini-static's, which show how far down the same work can go on this machine (rows: 1
/// tini-static, 4 sudrop --init, 5 the C init floor, 6 C doing sudrop --init's job).
fn init_goal(calls: &Calls) -> String {
    format!(
        "Start overhead against C doing sudrop --init's job: {} (the goal: at most 1.0×). \
         Against tini-static's: sudrop --init {}; C doing sudrop --init's job {}; the C init \
         floor, which switches no user, {}.\n",
        against(calls, 4, 6),
        against(calls, 4, 1),
        against(calls, 6, 1),
        against(calls, 5, 1),
    )
}

/// The bounding set Docker leaves a container's root (its default 14 capabilities), as
/// setpriv's option.
const DOCKER_BOUNDING: &str = "--bounding-set=-all,+chown,+dac_override,+fowner,+fsetid,+kill,\
+setgid,+setuid,+setpcap,+net_bind_service,+net_raw,+sys_chroot,+mknod,+audit_write,+setfcap";

/// A horizontal bar chart of CPU overhead per call.
fn chart(
    exec: &[Contender],
    exec_calls: &Calls,
    inits: &[Contender],
    init_calls: &Calls,
) -> String {
    let (exec_results, init_results) = (exec_calls.medians(), init_calls.medians());
    let mut rows: Vec<(String, f64, bool)> = Vec::new();
    for (group, contenders, results) in [
        ("exec", exec, &exec_results),
        ("init", inits, &init_results),
    ] {
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
