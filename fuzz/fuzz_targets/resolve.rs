//! The whole resolution, spec and both files to an identity. The input is
//! `SPEC \0 PASSWD \0 GROUP`; the caller is uid 1000, gid 1000. Asserted:
//! - a numeric user part resolves to exactly that uid, never through a name;
//! - uid 0 only when the spec says 0, or names a user whose own (first well-formed) line
//!   has uid 0;
//! - at most 65,536 groups, sorted, without duplicates;
//! - a line that could be the match is never skipped: a name resolves only when no line
//!   before its match could be named that (cut at a NUL byte, or with white space trimmed);
//! - time stays near-linear: well under a second for any input libFuzzer makes.
#![no_main]

mod reference;

use libfuzzer_sys::fuzz_target;
use sudrop::id::{Gid, Uid};
use sudrop::resolve::{Caller, MAX_GROUPS, resolve};
use sudrop::spec::{Part, parse};
use std::time::{Duration, Instant};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0);
    let (Some(spec_text), Some(passwd), Some(group)) = (parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let Ok(spec) = parse(spec_text) else {
        return;
    };
    let caller = Caller {
        uid: Uid(1000),
        gid: Gid(1000),
    };
    let started = Instant::now();
    let result = resolve(&spec, caller, passwd, group);
    assert!(started.elapsed() < Duration::from_secs(1), "slow: {} bytes", data.len());
    let Ok(target) = result else {
        return;
    };
    for (half, part, data, fields) in [
        ("user", spec.user, passwd, 7),
        ("group", spec.group, group, 4),
    ] {
        if let Some(Part::Name(name)) = part {
            for before in reference::names_before_match(data, fields, name) {
                assert!(
                    !reference::could_be_named(before, name),
                    "{half} {name:?} resolved past a line named {before:?}"
                );
            }
        }
    }
    if let Some(Part::Id(uid)) = spec.user {
        assert_eq!(target.uid, Uid(uid));
    }
    if target.uid == Uid(0) {
        match spec.user {
            Some(Part::Id(0)) => {}
            Some(Part::Name(name)) => {
                assert_eq!(reference::uid_of(passwd, name), Some(0), "root through {name:?}")
            }
            other => panic!("uid 0 from {other:?}"),
        }
    }
    assert!(target.groups.len() <= MAX_GROUPS);
    assert!(target.groups.windows(2).all(|pair| pair[0] < pair[1]));
});
