//! End to end under a real container engine: the project's own Dockerfiles built and run,
//! `docker stop` on redis with 200,000 keys, a real pty through `docker run -it`, `docker
//! exec`, the runtimes' `--user`, and the options whose natural proof is an engine.
//!
//! Every test is `#[ignore]`d: `cargo xtask test` starts its own dockerd, makes the base images
//! (no registry here) and runs them with `--ignored`, or counts them as skipped with the
//! reason. Run alone, `--ignored` without that engine fails loudly instead of passing.
//! Measured figures (stop times, keys saved) go to `target/engine/results.txt`.

mod docker;
mod entrypoints;
mod kube;
#[path = "../support/pty.rs"]
mod pty;
mod redis;
mod scenarios;
#[path = "../support/process.rs"]
mod support;
