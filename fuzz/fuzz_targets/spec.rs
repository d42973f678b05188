//! USER-SPEC grammar: never panics; a part made only of digits is an id or an error, never a
//! name; an id is exactly the decimal value of its digits.
#![no_main]

mod reference;

use libfuzzer_sys::fuzz_target;
use sudrop::spec::{Part, parse};

fn check(text: &[u8], part: Option<Part<'_>>) {
    match part {
        Some(Part::Id(id)) => assert_eq!(reference::id(text), Some(id), "{text:?}"),
        Some(Part::Name(name)) => {
            assert_eq!(name, text);
            assert!(!text.iter().all(u8::is_ascii_digit), "digits read as a name: {text:?}");
        }
        None => assert!(text.is_empty(), "{text:?} was dropped"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = parse(data) else {
        return;
    };
    let (user, group) = match data.iter().position(|&b| b == b':') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b""[..]),
    };
    check(user, spec.user);
    check(group, spec.group);
});
