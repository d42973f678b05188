//! Signal names and the values of the init options: `--rewrite`, `--remap-exit`, `--grace`.

use std::time::Duration;

/// A signal number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signal(pub i32);

impl Signal {
    pub const HUP: Signal = Signal(libc::SIGHUP);
    pub const INT: Signal = Signal(libc::SIGINT);
    pub const QUIT: Signal = Signal(libc::SIGQUIT);
    pub const USR1: Signal = Signal(libc::SIGUSR1);
    pub const KILL: Signal = Signal(libc::SIGKILL);
    pub const TERM: Signal = Signal(libc::SIGTERM);
    pub const CHLD: Signal = Signal(libc::SIGCHLD);
    pub const STOP: Signal = Signal(libc::SIGSTOP);
    pub const PIPE: Signal = Signal(libc::SIGPIPE);

    /// The first real-time signal the C library leaves to applications.
    pub fn realtime_min() -> Signal {
        Signal(libc::SIGRTMIN())
    }

    pub fn realtime_max() -> Signal {
        Signal(libc::SIGRTMAX())
    }
}

/// The one standard signal that is not on every architecture: MIPS has SIGEMT (7) where the
/// others have SIGSTKFLT (16).
#[cfg(not(any(target_arch = "mips", target_arch = "mips64")))]
const STKFLT_OR_EMT: (&str, i32) = ("STKFLT", libc::SIGSTKFLT);
#[cfg(any(target_arch = "mips", target_arch = "mips64"))]
const STKFLT_OR_EMT: (&str, i32) = ("EMT", libc::SIGEMT);

/// Standard signal names, with the target's own numbers (libc's: MIPS numbers most of them
/// differently).
const NAMES: &[(&str, i32)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("IOT", libc::SIGIOT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    STKFLT_OR_EMT,
    ("CHLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("POLL", libc::SIGPOLL),
    ("PWR", libc::SIGPWR),
    ("SYS", libc::SIGSYS),
];

/// Every standard signal name sudrop reads (without `SIG`), for the shell completions.
pub fn names() -> impl Iterator<Item = &'static str> {
    NAMES.iter().map(|(name, _)| *name)
}

/// The real-time signals this libc leaves to applications.
pub fn realtime_range() -> std::ops::RangeInclusive<i32> {
    Signal::realtime_min().0..=Signal::realtime_max().0
}

/// The highest signal number.
pub fn last_signal() -> Signal {
    Signal::realtime_max()
}

/// Why a signal, a `--rewrite`, a `--remap-exit` or a duration was refused; the text is the
/// value as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueError {
    UnknownSignal(String),
    /// `--rewrite` without `:`.
    RewriteForm(String),
    /// A `--rewrite` whose signal is unknown: the whole value, and the signal's error.
    RewriteSignal(String, Box<ValueError>),
    /// A `--rewrite` of SIGCHLD, SIGKILL or SIGSTOP.
    NeverForwarded(String, Signal),
    RemapForm(String),
    Duration(String),
}

impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValueError::UnknownSignal(text) => write!(f, "unknown signal '{text}'"),
            ValueError::RewriteForm(text) => write!(f, "--rewrite '{text}': the form is FROM:TO"),
            ValueError::RewriteSignal(text, error) => write!(f, "--rewrite '{text}': {error}"),
            ValueError::NeverForwarded(text, signal) => write!(
                f,
                "--rewrite '{text}': {} is never forwarded",
                signal_name(*signal)
            ),
            ValueError::RemapForm(text) => write!(
                f,
                "--remap-exit '{text}': the form is FROM:TO or FROM (for FROM:0), with codes 0 to 255"
            ),
            ValueError::Duration(text) => write!(
                f,
                "invalid duration '{text}' (examples: 10, 0.5, 500ms, 10s, 1m)"
            ),
        }
    }
}

/// `TERM`, `SIGTERM`, `term`, `15`, `RTMIN`, `RTMIN+2`, `SIGRTMAX-1`.
pub fn parse_signal(text: &str) -> Result<Signal, ValueError> {
    let invalid = || ValueError::UnknownSignal(text.to_string());
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let number: i32 = text.parse().map_err(|_| invalid())?;
        return if (1..=last_signal().0).contains(&number) {
            Ok(Signal(number))
        } else {
            Err(invalid())
        };
    }
    let upper = text.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(&(_, number)) = NAMES.iter().find(|(known, _)| *known == name) {
        return Ok(Signal(number));
    }
    let realtime = realtime_range();
    let (base, offset) = match name.find(['+', '-']) {
        Some(at) => (&name[..at], &name[at..]),
        None => (name, ""),
    };
    let base = match base {
        "RTMIN" => *realtime.start(),
        "RTMAX" => *realtime.end(),
        _ => return Err(invalid()),
    };
    let offset: i32 = match offset.as_bytes().first() {
        None => 0,
        Some(b'+') if offset.len() > 1 && offset[1..].bytes().all(|b| b.is_ascii_digit()) => {
            offset[1..].parse().map_err(|_| invalid())?
        }
        Some(b'-') if offset.len() > 1 && offset[1..].bytes().all(|b| b.is_ascii_digit()) => {
            -offset[1..].parse::<i32>().map_err(|_| invalid())?
        }
        _ => return Err(invalid()),
    };
    match base.checked_add(offset) {
        Some(number) if realtime.contains(&number) => Ok(Signal(number)),
        _ => Err(invalid()),
    }
}

/// The conventional name of a signal, for messages.
pub fn signal_name(signal: Signal) -> String {
    let number = signal.0;
    match NAMES.iter().find(|(_, n)| *n == number) {
        Some((name, _)) => format!("SIG{name}"),
        None if realtime_range().contains(&number) => {
            format!("SIGRTMIN+{}", number - Signal::realtime_min().0)
        }
        None => format!("signal {number}"),
    }
}

/// `--rewrite FROM:TO`: `TO` = 0 drops the signal.
pub fn parse_rewrite(text: &str) -> Result<(Signal, Option<Signal>), ValueError> {
    let (from, to) = text
        .split_once(':')
        .ok_or_else(|| ValueError::RewriteForm(text.to_string()))?;
    let in_rewrite = |error| ValueError::RewriteSignal(text.to_string(), Box::new(error));
    let from = parse_signal(from).map_err(in_rewrite)?;
    if [Signal::CHLD, Signal::KILL, Signal::STOP].contains(&from) {
        return Err(ValueError::NeverForwarded(text.to_string(), from));
    }
    let to = if to == "0" {
        None
    } else {
        Some(parse_signal(to).map_err(in_rewrite)?)
    };
    Ok((from, to))
}

/// `--remap-exit FROM:TO`, both 0..=255; a bare `FROM` is `FROM:0`.
pub fn parse_remap(text: &str) -> Result<(u8, u8), ValueError> {
    let invalid = || ValueError::RemapForm(text.to_string());
    // A bare code means it becomes 0, as tini's `-e CODE`.
    let (from, to) = text.split_once(':').unwrap_or((text, "0"));
    let code = |part: &str| {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        part.parse::<u8>().map_err(|_| invalid())
    };
    Ok((code(from)?, code(to)?))
}

/// `--grace`: `10` and `0.5` are seconds; `500ms`, `10s`, `1m` carry their unit. Read with
/// integers only (float parsing would cost the static binary tens of KB), to the microsecond.
pub fn parse_duration(text: &str) -> Result<Duration, ValueError> {
    let invalid = || ValueError::Duration(text.to_string());
    let (number, unit_micros) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1_000u64)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1_000_000)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000_000)
    } else {
        (text, 1_000_000)
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty())
        || !digits(whole)
        || !digits(fraction)
        || whole.len() > 12
    {
        return Err(invalid());
    }
    let mut micros = if whole.is_empty() {
        0
    } else {
        whole
            .parse::<u64>()
            .ok()
            .and_then(|whole| whole.checked_mul(unit_micros))
            .ok_or_else(invalid)?
    };
    let mut scale = unit_micros;
    for digit in fraction.bytes() {
        scale /= 10;
        micros += u64::from(digit - b'0') * scale;
    }
    // A day is far beyond any runtime's stop timeout.
    if micros > 86_400_000_000 {
        return Err(invalid());
    }
    Ok(Duration::from_micros(micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_numbers_and_realtime() {
        for text in ["TERM", "SIGTERM", "term", "SigTerm", "15"] {
            assert_eq!(parse_signal(text), Ok(Signal::TERM), "{text}");
        }
        assert_eq!(parse_signal("WINCH"), Ok(Signal(28)));
        assert_eq!(parse_signal("RTMIN"), Ok(Signal::realtime_min()));
        assert_eq!(parse_signal("SIGRTMIN+2"), Ok(Signal(libc::SIGRTMIN() + 2)));
        assert_eq!(parse_signal("RTMAX-1"), Ok(Signal(libc::SIGRTMAX() - 1)));
        for text in [
            "", "0", "65", "BOGUS", "RTMIN+99", "RTMIN+", "RTMAX+1", "+15", "-15", "SIG",
        ] {
            assert!(parse_signal(text).is_err(), "{text:?}");
        }
        assert_eq!(signal_name(Signal::TERM), "SIGTERM");
        assert!(parse_signal("RTMIN+2147483647").is_err(), "no overflow");
        assert_eq!(signal_name(Signal(libc::SIGRTMIN() + 2)), "SIGRTMIN+2");
    }

    #[test]
    fn rewrites_map_or_drop() {
        assert_eq!(
            parse_rewrite("TERM:QUIT"),
            Ok((Signal::TERM, Some(Signal::QUIT)))
        );
        assert_eq!(parse_rewrite("15:0"), Ok((Signal::TERM, None)));
        assert_eq!(
            parse_rewrite("SIGTERM:SIGWINCH"),
            Ok((Signal(15), Some(Signal(28))))
        );
        for text in [
            "TERM",
            "TERM:",
            ":QUIT",
            "CHLD:TERM",
            "KILL:TERM",
            "TERM:BOGUS",
        ] {
            assert!(parse_rewrite(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn exit_remaps_are_bytes() {
        assert_eq!(parse_remap("143:0"), Ok((143, 0)));
        assert_eq!(parse_remap("143"), Ok((143, 0)), "tini's -e 143");
        for text in ["", "256", "256:0", "-1:0", "1:+0", "a:b", ":"] {
            assert!(parse_remap(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn durations_in_every_form() {
        let ms = |n| Ok(Duration::from_millis(n));
        assert_eq!(parse_duration("10"), ms(10_000));
        assert_eq!(parse_duration("0.5"), ms(500));
        assert_eq!(parse_duration("500ms"), ms(500));
        assert_eq!(parse_duration("10s"), ms(10_000));
        assert_eq!(parse_duration("1m"), ms(60_000));
        assert_eq!(parse_duration("0"), ms(0));
        assert_eq!(parse_duration(".25"), ms(250));
        assert_eq!(parse_duration("1.5m"), ms(90_000));
        assert_eq!(parse_duration("2.5ms"), Ok(Duration::from_micros(2500)));
        for text in [
            "",
            "s",
            "ms",
            "-1",
            "1h",
            "1.2.3",
            "10 s",
            ".",
            "1e3",
            "99999999999",
            // Once wrapped around to about 10 s.
            "307445734562m",
            "999999999999m",
        ] {
            assert!(parse_duration(text).is_err(), "{text:?}");
        }
    }
}
