//! The passwd parser against the plain reference: exactly the well-formed lines are entries,
//! with their fields as written; a malformed line never yields an entry (and so never uid 0).
#![no_main]

mod reference;

use libfuzzer_sys::fuzz_target;
use sudrop::userdb::passwd_entries;

fuzz_target!(|data: &[u8]| {
    let expected: Vec<(&[u8], u32, u32, &[u8])> = reference::records(data, 7)
        .into_iter()
        .filter_map(|f| Some((f[0], reference::id(f[2])?, reference::id(f[3])?, f[5])))
        .collect();
    let got: Vec<(&[u8], u32, u32, &[u8])> = passwd_entries(data)
        .map(|e| (e.name, e.uid.0, e.gid.0, e.home))
        .collect();
    assert_eq!(got, expected);
});
