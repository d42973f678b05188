//! What is inside a release binary, for vulnerability scanners.
//!
//! `cargo auditable` embeds the binary's dependency tree in an ELF section (`.dep-v0`,
//! zlib-compressed JSON), which `cargo audit bin`, trivy, grype and syft read. From that same
//! list, this writes a CycloneDX SBOM beside `SHA256SUMS`, with each crate's licence (from
//! `cargo metadata`) and checksum (from `Cargo.lock`). The check reads the list back out of the
//! shipped binary and holds both it and the SBOM to what cargo says the binary links.

use crate::{cargo, project_root};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The section `cargo auditable` writes.
const SECTION: &str = ".dep-v0";

/// One crate of the embedded list.
#[derive(Debug)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// A build-time dependency (a build script's): compiled, not linked into the binary.
    pub build_only: bool,
    pub root: bool,
    pub dependencies: Vec<usize>,
}

impl Package {
    fn purl(&self) -> String {
        format!("pkg:cargo/{}@{}", self.name, self.version)
    }
}

/// The bytes of section `name` of an ELF file.
fn elf_section<'a>(elf: &'a [u8], name: &str) -> Option<&'a [u8]> {
    crate::elf::Elf::parse(elf).ok()?.section(name)
}

/// The dependency list embedded in `binary`.
pub fn embedded(binary: &Path) -> Result<Vec<Package>, String> {
    let what = binary.display();
    let elf = fs::read(binary).map_err(|e| format!("{what}: {e}"))?;
    let compressed =
        elf_section(&elf, SECTION).ok_or_else(|| format!("{what} has no {SECTION} section"))?;
    let json = miniz_oxide::inflate::decompress_to_vec_zlib(compressed)
        .map_err(|e| format!("{what}: {SECTION} does not inflate: {e:?}"))?;
    let list: Value =
        serde_json::from_slice(&json).map_err(|e| format!("{what}: {SECTION}: {e}"))?;
    let packages = list["packages"]
        .as_array()
        .ok_or_else(|| format!("{what}: {SECTION} lists no packages"))?;
    packages
        .iter()
        .map(|package| {
            let text = |key: &str| {
                package[key]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{what}: a package without {key}"))
            };
            Ok(Package {
                name: text("name")?,
                version: text("version")?,
                build_only: package["kind"] == "build",
                root: package["root"] == true,
                dependencies: package["dependencies"]
                    .as_array()
                    .map(|d| {
                        d.iter()
                            .filter_map(Value::as_u64)
                            .map(|i| i as usize)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// `Cargo.lock`'s checksum of each registry crate, by (name, version).
fn lock_checksums() -> Result<BTreeMap<(String, String), String>, String> {
    let lock = fs::read_to_string(project_root().join("Cargo.lock")).map_err(|e| e.to_string())?;
    let mut checksums = BTreeMap::new();
    for block in lock.split("[[package]]") {
        let field = |key: &str| {
            block.lines().find_map(|line| {
                let value = line.strip_prefix(key)?.trim().strip_prefix('=')?.trim();
                Some(value.trim_matches('"').to_string())
            })
        };
        if let (Some(name), Some(version), Some(sum)) =
            (field("name"), field("version"), field("checksum"))
        {
            checksums.insert((name, version), sum);
        }
    }
    Ok(checksums)
}

/// Each package's licence expression, by (name, version), from `cargo metadata`.
fn licences() -> Result<BTreeMap<(String, String), String>, String> {
    let mut metadata = cargo();
    metadata
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(project_root());
    let text = crate::stdout_of(metadata)?;
    let value: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let mut licences = BTreeMap::new();
    for package in value["packages"].as_array().into_iter().flatten() {
        if let (Some(name), Some(version), Some(licence)) = (
            package["name"].as_str(),
            package["version"].as_str(),
            package["license"].as_str(),
        ) {
            licences.insert((name.to_string(), version.to_string()), licence.to_string());
        }
    }
    Ok(licences)
}

/// A CycloneDX 1.5 SBOM of `binary`, built for `target`, made at `timestamp` (RFC 3339).
pub fn cyclonedx(binary: &Path, target: &str, timestamp: &str) -> Result<String, String> {
    let packages = embedded(binary)?;
    let checksums = lock_checksums()?;
    let licences = licences()?;
    let key = |p: &Package| (p.name.clone(), p.version.clone());
    let describe = |p: &Package, kind: &str| {
        let mut component = json!({
            "type": kind,
            "bom-ref": p.purl(),
            "name": p.name,
            "version": p.version,
            "purl": p.purl(),
        });
        if !p.root {
            component["scope"] = json!(if p.build_only { "excluded" } else { "required" });
        }
        if let Some(sum) = checksums.get(&key(p)) {
            component["hashes"] = json!([{ "alg": "SHA-256", "content": sum }]);
        }
        if let Some(licence) = licences.get(&key(p)) {
            component["licenses"] = json!([{ "expression": licence }]);
        }
        component
    };
    let root = packages
        .iter()
        .find(|p| p.root)
        .ok_or("the embedded list has no root package")?;
    let mut main = describe(root, "application");
    main["properties"] = json!([{ "name": "cargo:target", "value": target }]);
    let components: Vec<Value> = packages
        .iter()
        .filter(|p| !p.root)
        .map(|p| describe(p, "library"))
        .collect();
    let dependencies: Vec<Value> = packages
        .iter()
        .map(|p| {
            let on: Vec<String> = p
                .dependencies
                .iter()
                .filter_map(|&i| packages.get(i).map(Package::purl))
                .collect();
            json!({ "ref": p.purl(), "dependsOn": on })
        })
        .collect();
    let bom = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "timestamp": timestamp,
            "tools": { "components": [{
                "type": "application",
                "name": "cargo xtask dist",
                "description": "from the dependency list cargo auditable embedded in the binary",
            }]},
            "component": main,
        },
        "components": components,
        "dependencies": dependencies,
    });
    serde_json::to_string_pretty(&bom)
        .map(|text| text + "\n")
        .map_err(|e| e.to_string())
}

/// What cargo says `target`'s sudrop binary links: (name, version) of sudrop and every crate
/// reached by normal dependencies.
fn linked(target: &str) -> Result<BTreeSet<(String, String)>, String> {
    let mut tree = cargo();
    tree.args([
        "tree",
        "--locked",
        "--package",
        "sudrop",
        "--edges",
        "normal",
        "--target",
        target,
        "--prefix",
        "none",
        "--format",
        "{p}",
    ])
    .current_dir(project_root());
    let text = crate::stdout_of(tree)?;
    let mut crates = BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut words = line.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            return Err(format!("cargo tree said {line:?}"));
        };
        let version = version.trim_start_matches('v');
        crates.insert((name.to_string(), version.to_string()));
    }
    Ok(crates)
}

/// Holds the list embedded in the shipped `binary` and the `sbom` beside it to what cargo
/// says the binary links, and every registry crate's hash to `Cargo.lock`.
pub fn check(binary: &Path, sbom: &Path, target: &str) -> Result<(), String> {
    let linked = linked(target)?;
    let packages = embedded(binary)?;
    let embedded: BTreeSet<(String, String)> = packages
        .iter()
        .filter(|p| !p.build_only)
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    if embedded != linked {
        return Err(format!(
            "{}: the embedded list {embedded:?} is not what cargo links {linked:?}",
            binary.display()
        ));
    }
    let text = fs::read_to_string(sbom).map_err(|e| format!("{}: {e}", sbom.display()))?;
    let bom: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", sbom.display()))?;
    let main = &bom["metadata"]["component"];
    let mut named = BTreeSet::new();
    named.insert((
        main["name"].as_str().unwrap_or_default().to_string(),
        main["version"].as_str().unwrap_or_default().to_string(),
    ));
    let checksums = lock_checksums()?;
    for component in bom["components"].as_array().into_iter().flatten() {
        let name = component["name"].as_str().unwrap_or_default().to_string();
        let version = component["version"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let hash = component["hashes"][0]["content"].as_str();
        let locked = checksums.get(&(name.clone(), version.clone()));
        if hash.is_none() || hash != locked.map(String::as_str) {
            return Err(format!(
                "{}: {name} {version} has hash {hash:?}, Cargo.lock says {locked:?}",
                sbom.display()
            ));
        }
        if component["licenses"][0]["expression"].as_str().is_none() {
            return Err(format!(
                "{}: {name} {version} has no licence",
                sbom.display()
            ));
        }
        if component["scope"] == "required" {
            named.insert((name, version));
        }
    }
    if named != linked {
        return Err(format!(
            "{}: the SBOM names {named:?}, the binary links {linked:?}",
            sbom.display()
        ));
    }
    eprintln!(
        "xtask: {} embeds, and {} names, the {} crates it links",
        binary.display(),
        sbom.display(),
        linked.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_section_or_a_non_elf_file_is_none() {
        assert!(elf_section(b"not an elf file", SECTION).is_none());
        let this = std::env::current_exe().unwrap();
        let elf = fs::read(this).unwrap();
        assert!(elf_section(&elf, ".text").is_some());
        assert!(elf_section(&elf, ".no-such-section").is_none());
    }
}
