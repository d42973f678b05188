//! The group parser against the plain reference: exactly the well-formed lines are entries,
//! and members are the non-empty comma-separated names of the fourth field.
#![no_main]

mod reference;

use libfuzzer_sys::fuzz_target;
use sudrop::userdb::group_entries;

fuzz_target!(|data: &[u8]| {
    let expected: Vec<(&[u8], u32, Vec<&[u8]>)> = reference::records(data, 4)
        .into_iter()
        .filter_map(|f| {
            let members = f[3].split(|&b| b == b',').filter(|m| !m.is_empty()).collect();
            Some((f[0], reference::id(f[2])?, members))
        })
        .collect();
    let got: Vec<(&[u8], u32, Vec<&[u8]>)> = group_entries(data)
        .map(|e| (e.name, e.gid.0, e.members().collect()))
        .collect();
    assert_eq!(got, expected);
});
