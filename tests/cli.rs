//! The command line, as any user sees it (no root needed).

use std::process::{Command, Output};

fn sudrop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sudrop"))
        .args(args)
        .output()
        .expect("run sudrop")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_every_option_and_the_exit_codes() {
    for flag in ["--help", "-h"] {
        let out = sudrop(&[flag]);
        assert_eq!(out.status.code(), Some(0));
        let help = text(&out.stdout);
        for part in [
            "Usage: sudrop [OPTIONS] USER-SPEC COMMAND [ARG]...",
            "--keep-cap",
            "--no-new-privs",
            "--verbose",
            "--version",
            "125",
            "126",
            "127",
        ] {
            assert!(help.contains(part), "{part} missing in\n{help}");
        }
    }
}

#[test]
fn version_prints_name_and_version() {
    for flag in ["--version", "-V"] {
        let out = sudrop(&[flag]);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(
            text(&out.stdout),
            format!("sudrop {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn usage_errors_exit_125_with_a_one_line_hint() {
    let cases: &[(&[&str], &str)] = &[
        (&[], "sudrop: missing USER-SPEC and COMMAND\n"),
        (&["-v"], "sudrop: missing USER-SPEC and COMMAND\n"),
        (&["nobody"], "sudrop: missing COMMAND after USER-SPEC\n"),
        (
            &["--bogus", "nobody", "id"],
            "sudrop: unexpected argument '--bogus' found\n",
        ),
        (
            &["--keep-cap", "bogus", "nobody", "id"],
            "sudrop: unknown capability 'bogus' in --keep-cap\n",
        ),
        (
            &["--keep-cap"],
            "sudrop: a value is required for '--keep-cap <CAP[,CAP...]>' but none was supplied\n",
        ),
    ];
    for (args, first_line) in cases {
        let out = sudrop(args);
        assert_eq!(out.status.code(), Some(125), "{args:?}");
        assert_eq!(out.stdout, b"", "{args:?}");
        let err = text(&out.stderr);
        let mut lines = err.lines();
        assert_eq!(
            format!("{}\n", lines.next().unwrap_or_default()),
            *first_line,
            "{args:?}"
        );
        assert_eq!(
            lines.next(),
            Some("sudrop: try 'sudrop --help' for more information"),
            "{args:?}"
        );
        assert_eq!(lines.next(), None, "{args:?}: {err}");
    }
}
