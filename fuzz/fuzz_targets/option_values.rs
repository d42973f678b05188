//! The option value parsers: never panic, and what they accept is in range (a duration of at
//! most a day, a signal between 1 and SIGRTMAX, capabilities the kernel numbers).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sudrop::capability::parse_cap_list;
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
});

fn libc_rtmax() -> i32 {
    sudrop::sys::signal::Signal::realtime_max().0
}
