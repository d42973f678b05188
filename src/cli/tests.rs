use super::*;
use crate::signals::Signal;
use definition::parsing_command;
use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

fn c_strings(args: &[&[u8]]) -> Vec<CString> {
    std::iter::once(&b"sudrop"[..])
        .chain(args.iter().copied())
        .map(|arg| CString::new(arg).expect("no NUL in test arguments"))
        .collect()
}

/// Parses a line split at spaces, with the given variables as the environment.
fn with_parsed<T>(
    line: &str,
    vars: &[(&str, &str)],
    check: impl FnOnce(Result<Args<'_>, Stop>) -> T,
) -> T {
    let words: Vec<&[u8]> = line.split_whitespace().map(str::as_bytes).collect();
    let owned = c_strings(&words);
    let argv: Vec<&CStr> = owned.iter().map(CString::as_c_str).collect();
    let vars: Vec<(String, &'static str)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), &*String::leak(v.to_string())))
        .collect();
    check(parse(&argv, |name| {
        vars.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
    }))
}

fn parsed<T>(line: &str, check: impl FnOnce(Result<Args<'_>, Stop>) -> T) -> T {
    with_parsed(line, &[], check)
}

fn init_of(line: &str, vars: &[(&str, &str)]) -> Result<Option<InitOptions>, Stop> {
    with_parsed(line, vars, |result| result.map(|args| args.init))
}

#[test]
fn everything_after_the_spec_belongs_to_the_command() {
    parsed("app echo -i --init x", |args| {
        let args = args.unwrap();
        assert_eq!(args.user_spec.to_bytes(), b"app");
        assert_eq!(args.command.to_bytes(), b"echo");
        let rest: Vec<&[u8]> = args.command_args.iter().map(|a| a.to_bytes()).collect();
        assert_eq!(rest, [&b"-i"[..], b"--init", b"x"]);
    });
    parsed("-v app -v --help --", |args| {
        let args = args.unwrap();
        assert!(args.verbose);
        assert_eq!(args.command.to_bytes(), b"-v");
        assert_eq!(args.command_args.len(), 2);
    });
}

#[test]
fn double_dash_ends_options() {
    parsed("-- -odd-name cmd", |args| {
        let args = args.unwrap();
        assert_eq!(
            (args.user_spec.to_bytes(), args.command.to_bytes()),
            (&b"-odd-name"[..], &b"cmd"[..])
        );
    });
}

#[test]
fn keep_cap_is_repeatable() {
    parsed(
        "--keep-cap net_bind_service --keep-cap=chown,kill app x",
        |args| assert_eq!(args.unwrap().keep_caps, Some(CapMask(1 << 10 | 1 | 1 << 5))),
    );
    parsed("app x", |args| assert_eq!(args.unwrap().keep_caps, None));
}

#[test]
fn allow_new_privs_from_the_flag_or_the_environment_and_never_with_no_new_privs() {
    parsed("--allow-new-privs app x", |args| {
        assert!(args.unwrap().allow_new_privs)
    });
    parsed("app x", |args| assert!(!args.unwrap().allow_new_privs));
    with_parsed("app x", &[("SUDROP_ALLOW_NEW_PRIVS", "1")], |args| {
        assert!(args.unwrap().allow_new_privs)
    });
    for (line, vars) in [
        ("--allow-new-privs --no-new-privs app x", &[][..]),
        (
            "--no-new-privs app x",
            &[("SUDROP_ALLOW_NEW_PRIVS", "yes")][..],
        ),
    ] {
        with_parsed(line, vars, |args| {
            assert!(matches!(args, Err(Stop::Usage(_))), "{line} {vars:?}")
        });
    }
}

#[test]
fn group_add_lists_and_group_of_paths() {
    parsed(
        "--group-add audio,29 --group-add=video --group-of /dev/dri/card0 app x",
        |args| {
            let args = args.unwrap();
            assert_eq!(args.group_add, ["audio", "29", "video"]);
            assert_eq!(args.group_of, ["/dev/dri/card0"]);
        },
    );
    parsed("--group-add audio,,video app x", |args| {
        assert!(matches!(args, Err(Stop::Usage(_))))
    });
}

#[test]
fn umask_and_ulimits_are_read_in_order() {
    parsed(
        "--umask 027 --ulimit nofile=64:128 --ulimit=core=0 app x",
        |args| {
            let args = args.unwrap();
            assert_eq!(args.umask, Some(0o27));
            let limits: Vec<String> = args.ulimits.iter().map(|l| l.to_string()).collect();
            assert_eq!(limits, ["nofile=64:128", "core=0:0"]);
        },
    );
    for line in [
        "--umask 8 app x",
        "--ulimit nofile=2:1 app x",
        "--ulimit fds=1 app x",
    ] {
        parsed(line, |args| {
            assert!(matches!(args, Err(Stop::Usage(_))), "{line}")
        });
    }
}

#[test]
fn init_options_from_flags() {
    let init = init_of(
        "-i --single-child --rewrite TERM:QUIT --rewrite=WINCH:0 --remap-exit 143:0 --grace 500ms --stop-delay 5s --pdeathsig USR1 app x",
        &[],
    )
    .unwrap()
    .unwrap();
    assert_eq!(init.stop_delay, Duration::from_secs(5));
    assert!(init.single_child);
    assert_eq!(
        init.rewrites,
        [(Signal(15), Some(Signal(3))), (Signal(28), None)]
    );
    assert_eq!(init.remap_exit, [(143, 0)]);
    assert_eq!(init.grace, Duration::from_millis(500));
    assert_eq!(init.pdeathsig, Some(Signal(10)));
    let plain = init_of("--init app x", &[]).unwrap().unwrap();
    assert_eq!(
        (
            plain.single_child,
            plain.grace,
            plain.pdeathsig,
            plain.stop_delay
        ),
        (false, DEFAULT_GRACE, None, Duration::ZERO)
    );
    assert_eq!(init_of("app x", &[]).unwrap(), None);
}

#[test]
fn init_options_from_the_environment_and_flags_win() {
    let vars = [
        ("SUDROP_INIT", "1"),
        ("SUDROP_GRACE", "2s"),
        ("SUDROP_REWRITE", "TERM:QUIT, WINCH:0"),
        ("SUDROP_REMAP_EXIT", "143:0"),
        ("SUDROP_STOP_DELAY", "1.5s"),
    ];
    let init = init_of("app x", &vars).unwrap().unwrap();
    assert_eq!(init.stop_delay, Duration::from_millis(1500));
    assert_eq!(
        (init.grace, init.rewrites.len(), init.remap_exit.as_slice()),
        (Duration::from_secs(2), 2, &[(143, 0)][..])
    );
    let init = init_of("--grace 1m --rewrite INT:TERM app x", &vars)
        .unwrap()
        .unwrap();
    assert_eq!(
        (init.grace, init.rewrites.as_slice()),
        (
            Duration::from_secs(60),
            &[(Signal(2), Some(Signal(15)))][..]
        )
    );
    // Variables for init options are ignored in exec mode; flags are refused.
    assert_eq!(init_of("app x", &[("SUDROP_GRACE", "2s")]).unwrap(), None);
    assert!(matches!(
        init_of("app x", &[("SUDROP_INIT", "maybe")]),
        Err(Stop::Usage(_))
    ));
    assert!(matches!(
        init_of("app x", &[("SUDROP_INIT", "1"), ("SUDROP_GRACE", "soon")]),
        Err(Stop::Usage(_))
    ));
}

#[test]
fn init_options_without_init_are_usage_errors() {
    for line in [
        "--grace 5 app x",
        "--single-child app x",
        "--rewrite TERM:QUIT app x",
        "--pdeathsig TERM app x",
        "--stop-delay 5s app x",
        "-i --stop-delay 1h app x",
        "-i --grace soon app x",
        "-i --rewrite TERM app x",
        "-i --remap-exit 1:x app x",
        "-i --pdeathsig NOPE app x",
    ] {
        assert!(matches!(init_of(line, &[]), Err(Stop::Usage(_))), "{line}");
    }
}

#[test]
fn usage_errors_exit_125_help_and_version_0() {
    for line in [
        "",
        "app",
        "--bogus app x",
        "--keep-cap bogus app x",
        "-x app x",
    ] {
        parsed(line, |result| {
            let stop = result.expect_err(line);
            assert!(matches!(stop, Stop::Usage(_)), "{line}: {stop:?}");
            assert_eq!(stop.exit_code(), 125);
        });
    }
    for line in ["--help", "-h", "--version", "-V", "--verbose --help"] {
        parsed(line, |result| {
            let stop = result.expect_err(line);
            assert!(matches!(stop, Stop::Print(_)), "{line}");
            assert_eq!(stop.exit_code(), 0);
        });
    }
}

/// What clap makes of `argv`: the same shape as [`read`]'s answer.
#[derive(Debug, PartialEq, Eq)]
enum Meaning {
    Run {
        /// For each of [`ROWS`]: whether given, and its values in order.
        options: Vec<(bool, Vec<String>)>,
        operands: Vec<Vec<u8>>,
    },
    Print(String),
    Refused,
}

fn clap_meaning(argv: &[CString]) -> Meaning {
    let os_args = argv.iter().map(|arg| OsStr::from_bytes(arg.to_bytes()));
    match parsing_command().try_get_matches_from(os_args) {
        Ok(matches) => Meaning::Run {
            options: ROWS
                .iter()
                .map(|row| {
                    if row.takes_value() {
                        let values: Vec<String> = matches
                            .get_many::<String>(row.long)
                            .map(|values| values.cloned().collect())
                            .unwrap_or_default();
                        (!values.is_empty(), values)
                    } else {
                        (matches.get_flag(row.long), Vec::new())
                    }
                })
                .collect(),
            operands: matches
                .get_many::<OsString>("operands")
                .into_iter()
                .flatten()
                .map(|operand| operand.as_bytes().to_vec())
                .collect(),
        },
        Err(error) => match error.kind() {
            // Help is the documented definition's (the parsing one joins the operands).
            clap::error::ErrorKind::DisplayHelp => {
                Meaning::Print(command().render_help().to_string())
            }
            clap::error::ErrorKind::DisplayVersion => Meaning::Print(error.render().to_string()),
            _ => Meaning::Refused,
        },
    }
}

fn our_meaning(argv: &[CString]) -> (Meaning, Option<String>) {
    let argv: Vec<&CStr> = argv.iter().map(CString::as_c_str).collect();
    match read(&argv) {
        Ok(raw) => {
            let options = ROWS
                .iter()
                .map(|row| {
                    let values: Vec<String> =
                        raw.given.values(row.option).map(str::to_string).collect();
                    (raw.given.flag(row.option), values)
                })
                .collect();
            let operands = [raw.user_spec, raw.command]
                .into_iter()
                .chain(raw.command_args.iter().copied())
                .map(|operand| operand.to_bytes().to_vec())
                .collect();
            (Meaning::Run { options, operands }, None)
        }
        Err(Stop::Print(text)) => (Meaning::Print(text.to_string()), None),
        Err(Stop::Usage(message)) => (Meaning::Refused, Some(message.to_string())),
        Err(Stop::Say { text, .. }) => {
            panic!("sudrop's grammar never answers for another tool: {text}")
        }
    }
}

/// The words the corpus is made of: every option in every spelling, values, option-like
/// operands, empty and non-UTF-8 arguments.
const WORDS: &[&[u8]] = &[
    b"-i",
    b"-v",
    b"-h",
    b"-V",
    b"-iv",
    b"-vi",
    b"-ih",
    b"-vV",
    b"-x",
    b"-ix",
    b"-i=x",
    b"-",
    b"--",
    b"---",
    b"--init",
    b"--verbose",
    b"--no-new-privs",
    b"--single-child",
    b"--keep-cap",
    b"--keep-cap=chown",
    b"--keep-cap=",
    b"--keep-cap=--init",
    b"--rewrite",
    b"--rewrite=TERM:QUIT",
    b"--remap-exit",
    b"--remap-exit=143:0",
    b"--grace",
    b"--grace=5",
    b"--pdeathsig",
    b"--stop-delay",
    b"--stop-delay=5s",
    b"--pdeathsig=TERM",
    b"--help",
    b"--version",
    b"--help=1",
    b"--init=1",
    b"--verbose=",
    b"--bogus",
    b"--keep",
    b"--=x",
    b"-5",
    b"chown",
    b"TERM:QUIT",
    b"143:0",
    b"5s",
    b"app",
    b"nobody",
    b"true",
    b"a=b",
    b"",
    b"\xff",
    b"--keep-cap=\xff",
    b"-\xff",
    b"--\xff",
    b"\xc3\xa9",
    b"-\xc3\xa9",
    b"-vh",
];

/// A small deterministic generator, so a failure names a reproducible case.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n
    }
}

fn corpus() -> Vec<Vec<&'static [u8]>> {
    let mut corpus = vec![vec![]];
    for &a in WORDS {
        corpus.push(vec![a]);
        for &b in WORDS {
            corpus.push(vec![a, b]);
        }
    }
    let mut random = Lcg(0x5eed);
    for _ in 0..20_000 {
        let length = 3 + random.below(6);
        corpus.push(
            (0..length)
                .map(|_| WORDS[random.below(WORDS.len())])
                .collect(),
        );
    }
    corpus
}

/// Every quoted piece of `message` ('...') that names a part of the command line.
fn names_an_argument(message: &str, argv: &[CString]) -> bool {
    if message.starts_with("missing ") {
        return true;
    }
    let lossy: Vec<String> = argv[1..]
        .iter()
        .map(|arg| String::from_utf8_lossy(arg.to_bytes()).into_owned())
        .collect();
    // A quoted piece names an argument when it, or its first word ('--grace <DURATION>'),
    // stands in one of the arguments.
    message
        .split('\'')
        .skip(1)
        .step_by(2)
        .filter_map(|quoted| quoted.split(' ').next())
        .any(|word| !word.is_empty() && lossy.iter().any(|arg| arg.contains(word)))
}

#[test]
fn the_runtime_parser_accepts_exactly_what_clap_accepts_with_the_same_meaning() {
    let mut checked = 0;
    for words in corpus() {
        let argv = c_strings(&words);
        let expected = clap_meaning(&argv);
        let (got, message) = our_meaning(&argv);
        assert_eq!(got, expected, "argv {words:?}");
        if let Some(message) = message {
            assert!(
                names_an_argument(&message, &argv),
                "argv {words:?}: the message '{message}' names no argument"
            );
        }
        checked += 1;
    }
    assert!(checked > 20_000);
}

#[test]
fn the_definition_is_made_of_the_rows() {
    let definition = command();
    let longs: Vec<&str> = definition
        .get_arguments()
        .filter_map(|arg| arg.get_long())
        .filter(|long| *long != "help" && *long != "version")
        .collect();
    let rows: Vec<&str> = ROWS.iter().map(|row| row.long).collect();
    assert_eq!(longs, rows);
}

#[test]
fn every_variable_is_documented_in_the_help() {
    // The after-help prose names them; it is written by hand, so this holds it to the rows.
    for (_, variable) in options::variables() {
        assert!(HELP.contains(variable), "{variable} missing from --help");
    }
}

#[test]
fn help_is_claps_rendering_byte_for_byte() {
    let rendered = command().render_help().to_string();
    if std::env::var_os("SUDROP_BLESS").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/cli/help.txt");
        std::fs::write(path, &rendered).expect("write help.txt");
        return;
    }
    assert_eq!(
        HELP, rendered,
        "src/cli/help.txt is stale: run SUDROP_BLESS=1 cargo test --lib help"
    );
    for flag in ["--help", "-h"] {
        let error = command()
            .try_get_matches_from(["sudrop", flag])
            .expect_err("help");
        assert_eq!(error.render().to_string(), HELP, "{flag}");
    }
    let error = command()
        .try_get_matches_from(["sudrop", "--version"])
        .expect_err("version");
    assert_eq!(error.render().to_string(), VERSION);
}
