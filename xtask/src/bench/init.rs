//! The init's running figures against tini-static: idle memory and wakeups, forwarding latency,
//! reaping. Numbers only; nothing here passes or fails on timing.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const RUNS: usize = 3;
/// Rounds of forwarding: each starts the inits afresh, so that where the scheduler happens
/// to place them is sampled as often.
const LATENCY_ROUNDS: usize = 10;
/// Signals to each init per round of forwarding.
const SIGNALS: usize = 1000;
const ORPHANS: usize = 2000;

/// What one init measured, over all rounds.
#[derive(Default)]
struct Figures {
    rss: Vec<u64>,
    wakeups: Vec<u64>,
    latency: Vec<f64>,
    reap: Vec<u64>,
}

struct Init {
    name: &'static str,
    prefix: Vec<String>,
}

fn start(init: &Init, command: &[&str]) -> (Child, i32) {
    let mut child = Command::new("unshare")
        .args(["--pid", "--fork", "--kill-child", "--mount-proc"])
        .args(&init.prefix)
        .args(command)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start unshare");
    let path = format!("/proc/{0}/task/{0}/children", child.id());
    let pid = loop {
        if let Some(pid) = std::fs::read_to_string(&path)
            .unwrap_or_default()
            .split_whitespace()
            .next()
        {
            break pid.parse().expect("pid");
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{} ended early: {status}", init.name);
        }
        std::thread::yield_now();
    };
    (child, pid)
}

fn status_value(pid: i32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let line = status.lines().find(|l| l.starts_with(key)).expect(key);
    line[key.len()..]
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .expect("number")
}

fn monotonic_nanos() -> u128 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into a valid timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec as u128 * 1_000_000_000 + now.tv_nsec as u128
}

/// Kills the namespace's init itself: `unshare --kill-child` relies on a parent-death signal,
/// which the kernel clears when sudrop changes its uid.
fn stop(mut child: Child, init_pid: i32) {
    // SAFETY: kill has no memory arguments.
    unsafe { libc::kill(init_pid, libc::SIGKILL) };
    let _ = child.kill();
    let _ = child.wait();
}

/// Idle RSS (kB) and context switches over 2 s, with `sleep` as the command.
fn idle(init: &Init, runs: usize) -> (Vec<u64>, Vec<u64>) {
    let (mut rss, mut wakeups) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let (child, pid) = start(init, &["sleep", "1000"]);
        // Let the init settle into its wait before reading.
        std::thread::sleep(Duration::from_millis(200));
        let switches = |pid| {
            status_value(pid, "voluntary_ctxt_switches:")
                + status_value(pid, "nonvoluntary_ctxt_switches:")
        };
        let before = switches(pid);
        std::thread::sleep(Duration::from_secs(2));
        wakeups.push(switches(pid) - before);
        rss.push(status_value(pid, "VmRSS:"));
        stop(child, pid);
    }
    (rss, wakeups)
}

/// An init running `probe signal-times`, ready for signals.
struct Forwarding {
    child: Child,
    pid: i32,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl Forwarding {
    fn start(init: &Init, probe: &str, count: usize) -> Forwarding {
        let count = count.to_string();
        let (mut child, pid) = start(init, &[probe, "signal-times", &count]);
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        assert_eq!(lines.next().expect("line").expect("read"), "ready");
        Forwarding { child, pid, lines }
    }

    /// Microseconds from kill() on the init to the command's read of the signal.
    fn one(&mut self) -> f64 {
        let sent = monotonic_nanos();
        // SAFETY: kill has no memory arguments.
        unsafe { libc::kill(self.pid, libc::SIGUSR1) };
        let line = self.lines.next().expect("line").expect("read");
        let received: u128 = line
            .rsplit(' ')
            .next()
            .expect("time")
            .parse()
            .expect("nanos");
        (received - sent) as f64 / 1000.0
    }
}

/// Runs `work` with this process (and whatever it starts) on CPU 0 alone, then gives the
/// process its CPUs back.
fn on_one_cpu<T>(work: impl FnOnce() -> T) -> T {
    // SAFETY: sched_getaffinity and sched_setaffinity read and write the local cpu_set_t only.
    unsafe {
        let mut before = std::mem::zeroed::<libc::cpu_set_t>();
        libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut before);
        let mut one = std::mem::zeroed::<libc::cpu_set_t>();
        libc::CPU_SET(0, &mut one);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &one);
        let result = work();
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &before);
        result
    }
}

/// Forwarding latencies of every init, the inits running side by side and taking turns
/// signal by signal (each pair of turns in the other order than the last), so that a slow
/// moment of the machine hits all of them alike.
fn latencies(inits: &[Init], probe: &str) -> Vec<Vec<f64>> {
    let mut running: Vec<Forwarding> = inits
        .iter()
        .map(|init| Forwarding::start(init, probe, SIGNALS))
        .collect();
    let mut samples: Vec<Vec<f64>> = inits.iter().map(|_| Vec::new()).collect();
    for turn in 0..SIGNALS {
        for offset in 0..running.len() {
            let index = (turn + offset) % running.len();
            samples[index].push(running[index].one());
        }
    }
    for forwarding in running {
        stop(forwarding.child, forwarding.pid);
    }
    samples
}

fn reap(init: &Init, probe: &str, runs: usize) -> Vec<u64> {
    let count = ORPHANS.to_string();
    (0..runs)
        .map(|_| {
            let (mut child, pid) = start(init, &[probe, "orphans", &count]);
            let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
            let line = lines.next().expect("line").expect("read");
            stop(child, pid);
            line.split_whitespace()
                .nth(3)
                .expect("micros")
                .parse()
                .expect("number")
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Runs the rounds and returns the Markdown table.
pub fn figures(sudrop: &Path, probe: &Path) -> Result<String, String> {
    let tini = "/usr/bin/tini-static";
    if !Path::new(tini).exists() {
        return Err(format!("{tini} is missing (apt-get install tini)"));
    }
    let probe = probe.to_str().ok_or("probe path")?;
    let inits = [
        Init {
            name: "tini-static",
            prefix: vec![tini.into(), "--".into()],
        },
        Init {
            name: "sudrop --init",
            prefix: vec![
                sudrop.display().to_string(),
                "--init".into(),
                "nobody".into(),
            ],
        },
    ];
    // Rounds alternate between the inits, so that a noisy moment of the machine hits both;
    // the forwarding latencies take turns signal by signal.
    let mut results: Vec<Figures> = inits.iter().map(|_| Figures::default()).collect();
    for round in 0..RUNS {
        eprintln!("bench: init figures, round {} of {RUNS}", round + 1);
        for (init, figures) in inits.iter().zip(&mut results) {
            let (rss, wakeups) = idle(init, 1);
            figures.rss.extend(rss);
            figures.wakeups.extend(wakeups);
            figures.reap.extend(reap(init, probe, 1));
        }
    }
    eprintln!("bench: forwarding latency, {LATENCY_ROUNDS} rounds");
    for _ in 0..LATENCY_ROUNDS {
        for (figures, samples) in results.iter_mut().zip(latencies(&inits, probe)) {
            figures.latency.extend(samples);
        }
    }
    // The same with everything on one CPU: no wake-up crosses CPUs, so what is left is the
    // work each init does per signal.
    let pinned = on_one_cpu(|| {
        let mut pinned: Vec<Vec<f64>> = inits.iter().map(|_| Vec::new()).collect();
        for _ in 0..LATENCY_ROUNDS {
            for (all, samples) in pinned.iter_mut().zip(latencies(&inits, probe)) {
                all.extend(samples);
            }
        }
        pinned
    });
    let mut table = format!(
        "| init | idle RSS (kB) | wakeups in 2 s idle | forwarding latency median / p99 (µs), {} signals | reap {ORPHANS} orphans (ms) |\n|---|---|---|---|---|\n",
        LATENCY_ROUNDS * SIGNALS
    );
    // The forwarding goal, per round and over all: sudrop's median against tini-static's.
    let median_of = |samples: &[f64]| {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        percentile(&sorted, 0.5)
    };
    let rounds = |of: &[f64], reference: &[f64]| {
        let ratios: Vec<f64> = (0..LATENCY_ROUNDS)
            .map(|round| {
                let part =
                    |samples: &[f64]| median_of(&samples[round * SIGNALS..(round + 1) * SIGNALS]);
                part(of) / part(reference)
            })
            .collect();
        let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let high = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let wins = ratios.iter().filter(|&&ratio| ratio <= 1.0).count();
        format!(
            "{:.2}× ({:.1} against {:.1} µs; rounds {low:.2}–{high:.2}×, at most 1.0× in \
             {wins} of {LATENCY_ROUNDS})",
            median_of(of) / median_of(reference),
            median_of(of),
            median_of(reference)
        )
    };
    let goal = format!(
        "\nForwarding latency, sudrop --init's median against tini-static's (the goal: at \
         most 1.0×), over {LATENCY_ROUNDS} rounds of {SIGNALS} signals each, the two inits \
         taking turns signal by signal and started afresh each round: {}. The same with the \
         bench and both inits on one CPU, where no wake-up crosses CPUs and what differs is \
         each init's own work per signal: {}.\n",
        rounds(&results[1].latency, &results[0].latency),
        rounds(&pinned[1], &pinned[0]),
    );
    for (init, figures) in inits.iter().zip(results) {
        let Figures {
            rss,
            wakeups,
            latency: mut samples,
            reap: reaped,
        } = figures;
        samples.sort_by(f64::total_cmp);
        let list = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
        let millis: Vec<String> = reaped
            .iter()
            .map(|us| format!("{:.1}", *us as f64 / 1000.0))
            .collect();
        table += &format!(
            "| {} | {} | {} | {:.1} / {:.1} | {} |\n",
            init.name,
            list(&rss),
            list(&wakeups),
            percentile(&samples, 0.5),
            percentile(&samples, 0.99),
            millis.join(", ")
        );
    }
    table += &goal;
    Ok(table)
}
