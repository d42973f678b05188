//! Root integration tests: sudrop inside a chroot in fresh mount and PID namespaces, with a
//! user database each test controls. Without root they say SKIPPED and assert nothing.

mod callers;
mod capabilities;
mod databases;
mod exec_mode;
mod gosu_differential;
mod hostile_databases;
mod init_mode;
mod personalities;
#[path = "../support/pty.rs"]
mod pty;
mod runc;
mod sandbox;
mod signals;
mod terminal;
