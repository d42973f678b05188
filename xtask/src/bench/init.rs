//! The init's running figures against tini-static: idle memory and wakeups, forwarding latency,
//! reaping. Numbers only; nothing here passes or fails on timing.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const RUNS: usize = 3;
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

/// Microseconds from kill() on the init to the command's read of the signal.
fn latency(init: &Init, probe: &str) -> Vec<f64> {
    let count = SIGNALS.to_string();
    let (mut child, pid) = start(init, &[probe, "signal-times", &count]);
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut next = || lines.next().expect("line").expect("read");
    assert_eq!(next(), "ready");
    let mut samples = Vec::new();
    for _ in 0..SIGNALS {
        let sent = monotonic_nanos();
        // SAFETY: kill has no memory arguments.
        unsafe { libc::kill(pid, libc::SIGUSR1) };
        let line = next();
        let received: u128 = line
            .rsplit(' ')
            .next()
            .expect("time")
            .parse()
            .expect("nanos");
        samples.push((received - sent) as f64 / 1000.0);
    }
    stop(child, pid);
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
    // Rounds alternate between the inits, so that a noisy moment of the machine hits both.
    let mut results: Vec<Figures> = inits.iter().map(|_| Figures::default()).collect();
    for round in 0..RUNS {
        eprintln!("bench: init figures, round {} of {RUNS}", round + 1);
        for (init, figures) in inits.iter().zip(&mut results) {
            let (rss, wakeups) = idle(init, 1);
            figures.rss.extend(rss);
            figures.wakeups.extend(wakeups);
            figures.latency.extend(latency(init, probe));
            figures.reap.extend(reap(init, probe, 1));
        }
    }
    let mut table = format!(
        "| init | idle RSS (kB) | wakeups in 2 s idle | forwarding latency median / p99 (µs), {} signals | reap {ORPHANS} orphans (ms) |\n|---|---|---|---|---|\n",
        RUNS * SIGNALS
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
    Ok(table)
}
