//! `cargo xtask dist`: release artifacts in `target/dist/`, and `check` to verify them.
//!
//! - a static musl binary for each architecture of [`ARCHES`], each in
//!   `sudrop-<version>-<target>.tar.gz` with the man page, completions, README and licenses;
//! - a `.deb` (cargo-deb) per architecture, under Debian's name for it, and an `.rpm`
//!   (cargo-generate-rpm) where Fedora and openSUSE ship the architecture;
//! - a CycloneDX SBOM per target, made from the dependency list `cargo auditable` embeds in
//!   each binary (see `sbom.rs`);
//! - `SHA256SUMS`, and `SHA256SUMS.asc`, its detached OpenPGP signature, when the releaser names
//!   a key in `SUDROP_SIGNING_KEY` (gpg's own `GNUPGHOME` says where the keyring is).
//!
//! The man page and the completions come from `sudrop::cli::command()`, the clap definition
//! that parses sudrop's own command line, so they cannot disagree with `--help`.

use crate::{SIZE_BUDGET, cargo, has_interpreter, project_root, run, sbom};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One architecture sudrop is released for.
pub struct Arch {
    /// The Rust target: static musl.
    pub target: &'static str,
    /// Debian's name for it (`dpkg --print-architecture`), which the .deb carries.
    pub debian: &'static str,
    /// The .rpm's architecture, where Fedora or openSUSE ship one.
    pub rpm: Option<&'static str>,
    /// The ELF header's machine (`e_machine`).
    pub elf_machine: u16,
    /// The qemu-user program that runs it here; `None` where this machine runs it natively.
    pub emulator: Option<&'static str>,
}

/// Every architecture a release has. (The other five of gosu's ten have no rust-std for
/// their musl target on this machine's toolchain mirror; see the README's architecture table.)
pub const ARCHES: &[Arch] = &[
    Arch {
        target: "x86_64-unknown-linux-musl",
        debian: "amd64",
        rpm: Some("x86_64"),
        elf_machine: 62,
        emulator: None,
    },
    Arch {
        target: "aarch64-unknown-linux-musl",
        debian: "arm64",
        rpm: Some("aarch64"),
        elf_machine: 183,
        emulator: Some("qemu-aarch64"),
    },
    Arch {
        target: "i686-unknown-linux-musl",
        debian: "i386",
        rpm: None,
        elf_machine: 3,
        // An x86_64 kernel runs i386 programs itself.
        emulator: None,
    },
];

/// The generated documents, under the project root: committed, so that the published crate
/// carries them (the APKBUILD installs them from there), and held to the definition by a test.
const MAN_PAGE: &str = "packaging/man/sudrop.1";
const COMPLETIONS: &str = "packaging/completions";

/// Each document's place in the tarballs, and where a package installs it.
const DOC_FILES: &[(&str, &str, &str)] = &[
    (MAN_PAGE, "doc/sudrop.1", "usr/share/man/man1/sudrop.1.gz"),
    (
        "packaging/completions/sudrop.bash",
        "completions/sudrop.bash",
        "usr/share/bash-completion/completions/sudrop",
    ),
    (
        "packaging/completions/_sudrop",
        "completions/_sudrop",
        "usr/share/zsh/vendor-completions/_sudrop",
    ),
    (
        "packaging/completions/sudrop.fish",
        "completions/sudrop.fish",
        "usr/share/fish/vendor_completions.d/sudrop.fish",
    ),
];

/// The project's own files every artifact ships beside the binary and the documents.
const PROJECT_FILES: &[&str] = &["README.md", "LICENSE", "LICENSE-MIT", "LICENSE-APACHE"];

/// The SBOM of one target's binary, beside `SHA256SUMS`.
fn sbom_name(target: &str) -> String {
    format!("sudrop-{}-{target}.cdx.json", version())
}

pub fn dist_dir() -> PathBuf {
    project_root().join("target/dist")
}

fn version() -> String {
    sudrop::cli::command()
        .get_version()
        .unwrap_or("0.0.0")
        .to_string()
}

/// The time stamped into every artifact: `SOURCE_DATE_EPOCH` if set, else the last commit's
/// time, so that the same commit gives the same bytes.
fn source_date() -> String {
    if let Ok(date) = std::env::var("SOURCE_DATE_EPOCH") {
        return date;
    }
    output("git", &["log", "-1", "--format=%ct"])
        .map_or_else(|_| "0".to_string(), |s| s.trim().to_string())
}

fn command(program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command.args(args).current_dir(project_root());
    command
}

fn output(program: &str, args: &[&str]) -> Result<String, String> {
    crate::stdout_of(command(program, args))
}

/// The man page and the bash, zsh and fish completions as the definition makes them today:
/// (path under the project root, contents).
pub fn documents() -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut documents = vec![(MAN_PAGE.to_string(), man_page().map_err(|e| e.to_string())?)];
    for (name, script) in crate::completions::scripts()? {
        documents.push((format!("{COMPLETIONS}/{name}"), script.into_bytes()));
    }
    Ok(documents)
}

/// `cargo xtask docs`: rewrites the committed documents.
pub fn write_docs() -> Result<(), String> {
    for (relative, bytes) in documents()? {
        let path = project_root().join(&relative);
        fs::create_dir_all(path.parent().expect("parent")).map_err(|e| e.to_string())?;
        fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("xtask: wrote {relative}");
    }
    Ok(())
}

/// Fails unless the committed documents are what the definition makes.
pub fn check_docs() -> Result<(), String> {
    for (relative, bytes) in documents()? {
        let committed = fs::read(project_root().join(&relative)).unwrap_or_default();
        if committed != bytes {
            return Err(format!(
                "{relative} is not what the definition makes: run `cargo xtask docs` and commit"
            ));
        }
    }
    Ok(())
}

/// The man page compressed for the packages (-n: no name or time, so reproducible).
fn compressed_man_page(out: &Path) -> Result<PathBuf, String> {
    let path = out.join("sudrop.1.gz");
    fs::create_dir_all(out).map_err(|e| e.to_string())?;
    let file = fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut gzip = command("gzip", &["-9", "-n", "-c", MAN_PAGE]);
    gzip.stdout(file);
    run(gzip)?;
    Ok(path)
}

/// The man page: clap's own title, synopsis and options, with sections of prose around them
/// (the `--help` epilogue is left out: its facts are the sections below, in man-page form).
fn man_page() -> std::io::Result<Vec<u8>> {
    use roff::{Roff, bold, roman};
    let command = sudrop::cli::command().after_help(None::<&str>);
    let man = clap_mangen::Man::new(command)
        .section("1")
        .manual("User Commands");
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    let mut prose = Roff::new();
    let paragraphs = |roff: &mut Roff, title: &str, texts: &[&str]| {
        roff.control("SH", [title]);
        for (i, text) in texts.iter().enumerate() {
            if i > 0 {
                roff.control("PP", []);
            }
            roff.text([roman(*text)]);
        }
    };
    paragraphs(
        &mut prose,
        "DESCRIPTION",
        &[
            "sudrop resolves USER-SPEC, sets the supplementary groups, gid and uid, drops every capability \
         (the bounding set included) and executes COMMAND, which keeps sudrop's PID: in a container it \
         is PID 1 and receives the runtime's signals itself. With --init, sudrop instead forks COMMAND \
         under a built-in init that runs as the same unprivileged user.",
            "Options come only before USER-SPEC; everything from COMMAND on is passed to it untouched.",
        ],
    );
    prose.to_writer(&mut page)?;
    man.render_options_section(&mut page)?;

    let mut prose = Roff::new();
    paragraphs(
        &mut prose,
        "USER-SPEC",
        &[
            "USER, USER:GROUP, :GROUP, USER: or empty (the current user). At most one colon; nothing is \
         trimmed. A part made only of digits is an id from 0 to 4294967294 and is never looked up as a \
         name; larger ones are refused. Names are looked up in /etc/passwd and /etc/group, which sudrop \
         reads itself; malformed lines are skipped and never give uid 0.",
            "Resolution follows gosu: without GROUP the supplementary groups are USER's memberships in \
         /etc/group; with GROUP there are none. An id absent from /etc/passwd gets the caller's gid \
         and HOME=/.",
        ],
    );
    // (clap's options section already has an "INIT MODE" heading for the init's options.)
    paragraphs(
        &mut prose,
        "HOW THE INIT WORKS",
        &[
            "The init blocks every signal and reads them from a signalfd. It forwards every signal but \
         SIGCHLD to COMMAND's process group (COMMAND alone with --single-child), after --rewrite. It reaps \
         every zombie and, when not PID 1, makes itself a child subreaper.",
            "When COMMAND exits, the processes it left behind that were not already sent a terminating \
         signal get SIGTERM; sudrop waits until they are gone or --grace runs out, then sends SIGKILL, \
         and exits with COMMAND's status: its exit code, or 128+N when signal N killed it, after \
         --remap-exit.",
        ],
    );
    other_names(&mut prose);
    paragraphs(&mut prose, "ENVIRONMENT", &[&environment_section()]);
    prose.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in [
        (
            "125",
            "sudrop itself failed (usage, user spec, user database, privilege switch); COMMAND did not run.",
        ),
        ("126", "COMMAND was found but cannot be executed."),
        ("127", "COMMAND was not found."),
    ] {
        prose
            .control("TP", [])
            .text([bold(code)])
            .text([roman(meaning)]);
    }
    prose
        .control("PP", [])
        .text([roman("Otherwise, the exit status of COMMAND.")]);
    prose.control("SH", ["EXAMPLES"]);
    for example in [
        "sudrop redis redis-server",
        "exec sudrop --init app \"$@\"",
        "sudrop --keep-cap NET_BIND_SERVICE www-data nginx -g 'daemon off;'",
    ] {
        prose.control("PP", []).text([bold(example)]);
    }
    paragraphs(
        &mut prose,
        "SEE ALSO",
        &["gosu(1), setpriv(1), tini(1), capabilities(7), credentials(7)"],
    );
    prose.to_writer(&mut page)?;
    man.render_version_section(&mut page)?;
    Ok(page)
}

/// The man page's OTHER NAMES section: each grammar of `sudrop::cli::personality`, its flags
/// described by the option rows they mean.
fn other_names(roff: &mut roff::Roff) {
    use roff::{bold, roman};
    use sudrop::cli::personality::{GRAMMARS, describe, describe_setting};
    roff.control("SH", ["OTHER NAMES"]);
    roff.text([roman(
        "Installed or linked under another tool's name, sudrop reads that tool's command line, \
         variables, --help and --version, and answers usage errors with the tool's exit status \
         (1). What runs is sudrop's: under gosu and su-exec the switch with every capability \
         dropped; under the inits the init with USER-SPEC - (no identity, capability, \
         descriptor or signal state changes) and its drain. sudrop's own variables apply too.",
    )]);
    for grammar in &GRAMMARS {
        let names = grammar.names();
        roff.control("SS", [names.join(", ").as_str()]);
        roff.text([bold(grammar.usage)]);
        roff.control("PP", []).text([roman(grammar.about)]);
        for flag in grammar.flags {
            let mut spelled: Vec<String> = Vec::new();
            spelled.extend(flag.short.map(|letter| format!("-{}", char::from(letter))));
            spelled.extend(flag.long.map(|long| format!("--{long}")));
            let mut head = spelled.join(", ");
            if let Some(value) = flag.value {
                head = format!("{head} {value}");
            }
            roff.control("TP", [])
                .text([bold(head.as_str())])
                .text([roman(describe(flag.means).as_str())]);
        }
        for variable in grammar.variables {
            roff.control("TP", [])
                .text([bold(variable.name)])
                .text([roman(describe_setting(variable.setting).as_str())]);
        }
    }
}

/// Adds a Rust target with rustup, once: only when it is not installed yet.
pub(crate) fn ensure_rust_target(target: &str) -> Result<(), String> {
    let installed = output("rustup", &["target", "list", "--installed"])?;
    if installed.lines().any(|line| line.trim() == target) {
        return Ok(());
    }
    run(command("rustup", &["target", "add", target]))
}

/// The man page's ENVIRONMENT paragraph, with every variable an option's row names.
fn environment_section() -> String {
    let variables: Vec<String> = sudrop::cli::options::variables()
        .map(|(option, variable)| format!("{variable} (--{})", option.row().long))
        .collect();
    format!(
        "HOME is set to the target's home; USER and LOGNAME, where present, to its name. These \
         options can also be set from the environment: {} (lists comma-separated); a flag wins. \
         These variables are removed from COMMAND's environment.",
        variables.join(", ")
    )
}

/// Builds one target's static binary and checks it: no ELF interpreter, within the budget.
pub fn build_target(target: &str) -> Result<PathBuf, String> {
    ensure_rust_target(target)?;
    // `cargo auditable build`: the binary carries its dependency list (see sbom.rs).
    ensure_cargo_tool("auditable", "cargo-auditable")?;
    let mut build = cargo();
    build.args([
        "auditable",
        "build",
        "--release",
        "--package",
        "sudrop",
        "--target",
        target,
    ]);
    run(build)?;
    let binary = project_root()
        .join("target")
        .join(target)
        .join("release/sudrop");
    check_binary(&binary)?;
    Ok(binary)
}

fn check_binary(path: &Path) -> Result<(), String> {
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if has_interpreter(&bytes).map_err(|e| format!("{}: {e}", path.display()))? {
        return Err(format!(
            "{} has an ELF interpreter: not static",
            path.display()
        ));
    }
    let size = bytes.len() as u64;
    if size > SIZE_BUDGET {
        return Err(format!(
            "{} is {size} bytes, over the {SIZE_BUDGET}-byte budget",
            path.display()
        ));
    }
    eprintln!(
        "xtask: {} is static, {size} bytes (budget {SIZE_BUDGET})",
        path.display()
    );
    Ok(())
}

/// The ELF machine of a binary (`e_machine`): 62 for x86_64, 183 for aarch64, 3 for i386.
fn elf_machine(bytes: &[u8]) -> Option<u16> {
    crate::elf::Elf::parse(bytes).ok()?.machine()
}

fn tarball(binary: &Path, target: &str, date: &str) -> Result<PathBuf, String> {
    let name = format!("sudrop-{}-{target}", version());
    let stage = dist_dir().join("stage").join(&name);
    let _ = fs::remove_dir_all(&stage);
    fs::create_dir_all(&stage).map_err(|e| e.to_string())?;
    let copy = |from: &Path, to: &str| {
        let dest = stage.join(to);
        fs::create_dir_all(dest.parent().expect("parent")).map_err(|e| e.to_string())?;
        fs::copy(from, &dest)
            .map(drop)
            .map_err(|e| format!("{}: {e}", from.display()))
    };
    copy(binary, "sudrop")?;
    for file in PROJECT_FILES {
        copy(&project_root().join(file), file)?;
    }
    for (committed, in_tarball, _) in DOC_FILES {
        copy(&project_root().join(committed), in_tarball)?;
    }
    let archive = dist_dir().join(format!("{name}.tar.gz"));
    let stage_root = dist_dir().join("stage");
    let archive_arg = archive.display().to_string();
    let stage_arg = stage_root.display().to_string();
    // Reproducible: fixed owner, order and time, and no time in the gzip header.
    let mtime = format!("--mtime=@{date}");
    let tar = command(
        "tar",
        &[
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "--sort=name",
            &mtime,
            "--use-compress-program=gzip -n",
            "-C",
            &stage_arg,
            "-cf",
            &archive_arg,
            &name,
        ],
    );
    run(tar)?;
    Ok(archive)
}

/// Installs a cargo subcommand with cargo itself when it is missing.
pub(crate) fn ensure_cargo_tool(subcommand: &str, krate: &str) -> Result<(), String> {
    let present = cargo()
        .args([subcommand, "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if present {
        return Ok(());
    }
    let mut install = cargo();
    install.args(["install", "--locked", krate]);
    run(install)
}

/// Who signs `SHA256SUMS`: an OpenPGP key in gpg's keyring, and the keyring's directory when it
/// is not gpg's default (`GNUPGHOME`).
pub struct Signer {
    pub key: String,
    pub home: Option<PathBuf>,
}

impl Signer {
    fn gpg(&self) -> Command {
        let mut gpg = Command::new("gpg");
        if let Some(home) = &self.home {
            gpg.env("GNUPGHOME", home);
        }
        gpg.arg("--batch");
        gpg
    }

    /// Stops the gpg-agent gpg started for the keyring in `home`, so that none outlives its run
    /// (or a removed keyring directory, where the next run could not reach it).
    fn stop_agent(home: &Path) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", home)
            .args(["--kill", "gpg-agent"])
            .output();
    }
}

impl Drop for Signer {
    fn drop(&mut self) {
        if let Some(home) = &self.home {
            Signer::stop_agent(home);
        }
    }
}

/// A fresh key in a keyring of its own under `target/`, for the test command: what a release
/// does with the releaser's key, proven without it.
pub fn throwaway_signer() -> Result<Signer, String> {
    let home = project_root().join("target/throwaway-gnupg");
    Signer::stop_agent(&home);
    let _ = fs::remove_dir_all(&home);
    fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&home, fs::Permissions::from_mode(0o700)).map_err(|e| e.to_string())?;
    let signer = Signer {
        key: "sudrop test release <release@sudrop.invalid>".into(),
        home: Some(home),
    };
    let mut generate = signer.gpg();
    generate.args([
        "--passphrase",
        "",
        "--quick-generate-key",
        &signer.key,
        "ed25519",
        "sign",
        "1d",
    ]);
    run(generate)?;
    Ok(signer)
}

/// `cargo xtask dist`: signed when `SUDROP_SIGNING_KEY` names a key.
pub fn dist() -> Result<(), String> {
    let signer = std::env::var("SUDROP_SIGNING_KEY")
        .ok()
        .filter(|key| !key.is_empty())
        .map(|key| Signer { key, home: None });
    dist_with(signer.as_ref())
}

pub fn dist_with(signer: Option<&Signer>) -> Result<(), String> {
    let out = dist_dir();
    let _ = fs::remove_dir_all(&out);
    check_docs()?;
    compressed_man_page(&out.join("generated"))?;
    let date = source_date();
    let timestamp = output(
        "date",
        &["-u", "-d", &format!("@{date}"), "+%Y-%m-%dT%H:%M:%SZ"],
    )?;
    let timestamp = timestamp.trim().to_string();
    ensure_cargo_tool("deb", "cargo-deb")?;
    ensure_cargo_tool("generate-rpm", "cargo-generate-rpm")?;
    let out_arg = out.display().to_string();
    for arch in ARCHES {
        let target = arch.target;
        let binary = build_target(target)?;
        tarball(&binary, target, &date)?;
        let sbom = sbom::cyclonedx(&binary, target, &timestamp)?;
        let path = out.join(sbom_name(target));
        fs::write(&path, sbom).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut deb = cargo();
        deb.env("SOURCE_DATE_EPOCH", &date);
        // Quiet: a static binary has no shared library for its "$auto" Depends to find,
        // which cargo-deb would warn about (the empty field is dropped below).
        deb.args([
            "deb",
            "--quiet",
            "--no-build",
            "--no-strip",
            "--package",
            "sudrop",
            "--target",
            target,
            "--output",
            &out_arg,
        ]);
        run(deb)?;
        drop_empty_depends(&find(&format!("_{}.deb", arch.debian))?, &date)?;
        if arch.rpm.is_some() {
            stage_rpm_assets(&out.join("rpm"), target, &date)?;
            let mut rpm = cargo();
            rpm.env("SOURCE_DATE_EPOCH", &date);
            rpm.args(["generate-rpm", "--target", target, "--output", &out_arg]);
            run(rpm)?;
        }
    }
    let _ = fs::remove_dir_all(out.join("stage"));

    let names: Vec<String> = fs::read_dir(&out)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            [".tar.gz", ".deb", ".rpm", ".cdx.json"]
                .iter()
                .any(|suffix| n.ends_with(suffix))
        })
        .collect();
    let mut sorted = names;
    sorted.sort();
    let mut args = vec!["--"];
    args.extend(sorted.iter().map(String::as_str));
    let mut sums = Command::new("sha256sum");
    sums.args(&args).current_dir(&out);
    let listing = sums.output().map_err(|e| format!("sha256sum: {e}"))?;
    fs::write(out.join("SHA256SUMS"), &listing.stdout).map_err(|e| e.to_string())?;
    eprintln!(
        "xtask: artifacts in {}:\n{}",
        out.display(),
        String::from_utf8_lossy(&listing.stdout)
    );
    match signer {
        Some(signer) => sign(&out, signer),
        None => {
            eprintln!("xtask: SUDROP_SIGNING_KEY is not set: SHA256SUMS is not signed");
            Ok(())
        }
    }
}

/// Signs `SHA256SUMS` with `key` (an OpenPGP key id or fingerprint in gpg's keyring):
/// `SHA256SUMS.asc`, a detached ASCII-armoured signature, as `gpg --verify SHA256SUMS.asc
/// SHA256SUMS` and Debian's uscan read it.
fn sign(out: &Path, signer: &Signer) -> Result<(), String> {
    let key = signer.key.as_str();
    let mut gpg = signer.gpg();
    gpg.args([
        "--yes",
        "--pinentry-mode",
        "loopback",
        "--passphrase-fd",
        "0",
        "--local-user",
        key,
        "--armor",
        "--detach-sign",
        "--output",
        "SHA256SUMS.asc",
        "SHA256SUMS",
    ])
    .current_dir(out)
    .stdin(std::process::Stdio::null());
    run(gpg)?;
    eprintln!("xtask: signed SHA256SUMS with {key}: SHA256SUMS.asc");
    Ok(())
}

/// Copies what the .rpm holds (the paths in Cargo.toml's generate-rpm assets) into `stage`,
/// every file dated `date`: cargo-generate-rpm only clamps newer times to SOURCE_DATE_EPOCH,
/// so a checkout's older file times would otherwise reach the package.
fn stage_rpm_assets(stage: &Path, target: &str, date: &str) -> Result<(), String> {
    let _ = fs::remove_dir_all(stage);
    fs::create_dir_all(stage).map_err(|e| e.to_string())?;
    let root = project_root();
    let binary = root.join(format!("target/{target}/release/sudrop"));
    // The man page goes in compressed; every other document as committed.
    let mut sources = vec![binary, dist_dir().join("generated/sudrop.1.gz")];
    let documents = DOC_FILES
        .iter()
        .map(|(committed, _, _)| *committed)
        .filter(|committed| *committed != MAN_PAGE);
    sources.extend(
        documents
            .chain(PROJECT_FILES.iter().copied())
            .map(|path| root.join(path)),
    );
    let mut touch = Command::new("touch");
    touch.arg("-d").arg(format!("@{date}"));
    for source in &sources {
        let name = source.file_name().ok_or("an asset without a name")?;
        let staged = stage.join(name);
        fs::copy(source, &staged).map_err(|e| format!("{}: {e}", source.display()))?;
        touch.arg(staged);
    }
    run(touch)
}

/// cargo-deb writes `Depends:` with nothing after it when a package depends on nothing (a
/// static binary); lintian and some tools read that as a malformed field. Repacks the .deb
/// without it, as reproducibly as cargo-deb packed it (root owner, SOURCE_DATE_EPOCH).
fn drop_empty_depends(deb: &Path, date: &str) -> Result<(), String> {
    let tree = dist_dir().join("deb-tree");
    let _ = fs::remove_dir_all(&tree);
    let (deb_arg, tree_arg) = (deb.display().to_string(), tree.display().to_string());
    output("dpkg-deb", &["--raw-extract", &deb_arg, &tree_arg])?;
    let control_path = tree.join("DEBIAN/control");
    let control = fs::read_to_string(&control_path).map_err(|e| e.to_string())?;
    let kept: String = control
        .lines()
        .filter(|line| line.trim_end() != "Depends:")
        .map(|line| format!("{line}\n"))
        .collect();
    fs::write(&control_path, kept).map_err(|e| e.to_string())?;
    let mut build = command(
        "dpkg-deb",
        &["--root-owner-group", "-Zxz", "--build", &tree_arg, &deb_arg],
    );
    build.env("SOURCE_DATE_EPOCH", date);
    crate::stdout_of(build)?;
    fs::remove_dir_all(&tree).map_err(|e| e.to_string())
}

/// Builds the release artifacts again from a copy of these sources in another directory (a
/// different absolute path and name, its own target directory, fresh file times) and requires
/// the same bytes: the two `SHA256SUMS` must be identical.
pub fn check_reproducible() -> Result<(), String> {
    let elsewhere = project_root().join("target/reproducibility/another-checkout");
    let listing = output(
        "git",
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    )?;
    // A fresh copy of the sources; its own target directory stays, as a second checkout's would.
    for entry in fs::read_dir(&elsewhere).into_iter().flatten().flatten() {
        if entry.file_name() != "target" {
            let path = entry.path();
            let _ = fs::remove_dir_all(&path).or_else(|_| fs::remove_file(&path));
        }
    }
    for relative in listing.split('\0').filter(|p| !p.is_empty()) {
        let source = project_root().join(relative);
        if !source.is_file() {
            continue; // deleted in the working tree, not yet committed
        }
        let copy = elsewhere.join(relative);
        fs::create_dir_all(copy.parent().expect("parent")).map_err(|e| e.to_string())?;
        fs::copy(&source, &copy).map_err(|e| format!("{}: {e}", source.display()))?;
    }
    let mut dist = cargo();
    dist.args(["xtask", "dist"])
        .current_dir(&elsewhere)
        .env("SOURCE_DATE_EPOCH", source_date())
        .env_remove("CARGO_TARGET_DIR");
    run(dist)?;
    let read = |dir: &Path| {
        fs::read_to_string(dir.join("target/dist/SHA256SUMS"))
            .map_err(|e| format!("{}: {e}", dir.display()))
    };
    let (here, there) = (read(&project_root())?, read(&elsewhere)?);
    if here != there {
        return Err(format!(
            "the artifacts differ when built in {}:\nhere:\n{here}there:\n{there}",
            elsewhere.display()
        ));
    }
    eprintln!(
        "xtask: built again in {}, every artifact has the same bytes",
        elsewhere.display()
    );
    Ok(())
}

/// Whom a packaged binary is run as: nobody when we are root; otherwise ourselves (the empty
/// USER-SPEC), since only root may switch. Returns the spec, the `id -u` expected, and words
/// for the log.
fn run_as() -> (&'static str, String, &'static str) {
    if crate::is_root() {
        ("nobody", "65534".into(), "nobody")
    } else {
        let uid = output("id", &["-u"]).unwrap_or_default();
        (
            "",
            uid.trim().to_string(),
            "the caller (not root: no switch)",
        )
    }
}

/// Runs a packaged binary (through `emulator` for another architecture): `--version`; a
/// switch to nobody whose command sees uid 65534, no capability in any set and no_new_privs;
/// and, as root, `--init` as PID 1 of a new PID namespace (qemu-user refuses the subreaper bit
/// an init outside one needs), which must pass the command's status through and drain the
/// process it left behind.
fn run_packaged(binary: &Path, emulator: Option<&str>) -> Result<(), String> {
    let binary = binary.display().to_string();
    if let Some(emulator) = emulator
        && Command::new(emulator).arg("--version").output().is_err()
    {
        eprintln!("xtask: {emulator} is not installed; {binary} is checked but not run");
        return Ok(());
    }
    let line = |args: &[&str]| -> Vec<String> {
        emulator
            .into_iter()
            .chain([binary.as_str()])
            .chain(args.iter().copied())
            .map(String::from)
            .collect()
    };
    let invoke = |args: &[&str]| -> Result<String, String> {
        let line = line(args);
        let words: Vec<&str> = line.iter().map(String::as_str).collect();
        output(words[0], &words[1..])
    };
    let said = invoke(&["--version"])?;
    if said.trim() != format!("sudrop {}", version()) {
        return Err(format!("{binary} says {said:?}"));
    }
    let (spec, expected, who) = run_as();
    let ran = invoke(&[
        spec,
        "/bin/sh",
        "-c",
        "id -u; grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status",
    ])?;
    let mut lines = ran.lines();
    if lines.next().map(str::trim) != Some(expected.as_str()) {
        return Err(format!("{binary} ran `id -u` as {ran:?}"));
    }
    if crate::is_root() {
        let status: Vec<&str> = lines.collect();
        let empty = status
            .iter()
            .filter(|l| l.starts_with("Cap"))
            .all(|l| l.ends_with("0000000000000000"));
        if status.len() != 6 || !empty || !status.contains(&"NoNewPrivs:\t1") {
            return Err(format!("{binary}: after the switch to nobody: {status:?}"));
        }
    }
    let how = emulator.map(|e| format!(" under {e}")).unwrap_or_default();
    if crate::is_root() {
        let marker = dist_dir().join(format!("check/drained-{}", std::process::id()));
        let _ = fs::remove_file(&marker);
        // The leftover keeps running after the command exits 3, until it is sent SIGTERM; the
        // command waits (at most 10 s) until the leftover's trap is set.
        let script = format!(
            "(trap 'echo drained > {m}; exit 0' TERM; : > {m}.ready; while :; do sleep 1; done) & \
             i=0; while [ ! -e {m}.ready ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done; \
             exit 3",
            m = marker.display()
        );
        let mut init = Command::new("unshare");
        init.args(["--pid", "--fork", "--kill-child", "--mount-proc"])
            .args(line(&["--init", "nobody", "/bin/sh", "-c", &script]));
        if let Some(parent) = marker.parent() {
            fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(parent, fs::Permissions::from_mode(0o1777))
                .map_err(|e| e.to_string())?;
        }
        let status = init.status().map_err(|e| format!("unshare: {e}"))?;
        let drained = fs::read_to_string(&marker).unwrap_or_default();
        let _ = fs::remove_file(&marker);
        let _ = fs::remove_file(marker.with_extension("ready"));
        if status.code() != Some(3) || drained.trim() != "drained" {
            return Err(format!(
                "{binary} --init as PID 1{how}: {status} (want 3), leftover said {drained:?}"
            ));
        }
    }
    eprintln!(
        "xtask: {binary} ran{how}: --version; the command as {who}{}",
        if crate::is_root() {
            " with no capability and no_new_privs; --init passed exit 3 through and drained \
             the leftover"
        } else {
            ""
        }
    );
    Ok(())
}

/// Everything checked of one shipped binary, from a tarball or a package: an ELF binary for
/// `target`, static and within the budget, carrying the dependency list its SBOM names, and
/// running (`--version`, and `id -u` after a switch).
fn check_shipped(binary: &Path, arch: &Arch) -> Result<(), String> {
    let bytes = fs::read(binary).map_err(|e| format!("{}: {e}", binary.display()))?;
    if elf_machine(&bytes) != Some(arch.elf_machine) {
        return Err(format!(
            "{} is not an ELF binary for {}",
            binary.display(),
            arch.target
        ));
    }
    check_binary(binary)?;
    sbom::check(
        binary,
        &dist_dir().join(sbom_name(arch.target)),
        arch.target,
    )?;
    run_packaged(binary, arch.emulator)
}

fn find(suffix: &str) -> Result<PathBuf, String> {
    fs::read_dir(dist_dir())
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(suffix))
        .ok_or_else(|| format!("no *{suffix} in {}", dist_dir().display()))
}

fn expect_paths(listing: &str, paths: &[&str], what: &str) -> Result<(), String> {
    for path in paths {
        if !listing.lines().any(|line| line.trim_end().ends_with(path)) {
            return Err(format!("{what} lacks {path}:\n{listing}"));
        }
    }
    Ok(())
}

/// Verifies what `dist` wrote: checksums, tarball contents, the .deb's file list and its
/// binary (static, runs), and the .rpm's file list.
pub fn check() -> Result<(), String> {
    check_with(None)
}

/// As [`check`]; with `signer`, `SHA256SUMS.asc` must be there and is checked with its keyring.
pub fn check_with(signer: Option<&Signer>) -> Result<(), String> {
    let out = dist_dir();
    let mut verify = Command::new("sha256sum");
    verify
        .args(["--check", "--quiet", "SHA256SUMS"])
        .current_dir(&out);
    run(verify)?;

    let version = version();
    let mut rpm_files = 0;
    for arch in ARCHES {
        let target = arch.target;
        let archive = out.join(format!("sudrop-{version}-{target}.tar.gz"));
        let listing = output("tar", &["-tzf", &archive.display().to_string()])?;
        let mut expected = vec![
            "/sudrop",
            "/sudrop.1",
            "/README.md",
            "/LICENSE-MIT",
            "/LICENSE-APACHE",
        ];
        expected.extend(["/sudrop.bash", "/_sudrop", "/sudrop.fish"]);
        expect_paths(&listing, &expected, &archive.display().to_string())?;
        let unpacked = out.join("check").join(target);
        let _ = fs::remove_dir_all(&unpacked);
        fs::create_dir_all(&unpacked).map_err(|e| e.to_string())?;
        output(
            "tar",
            &[
                "-xzf",
                &archive.display().to_string(),
                "-C",
                &unpacked.display().to_string(),
            ],
        )?;
        check_shipped(
            &unpacked.join(format!("sudrop-{version}-{target}/sudrop")),
            arch,
        )?;
        check_deb(arch)?;
        if let Some(rpm_arch) = arch.rpm {
            rpm_files = check_rpm(rpm_arch)?;
        }
    }
    check_signature(&out, signer)?;
    eprintln!("xtask: dist artifacts verified (each .rpm holds {rpm_files} files)");
    check_apkbuild(&out.join("check/apk"))?;
    fs::remove_dir_all(out.join("check")).map_err(|e| e.to_string())
}

/// The .deb of `arch`: its files, its control fields (Debian's architecture name, no
/// Depends), and its binary.
fn check_deb(arch: &Arch) -> Result<(), String> {
    let deb = find(&format!("_{}.deb", arch.debian))?
        .display()
        .to_string();
    let listing = output("dpkg-deb", &["--contents", &deb])?;
    let mut expected = vec!["./usr/bin/sudrop", "./usr/share/doc/sudrop/copyright"];
    expected.extend(DOC_FILES.iter().map(|(_, _, installed)| *installed));
    expect_paths(&listing, &expected, &deb)?;
    let fields = output(
        "dpkg-deb",
        &[
            "--field",
            &deb,
            "Package",
            "Version",
            "Architecture",
            "Depends",
        ],
    )?;
    if !fields.contains("Package: sudrop")
        || !fields.contains(&format!("Architecture: {}\n", arch.debian))
        || fields.contains("Depends")
    {
        return Err(format!("{deb}: unexpected control fields:\n{fields}"));
    }
    let root = dist_dir().join("check/deb").join(arch.debian);
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(&root).map_err(|e| e.to_string())?;
    output(
        "dpkg-deb",
        &["--extract", &deb, &root.display().to_string()],
    )?;
    check_shipped(&root.join("usr/bin/sudrop"), arch)
}

/// The .rpm for `rpm_arch`: its files, and that it requires nothing. Returns how many files.
fn check_rpm(rpm_arch: &str) -> Result<usize, String> {
    let rpm = find(&format!(".{rpm_arch}.rpm"))?.display().to_string();
    let listing = output("rpm", &["-qpl", &rpm])?;
    let mut expected = vec!["/usr/bin/sudrop", "/usr/share/licenses/sudrop/LICENSE-MIT"];
    expected.extend([
        "/usr/share/man/man1/sudrop.1.gz",
        "/usr/share/bash-completion/completions/sudrop",
    ]);
    expected.extend([
        "/usr/share/zsh/site-functions/_sudrop",
        "/usr/share/fish/vendor_completions.d/sudrop.fish",
    ]);
    expect_paths(&listing, &expected, &rpm)?;
    // A static binary and no scripts: the package requires nothing but rpm's own features.
    let requires = output("rpm", &["-qpR", &rpm])?;
    if let Some(extra) = requires.lines().find(|line| !line.starts_with("rpmlib(")) {
        return Err(format!(
            "{rpm} requires {extra:?}; it should require nothing"
        ));
    }
    let arch = output("rpm", &["-qp", "--queryformat", "%{ARCH}", &rpm])?;
    if arch.trim() != rpm_arch {
        return Err(format!("{rpm} is for {arch:?}, not {rpm_arch}"));
    }
    Ok(listing.lines().count())
}

/// When `SHA256SUMS.asc` is there: it verifies, and it is what `gpg --verify` and
/// `sha256sum --check` together would catch: a changed byte in an artifact fails the sums, a
/// changed byte in `SHA256SUMS` fails the signature (both tried on copies).
fn check_signature(out: &Path, signer: Option<&Signer>) -> Result<(), String> {
    let signature = out.join("SHA256SUMS.asc");
    let Some(signer) = signer else {
        return Ok(());
    };
    if !signature.exists() {
        return Err(format!("{} is missing", signature.display()));
    }
    let verify = |dir: &Path| {
        signer
            .gpg()
            .args(["--verify", "SHA256SUMS.asc", "SHA256SUMS"])
            .current_dir(dir)
            .output()
            .map(|o| o.status.success())
            .map_err(|e| format!("gpg: {e}"))
    };
    let sums_hold = |dir: &Path| {
        Command::new("sha256sum")
            .args(["--check", "--quiet", "SHA256SUMS"])
            .current_dir(dir)
            .output()
            .map(|o| o.status.success())
            .map_err(|e| format!("sha256sum: {e}"))
    };
    if !verify(out)? {
        return Err("SHA256SUMS.asc does not verify SHA256SUMS".into());
    }
    let tampered = out.join("check/tampered");
    let flip_a_byte = |path: &Path| -> Result<(), String> {
        let mut bytes = fs::read(path).map_err(|e| e.to_string())?;
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        fs::write(path, bytes).map_err(|e| e.to_string())
    };
    let listed: Vec<String> = fs::read_to_string(out.join("SHA256SUMS"))
        .map_err(|e| e.to_string())?
        .lines()
        .filter_map(|line| line.split_whitespace().nth(1).map(str::to_string))
        .collect();
    for (victim, caught_by) in listed
        .iter()
        .map(|name| (name.as_str(), "sha256sum --check"))
        .chain([("SHA256SUMS", "gpg --verify")])
    {
        let _ = fs::remove_dir_all(&tampered);
        fs::create_dir_all(&tampered).map_err(|e| e.to_string())?;
        for name in listed
            .iter()
            .map(String::as_str)
            .chain(["SHA256SUMS", "SHA256SUMS.asc"])
        {
            fs::copy(out.join(name), tampered.join(name)).map_err(|e| e.to_string())?;
        }
        flip_a_byte(&tampered.join(victim))?;
        let caught = if victim == "SHA256SUMS" {
            !verify(&tampered)?
        } else {
            !sums_hold(&tampered)?
        };
        if !caught {
            return Err(format!("a changed byte in {victim} passed {caught_by}"));
        }
    }
    eprintln!(
        "xtask: SHA256SUMS.asc verifies; a changed byte in any of the {} artifacts fails \
         sha256sum --check, and one in SHA256SUMS fails the signature",
        listed.len()
    );
    Ok(())
}

/// The APKBUILD cannot build here (no Alpine archive), so this checks what it can: its
/// `package()` run by a shell in the crate as published (`cargo package`), with the release
/// binary standing in for its `build()`, installs every file a package of sudrop has.
fn check_apkbuild(work: &Path) -> Result<(), String> {
    let apkbuild = project_root().join("packaging/alpine/APKBUILD");
    let text = fs::read_to_string(&apkbuild).map_err(|e| e.to_string())?;
    if text.contains("xtask") {
        return Err("the APKBUILD runs xtask, which the published crate lacks".into());
    }
    let _ = fs::remove_dir_all(work);
    fs::create_dir_all(work).map_err(|e| e.to_string())?;
    let mut package = cargo();
    // Quiet: the crate names no homepage or repository (there is none to name yet), which
    // cargo would warn about on every run.
    package.args([
        "package",
        "--quiet",
        "--no-verify",
        "--allow-dirty",
        "--package",
        "sudrop",
    ]);
    run(package)?;
    let crate_file = project_root().join(format!("target/package/sudrop-{}.crate", version()));
    output(
        "tar",
        &[
            "-xzf",
            &crate_file.display().to_string(),
            "-C",
            &work.display().to_string(),
        ],
    )?;
    let source = work.join(format!("sudrop-{}", version()));
    let binary = project_root().join(format!("target/{}/release/sudrop", ARCHES[0].target));
    fs::create_dir_all(source.join("target/release")).map_err(|e| e.to_string())?;
    fs::copy(&binary, source.join("target/release/sudrop")).map_err(|e| e.to_string())?;
    let pkgdir = work.join("pkg");
    let mut shell = Command::new("sh");
    shell
        .args(["-euc", ". \"$1\"; package", "sh"])
        .arg(&apkbuild)
        .env("pkgdir", &pkgdir)
        .current_dir(&source);
    run(shell)?;
    for installed in [
        "usr/bin/sudrop",
        "usr/share/man/man1/sudrop.1",
        "usr/share/bash-completion/completions/sudrop",
        "usr/share/zsh/site-functions/_sudrop",
        "usr/share/fish/vendor_completions.d/sudrop.fish",
        "usr/share/licenses/sudrop/LICENSE-MIT",
    ] {
        if !pkgdir.join(installed).is_file() {
            return Err(format!(
                "the APKBUILD's package() did not install /{installed}"
            ));
        }
    }
    eprintln!("xtask: the APKBUILD's package() installs everything from the published crate");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_man_page_and_completions_are_what_the_definition_makes() {
        super::check_docs().unwrap();
    }
}
