//! The shell completions in `packaging/completions/`, run by the real shells: USER-SPEC
//! completes user names and `:group`, COMMAND completes commands, and what follows COMMAND
//! completes as COMMAND's own arguments, never as sudrop's options.
//!
//! bash is driven the way readline drives it (COMP_WORDS split at ':' and '=' as bash splits
//! them, with bash-completion loaded as the installed script expects); fish through its own
//! `complete -C`. zsh is checked for syntax and for registering itself with compinit.

use std::path::Path;
use std::process::Command;

const BASH_COMPLETION: &str = "/usr/share/bash-completion/bash_completion";

fn script(name: &str) -> String {
    format!(
        "{}/packaging/completions/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Whether `tool` can run here; when not, the test says it is skipped (or fails, when the
/// test command installed the tools and requires them).
fn present_or_skip(test: &str, tool: &str) -> bool {
    if Path::new(tool).exists() {
        return true;
    }
    if std::env::var_os("SUDROP_REQUIRE_ROOT_TESTS").is_some() {
        panic!("{test}: {tool} is not installed");
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {tool} is not installed");
    false
}

fn output(command: &mut Command) -> String {
    let out = command.output().expect("start the shell");
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// What bash offers for `line` (cursor at its end), given the pieces bash splits it into.
fn bash_offers(line: &str, pieces: &[&str]) -> Vec<String> {
    bash_offers_with("_sudrop", line, pieces)
}

/// What the completion function `function` offers for `line`.
fn bash_offers_with(function: &str, line: &str, pieces: &[&str]) -> Vec<String> {
    let program = format!(
        r#"source {BASH_COMPLETION}
source "$1"
compopt() {{ :; }}  # only valid inside readline's own call; the options are not checked here
complete -W 'alpha beta --gamma' mytool
COMP_LINE=$2 COMP_POINT=${{#2}}
shift 2
COMP_WORDS=("$@") COMP_CWORD=$(($# - 1))
{function}
printf '%s\n' "${{COMPREPLY[@]}}""#
    );
    let out = output(
        Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &program, "bash"])
            .arg(script("sudrop.bash"))
            .arg(line)
            .args(pieces),
    );
    out.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_under_the_other_names_from_their_flag_tables() {
    let test = "bash_completes_under_the_other_names_from_their_flag_tables";
    if !present_or_skip(test, BASH_COMPLETION) {
        return;
    }
    let cases: &[(&str, &str, &[&str], &str, &str)] = &[
        ("_sudrop_as_tini", "tini -", &["tini", "-"], "-g", "--init"),
        ("_sudrop_as_tini", "tini -p ", &["tini", "-p", ""], "", "-g"),
        (
            "_sudrop_as_tini",
            "tini -- ech",
            &["tini", "--", "ech"],
            "echo",
            "-g",
        ),
        (
            "_sudrop_as_tini",
            "tini -g ech",
            &["tini", "-g", "ech"],
            "echo",
            "-g",
        ),
        (
            "_sudrop_as_dumb_init",
            "dumb-init --s",
            &["dumb-init", "--s"],
            "--single-child",
            "-g",
        ),
        (
            "_sudrop_as_gosu",
            "gosu ro",
            &["gosu", "ro"],
            "root",
            "--init",
        ),
        ("_sudrop", "sudrop /e", &["sudrop", "/e"], "/etc", "root"),
    ];
    for (function, line, pieces, wanted, unwanted) in cases {
        let offers = bash_offers_with(function, line, pieces);
        if wanted.is_empty() {
            assert!(offers.is_empty(), "{line:?}: {offers:?}");
        }
        expect(line, &offers, wanted, unwanted);
    }
}

fn fish_offers(line: &str) -> Vec<String> {
    let program = format!(
        "source {}; complete -c mytool -f -a 'alpha beta'; complete -c mytool -l gamma; \
         complete -C {}",
        script("sudrop.fish"),
        shell_quote(line)
    );
    let out = output(Command::new("fish").args(["--no-config", "-c", &program]));
    out.lines()
        .map(|l| l.split('\t').next().unwrap_or_default().to_string())
        .collect()
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// `wanted` is among the `offers` for `line` (unless empty), and `unwanted` is not.
fn expect(line: &str, offers: &[String], wanted: &str, unwanted: &str) {
    let offered = |word: &str| offers.iter().any(|o| o == word);
    assert!(
        wanted.is_empty() || offered(wanted),
        "{line:?}: {wanted:?} not in {offers:?}"
    );
    assert!(!offered(unwanted), "{line:?}: {unwanted:?} in {offers:?}");
}

#[test]
fn bash_completes_users_groups_commands_and_the_commands_own_arguments() {
    let test = "bash_completes_users_groups_commands_and_the_commands_own_arguments";
    if !present_or_skip(test, BASH_COMPLETION) {
        return;
    }
    // (line, bash's pieces, a word that must be offered, a word that must not)
    let cases: &[(&str, &[&str], &str, &str)] = &[
        ("sudrop ro", &["sudrop", "ro"], "root", "--init"),
        // bash replaces only the piece after the colon.
        (
            "sudrop root:ro",
            &["sudrop", "root", ":", "ro"],
            "root",
            "root:root",
        ),
        ("sudrop :ro", &["sudrop", ":", "ro"], "root", ":root"),
        ("sudrop --in", &["sudrop", "--in"], "--init", "root"),
        (
            "sudrop -i --gr",
            &["sudrop", "-i", "--gr"],
            "--grace",
            "--init",
        ),
        (
            "sudrop --keep-cap NET_B",
            &["sudrop", "--keep-cap", "NET_B"],
            "NET_BIND_SERVICE",
            "root",
        ),
        (
            "sudrop --keep-cap=CHOWN,NET_B",
            &["sudrop", "--keep-cap", "=", "CHOWN,NET_B"],
            "CHOWN,NET_BIND_SERVICE",
            "--keep-cap=CHOWN,NET_BIND_SERVICE",
        ),
        // An option's value is not USER-SPEC; the next word is.
        (
            "sudrop --grace 5s ro",
            &["sudrop", "--grace", "5s", "ro"],
            "root",
            "--init",
        ),
        (
            "sudrop --group-add ro",
            &["sudrop", "--group-add", "ro"],
            "root",
            "--init",
        ),
        (
            "sudrop --pdeathsig TE",
            &["sudrop", "--pdeathsig", "TE"],
            "TERM",
            "root",
        ),
        ("sudrop -- ro", &["sudrop", "--", "ro"], "root", "--init"),
        // COMMAND: commands.
        (
            "sudrop -i nobody ech",
            &["sudrop", "-i", "nobody", "ech"],
            "echo",
            "--init",
        ),
        // COMMAND's own arguments, by COMMAND's own completion: never sudrop's options.
        (
            "sudrop -i nobody mytool al",
            &["sudrop", "-i", "nobody", "mytool", "al"],
            "alpha",
            "root",
        ),
        (
            "sudrop nobody mytool --",
            &["sudrop", "nobody", "mytool", "--"],
            "--gamma",
            "--init",
        ),
        (
            "sudrop root:root mytool b",
            &["sudrop", "root", ":", "root", "mytool", "b"],
            "beta",
            "--init",
        ),
        (
            "sudrop nobody sh --in",
            &["sudrop", "nobody", "sh", "--in"],
            "",
            "--init",
        ),
    ];
    for (line, pieces, wanted, unwanted) in cases {
        expect(line, &bash_offers(line, pieces), wanted, unwanted);
    }
}

#[test]
fn fish_completes_users_groups_commands_and_the_commands_own_arguments() {
    let test = "fish_completes_users_groups_commands_and_the_commands_own_arguments";
    if !present_or_skip(test, "/usr/bin/fish") {
        return;
    }
    let cases: &[(&str, &str, &str)] = &[
        ("sudrop ro", "root", "--init"),
        ("sudrop root:ro", "root:root", "root"),
        ("sudrop --in", "--init", "root"),
        ("sudrop --keep-cap NET_B", "NET_BIND_SERVICE", "root"),
        (
            "sudrop --keep-cap CHOWN,NET_B",
            "CHOWN,NET_BIND_SERVICE",
            "NET_BIND_SERVICE",
        ),
        ("sudrop --grace 5s ro", "root", "--init"),
        ("sudrop --group-add ro", "root", "--init"),
        ("sudrop -- ro", "root", "--init"),
        ("sudrop -- --in", "", "--init"),
        ("sudrop -i nobody ech", "echo", "--init"),
        ("sudrop -i nobody mytool al", "alpha", "root"),
        ("sudrop nobody mytool --", "--gamma", "--init"),
        ("sudrop root:root mytool b", "beta", "--init"),
        ("sudrop nobody sh --in", "", "--init"),
        // Under other names, from their flag tables.
        ("tini -", "-g", "--init"),
        ("dumb-init --si", "--single-child", "--init"),
        ("gosu ro", "root", "--init"),
        ("gosu nobody ech", "echo", "root"),
    ];
    for (line, wanted, unwanted) in cases {
        expect(line, &fish_offers(line), wanted, unwanted);
    }
}

#[test]
fn zsh_reads_the_completion_and_registers_it_for_sudrop() {
    let test = "zsh_reads_the_completion_and_registers_it_for_sudrop";
    if !present_or_skip(test, "/usr/bin/zsh") {
        return;
    }
    output(Command::new("zsh").arg("-n").arg(script("_sudrop")));
    let directory = format!("{}/packaging/completions", env!("CARGO_MANIFEST_DIR"));
    let program = format!(
        "fpath=({} $fpath); autoload -U compinit; compinit -u -D; \
         print -r -- $_comps[sudrop] $_comps[gosu] $_comps[docker-init] $_comps[dumb-init]",
        shell_quote(&directory)
    );
    let registered = output(Command::new("zsh").args(["-f", "-c", &program]));
    // Also under the other names, where the same function reads their command lines.
    assert_eq!(registered.trim(), "_sudrop _sudrop _sudrop _sudrop");
}
