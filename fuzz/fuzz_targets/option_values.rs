//! The option value parsers: never panic, and what they accept is in range (a duration of at
//! most a day, a signal between 1 and SIGRTMAX, capabilities the kernel numbers, a umask of
//! at most 0777, a ulimit whose soft limit is within its hard one, and `--group-add` lists
//! whose every part is an id or a name that does not start with a sign).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sudrop::capability::parse_cap_list;
use sudrop::id::Gid;
use sudrop::limits::{parse_ulimit, parse_umask};
use sudrop::resolve::group_add_gids;
use sudrop::signals::{parse_duration, parse_remap, parse_rewrite, parse_signal};
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(duration) = parse_duration(text) {
        assert!(duration <= Duration::from_secs(86_400), "{text:?}: {duration:?}");
    }
    let max = libc_rtmax();
    if let Ok(signal) = parse_signal(text) {
        assert!((1..=max).contains(&signal.0), "{text:?}: {signal:?}");
    }
    if let Ok((from, to)) = parse_rewrite(text) {
        assert!((1..=max).contains(&from.0) && to.is_none_or(|to| (1..=max).contains(&to.0)));
    }
    let _ = parse_remap(text);
    if let Ok(mask) = parse_cap_list([text]) {
        assert!(mask.0 < 1 << 41, "{text:?}: {mask:?}");
    }
    if let Ok(mode) = parse_umask(text) {
        assert!(mode <= 0o777, "{text:?}: {mode:o}");
    }
    if let Ok(limit) = parse_ulimit(text) {
        if let (Some(soft), Some(hard)) = (limit.soft, limit.hard) {
            assert!(soft <= hard, "{text:?}");
        }
        assert!(!(limit.soft.is_none() && limit.hard.is_some()), "{text:?}");
    }
    // `--group-add` against a group file where every name is gid 0: a name starting with a
    // sign never resolves, and an all-digit part is always its own id.
    let names: Vec<&[u8]> = text.split(',').map(str::as_bytes).collect();
    let group: Vec<u8> = names
        .iter()
        .flat_map(|name| name.iter().chain(b":x:0:\n"))
        .copied()
        .collect();
    if let Ok(gids) = group_add_gids(&names, &group) {
        assert_eq!(gids.len(), names.len());
        for (name, gid) in names.iter().zip(gids) {
            assert!(!matches!(name.first(), Some(b'+' | b'-')), "{text:?}");
            if name.iter().all(u8::is_ascii_digit) {
                assert_eq!(name.iter().fold(0u64, |v, d| v * 10 + u64::from(d - b'0')), u64::from(gid.0), "{text:?}");
            } else {
                assert_eq!(gid, Gid(0), "{text:?}");
            }
        }
    }
});

fn libc_rtmax() -> i32 {
    sudrop::signals::Signal::realtime_max().0
}
