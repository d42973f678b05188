//! A test helper run inside the integration tests' sandboxes (not shipped).
//!
//! `probe status`: the ids and capability lines of /proc/self/status, after `euid=N`.
//! `probe bind PORT`: binds a TCP socket on 0.0.0.0:PORT; prints `bound` or the error.

use std::net::TcpListener;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["status"] => {
            println!("euid={}", nix::unistd::geteuid());
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            for line in status.lines() {
                let wanted = ["Uid:", "Gid:", "Groups:", "Cap", "NoNewPrivs:"];
                if wanted.iter().any(|prefix| line.starts_with(prefix)) {
                    println!("{line}");
                }
            }
            ExitCode::SUCCESS
        }
        ["bind", port] => match TcpListener::bind(format!("0.0.0.0:{port}")) {
            Ok(_) => {
                println!("bound");
                ExitCode::SUCCESS
            }
            Err(error) => {
                println!("bind: {error}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: probe status | probe bind PORT");
            ExitCode::from(2)
        }
    }
}
