//! `--umask MODE` and `--ulimit NAME=SOFT[:HARD]`: values read here, applied by [`crate::sys`]
//! before the identity switch (raising a hard limit needs the privilege sudrop still has then).

use std::fmt;

/// The resource names `docker run --ulimit` accepts, with the kernel's numbers. (libc types
/// them `u32` for glibc and `c_int` for musl, hence the casts.)
#[allow(clippy::unnecessary_cast)]
const RESOURCES: &[(&str, u32)] = &[
    ("as", libc::RLIMIT_AS as u32),
    ("core", libc::RLIMIT_CORE as u32),
    ("cpu", libc::RLIMIT_CPU as u32),
    ("data", libc::RLIMIT_DATA as u32),
    ("fsize", libc::RLIMIT_FSIZE as u32),
    ("locks", libc::RLIMIT_LOCKS as u32),
    ("memlock", libc::RLIMIT_MEMLOCK as u32),
    ("msgqueue", libc::RLIMIT_MSGQUEUE as u32),
    ("nice", libc::RLIMIT_NICE as u32),
    ("nofile", libc::RLIMIT_NOFILE as u32),
    ("nproc", libc::RLIMIT_NPROC as u32),
    ("rss", libc::RLIMIT_RSS as u32),
    ("rtprio", libc::RLIMIT_RTPRIO as u32),
    ("rttime", libc::RLIMIT_RTTIME as u32),
    ("sigpending", libc::RLIMIT_SIGPENDING as u32),
    ("stack", libc::RLIMIT_STACK as u32),
];

/// Every resource name `--ulimit` reads, for the shell completions.
pub fn resource_names() -> impl Iterator<Item = &'static str> {
    RESOURCES.iter().map(|(name, _)| *name)
}

/// One limit's value; `None` is unlimited (`-1`).
pub type Value = Option<u64>;

/// A `--ulimit`: the resource, its soft and its hard limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ulimit {
    pub name: &'static str,
    pub resource: u32,
    pub soft: Value,
    pub hard: Value,
}

fn shown(value: Value) -> String {
    value.map_or("-1".into(), |v| v.to_string())
}

impl fmt::Display for Ulimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}:{}", self.name, shown(self.soft), shown(self.hard))
    }
}

/// Why a `--ulimit` or `--umask` was refused; `whole` is the value as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LimitError {
    UlimitForm(String),
    UnknownLimit { whole: String, name: String },
    NotANumber { whole: String, text: String },
    OutOfRange { whole: String, text: String },
    SoftAboveHard(String),
    Umask(String),
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitError::UlimitForm(whole) => {
                write!(f, "--ulimit '{whole}': the form is NAME=SOFT[:HARD]")
            }
            LimitError::UnknownLimit { whole, name } => {
                let names: Vec<&str> = RESOURCES.iter().map(|(n, _)| *n).collect();
                write!(
                    f,
                    "--ulimit '{whole}': unknown limit '{name}' (one of {})",
                    names.join(", ")
                )
            }
            LimitError::NotANumber { whole, text } => write!(
                f,
                "--ulimit '{whole}': '{text}' is not a number (-1 is unlimited)"
            ),
            LimitError::OutOfRange { whole, text } => {
                write!(f, "--ulimit '{whole}': '{text}' is out of range")
            }
            LimitError::SoftAboveHard(whole) => write!(
                f,
                "--ulimit '{whole}': the soft limit is above the hard limit"
            ),
            LimitError::Umask(text) => write!(
                f,
                "--umask '{text}': an octal mode from 0 to 0777 is needed"
            ),
        }
    }
}

fn value(text: &str, whole: &str) -> Result<Value, LimitError> {
    if text == "-1" {
        return Ok(None);
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(LimitError::NotANumber {
            whole: whole.into(),
            text: text.into(),
        });
    }
    text.parse::<u64>()
        .ok()
        .filter(|&v| v != u64::MAX)
        .map(Some)
        .ok_or_else(|| LimitError::OutOfRange {
            whole: whole.into(),
            text: text.into(),
        })
}

/// `nofile=65536:65536`, `core=0`, `memlock=-1`: Docker's spelling. Without HARD, the hard
/// limit is SOFT too, as with `docker run --ulimit`.
pub fn parse_ulimit(text: &str) -> Result<Ulimit, LimitError> {
    let (name, values) = text
        .split_once('=')
        .ok_or_else(|| LimitError::UlimitForm(text.into()))?;
    let &(name, resource) = RESOURCES
        .iter()
        .find(|(known, _)| *known == name)
        .ok_or_else(|| LimitError::UnknownLimit {
            whole: text.into(),
            name: name.into(),
        })?;
    let (soft, hard) = match values.split_once(':') {
        Some((soft, hard)) => (value(soft, text)?, value(hard, text)?),
        None => {
            let both = value(values, text)?;
            (both, both)
        }
    };
    let above = match (soft, hard) {
        (None, Some(_)) => true,
        (Some(soft), Some(hard)) => soft > hard,
        _ => false,
    };
    if above {
        return Err(LimitError::SoftAboveHard(text.into()));
    }
    Ok(Ulimit {
        name,
        resource,
        soft,
        hard,
    })
}

/// `--umask`: octal, `0` to `0777` (`027`, `0022`).
pub fn parse_umask(text: &str) -> Result<u32, LimitError> {
    let digits = text
        .strip_prefix('0')
        .filter(|rest| !rest.is_empty())
        .unwrap_or(text);
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b))
    {
        return Err(LimitError::Umask(text.into()));
    }
    u32::from_str_radix(digits, 8).map_err(|_| LimitError::Umask(text.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockers_spellings() {
        let nofile = parse_ulimit("nofile=1024:65536").unwrap();
        assert_eq!(
            (nofile.name, nofile.soft, nofile.hard),
            ("nofile", Some(1024), Some(65536))
        );
        assert_eq!(nofile.resource, 7, "RLIMIT_NOFILE");
        let core = parse_ulimit("core=0").unwrap();
        assert_eq!((core.soft, core.hard), (Some(0), Some(0)));
        let memlock = parse_ulimit("memlock=-1").unwrap();
        assert_eq!((memlock.soft, memlock.hard), (None, None));
        assert_eq!(
            parse_ulimit("nproc=10:-1").unwrap().to_string(),
            "nproc=10:-1"
        );
    }

    #[test]
    fn unknown_names_soft_above_hard_and_junk_are_refused() {
        for text in [
            "nofiles=1",
            "nofile",
            "nofile=",
            "nofile=2:1",
            "nofile=-1:5",
            "nofile=1.5",
            "nofile=+1",
            "nofile=18446744073709551615",
            "nofile=99999999999999999999",
            "=1",
            "NOFILE=1",
        ] {
            assert!(parse_ulimit(text).is_err(), "{text}");
        }
        assert!(
            parse_ulimit("bogus=1")
                .unwrap_err()
                .to_string()
                .contains("one of as, core")
        );
    }

    #[test]
    fn umask_is_octal_up_to_0777() {
        assert_eq!(parse_umask("027"), Ok(0o27));
        assert_eq!(parse_umask("0022"), Ok(0o22));
        assert_eq!(parse_umask("0"), Ok(0));
        assert_eq!(parse_umask("777"), Ok(0o777));
        for text in ["", "8", "0778", "1000", "0x1f", "-1", "+7"] {
            assert!(parse_umask(text).is_err(), "{text}");
        }
    }
}
