//! User databases that are malformed, missing, huge or not files at all.

use crate::sandbox::{Sandbox, code, gosu_path, root_or_skip, stderr, stdout};
use std::fs;

#[test]
fn malformed_lines_are_never_users_and_never_root() {
    if !root_or_skip("malformed_lines_are_never_users_and_never_root") {
        return;
    }
    let passwd = "# a comment line\nmallory:x:abc:def::/:/bin/sh\nshort:x:7\ngarbage\n\
                  99999999999999999999:x:0:0::/:/bin/sh\n1000:x:0:0::/:/bin/sh\n\
                  root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n";
    let sandbox = Sandbox::new(Some(passwd), Some("root:x:0:\n"));
    for spec in [
        "mallory",
        "short",
        "garbage",
        "# a comment line",
        "99999999999999999999",
    ] {
        let out = sandbox.run(&["sudrop", spec, "id", "-u"]);
        assert_eq!(code(&out), 125, "{spec}: {out:?}");
        assert_eq!(stdout(&out), "", "{spec} ran the command");
    }
    // An all-digit spec is an id, even when a line is *named* like it.
    let out = sandbox.run(&["sudrop", "1000", "id", "-u"]);
    assert_eq!(stdout(&out), "1000\n");
    // gosu, for contrast, reads `mallory`'s non-numeric ids as 0.
    if gosu_path().is_some() {
        let gosu = sandbox.run(&["gosu", "mallory", "id", "-u"]);
        assert_eq!(stdout(&gosu), "0\n", "{gosu:?}");
    }
}

#[test]
fn crlf_and_very_long_lines_are_read() {
    if !root_or_skip("crlf_and_very_long_lines_are_read") {
        return;
    }
    let gecos = "g".repeat(100_000);
    let passwd = format!(
        "root:x:0:0::/root:/bin/sh\r\nlong:x:1:1:{gecos}:/:/bin/sh\r\nalice:x:1000:1000::/home/alice:/bin/sh\r\n"
    );
    let group = format!(
        "root:x:0:\r\nstaff:x:50:{}alice\r\n",
        "member,".repeat(20_000)
    );
    let sandbox = Sandbox::new(Some(&passwd), Some(&group));
    let out = sandbox.run(&["sudrop", "alice", "sh", "-c", "id -u; id -G; echo $HOME"]);
    assert_eq!(stdout(&out), "1000\n1000 50\n/home/alice\n", "{out:?}");
}

#[test]
fn missing_databases_allow_numbers_only() {
    if !root_or_skip("missing_databases_allow_numbers_only") {
        return;
    }
    let sandbox = Sandbox::new(None, None);
    let out = sandbox.run(&[
        "sudrop",
        "1000:1000",
        "sh",
        "-c",
        "id -u; id -g; echo $HOME",
    ]);
    assert_eq!(stdout(&out), "1000\n1000\n/\n", "{out:?}");
    let out = sandbox.run(&["sudrop", "alice", "true"]);
    assert_eq!(code(&out), 125);
    assert!(
        stderr(&out).contains("no user 'alice' in /etc/passwd"),
        "{out:?}"
    );
}

#[test]
fn non_regular_or_huge_databases_are_refused_without_hanging() {
    if !root_or_skip("non_regular_or_huge_databases_are_refused_without_hanging") {
        return;
    }
    /// What the file is, how to make it in place of the database, and the expected message.
    type Case = (&'static str, fn(&std::path::Path), &'static str);
    let cases: &[Case] = &[
        (
            "link to /dev/zero",
            |p| std::os::unix::fs::symlink("/dev/zero", p).expect("symlink"),
            "not a regular file",
        ),
        (
            "fifo",
            |p| {
                nix::unistd::mkfifo(p, nix::sys::stat::Mode::from_bits_truncate(0o644))
                    .expect("mkfifo")
            },
            "not a regular file",
        ),
        (
            "directory",
            |p| fs::create_dir(p).expect("mkdir"),
            "not a regular file",
        ),
        (
            "40 MiB file",
            |p| {
                fs::File::create(p)
                    .and_then(|f| f.set_len(40 << 20))
                    .expect("sparse file")
            },
            "larger than",
        ),
    ];
    for (what, make, message) in cases {
        for file in ["passwd", "group"] {
            let sandbox = Sandbox::new(Some("root:x:0:0::/root:/bin/sh\n"), Some("root:x:0:\n"));
            let path = sandbox.path(&format!("/etc/{file}"));
            fs::remove_file(&path).expect("rm");
            make(&path);
            let out = sandbox.run(&["sudrop", "0", "echo", "RAN"]);
            assert_eq!(code(&out), 125, "{file} as {what}: {out:?}");
            assert_eq!(stdout(&out), "");
            let expected = format!("sudrop: /etc/{file}: {message}");
            assert!(
                stderr(&out).starts_with(&expected),
                "{file} as {what}: {}",
                stderr(&out)
            );
        }
    }
}
