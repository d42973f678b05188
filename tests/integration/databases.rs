//! User databases shared by the root tests.

/// The lab database of ../shared/reference/privilege-droppers.md (gosu's answers were measured
/// on it), plus `app` for general use. The unit tests of `resolve` read the same files.
pub const PASSWD: &str = include_str!("../fixtures/lab.passwd");

pub const GROUP: &str = include_str!("../fixtures/lab.group");
