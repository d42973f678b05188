//! `/etc/passwd` and `/etc/group`, parsed by sudrop itself.
//!
//! libc's NSS does not work from a static binary, and gosu's parser turns malformed lines into
//! uid 0. Here a line is an entry only if it is exactly well-formed: the right number of fields,
//! a non-empty name, and ids that [`parse_id`] accepts. Everything else (blank lines, `#`
//! comments, short or long lines, `abc` where a number belongs) is skipped, so a malformed line
//! is never a user and never root. A line holding a NUL byte is malformed too: C would read the
//! field as ending there (a home of `/home/a\0x` would become `/home/a`, and an exec'd
//! environment cannot carry it at all). A trailing CR is tolerated; lines may be of any length.

use crate::id::{Gid, IdText, Uid, parse_id};
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

pub const PASSWD_PATH: &str = "/etc/passwd";
pub const GROUP_PATH: &str = "/etc/group";

/// A database larger than this is refused rather than read: a real one with a hundred thousand
/// users is a few MiB.
pub const MAX_DATABASE_BYTES: u64 = 32 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswdEntry<'a> {
    pub name: &'a [u8],
    pub uid: Uid,
    pub gid: Gid,
    pub home: &'a [u8],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupEntry<'a> {
    pub name: &'a [u8],
    pub gid: Gid,
    members: &'a [u8],
}

impl<'a> GroupEntry<'a> {
    /// The user names listed in the fourth field.
    pub fn members(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        self.members
            .split(|&b| b == b',')
            .filter(|name| !name.is_empty())
    }
}

/// The well-formed entries of a passwd file, in file order.
pub fn passwd_entries(data: &[u8]) -> impl Iterator<Item = PasswdEntry<'_>> {
    records::<7>(data).filter_map(|[name, _password, uid, gid, _gecos, home, _shell]| {
        Some(PasswdEntry {
            name,
            uid: Uid(strict_id(uid)?),
            gid: Gid(strict_id(gid)?),
            home,
        })
    })
}

/// The well-formed entries of a group file, in file order.
pub fn group_entries(data: &[u8]) -> impl Iterator<Item = GroupEntry<'_>> {
    records::<4>(data).filter_map(|[name, _password, gid, members]| {
        Some(GroupEntry {
            name,
            gid: Gid(strict_id(gid)?),
            members,
        })
    })
}

fn strict_id(field: &[u8]) -> Option<u32> {
    match parse_id(field) {
        IdText::Id(id) => Some(id),
        IdText::OutOfRange | IdText::NotAnId => None,
    }
}

/// Lines with exactly `N` colon-separated fields, a non-empty first field and no NUL byte.
fn records<const N: usize>(data: &[u8]) -> impl Iterator<Item = [&[u8]; N]> {
    data.split(|&b| b == b'\n').filter_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line[0] == b'#' || line.contains(&0) {
            return None;
        }
        let mut fields = [&b""[..]; N];
        let mut parts = line.split(|&b| b == b':');
        for field in &mut fields {
            *field = parts.next()?;
        }
        if parts.next().is_some() || fields[0].is_empty() {
            return None;
        }
        Some(fields)
    })
}

/// Why a database file could not be used.
#[derive(Debug)]
pub enum DatabaseError {
    Open(io::Error),
    NotRegularFile,
    TooLarge,
    Read(io::Error),
}

impl std::fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseError::Open(e) => write!(f, "cannot open: {}", errno_text(e)),
            DatabaseError::NotRegularFile => f.write_str("not a regular file"),
            DatabaseError::TooLarge => write!(f, "larger than {} bytes", MAX_DATABASE_BYTES),
            DatabaseError::Read(e) => write!(f, "cannot read: {}", errno_text(e)),
        }
    }
}

/// The errno text of an I/O error, without Rust's "(os error N)" suffix.
fn errno_text(error: &io::Error) -> String {
    match error.raw_os_error() {
        Some(code) => crate::sys::Errno::from_raw(code).desc().to_string(),
        None => error.to_string(),
    }
}

/// Reads a database file. A missing file is an empty database (numeric specs still work,
/// names fail). A FIFO, device or directory is refused without blocking on it, and so is a
/// file larger than [`MAX_DATABASE_BYTES`] (checked while reading too, in case it grows).
pub fn read_database(path: &Path) -> Result<Vec<u8>, DatabaseError> {
    let file = match File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(DatabaseError::Open(e)),
    };
    let metadata = file.metadata().map_err(DatabaseError::Read)?;
    let file_type = metadata.file_type();
    if !file_type.is_file() || file_type.is_fifo() {
        return Err(DatabaseError::NotRegularFile);
    }
    if metadata.len() > MAX_DATABASE_BYTES {
        return Err(DatabaseError::TooLarge);
    }
    let mut data = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(MAX_DATABASE_BYTES + 1)
        .read_to_end(&mut data)
        .map_err(DatabaseError::Read)?;
    if data.len() as u64 > MAX_DATABASE_BYTES {
        return Err(DatabaseError::TooLarge);
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_lines_are_entries() {
        let data = b"root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n";
        let entries: Vec<_> = passwd_entries(data).collect();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[1],
            PasswdEntry {
                name: b"alice",
                uid: Uid(1000),
                gid: Gid(1000),
                home: b"/home/alice"
            }
        );
    }

    #[test]
    fn malformed_lines_are_skipped_never_root() {
        let data = b"# a comment line\n\ngarbage\nmallory:x:abc:def:::\nshort:x:7\nlong:x:1:1:::/bin/sh:extra\n\
            :x:0:0:::\nplus:x:+0:0:::\nneg:x:-1:0:::\nbig:x:4294967296:0:::\nspace:x: 0:0:::\nok:x:5:6:::\n";
        let entries: Vec<_> = passwd_entries(data).collect();
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0].name, b"ok");
    }

    #[test]
    fn a_nul_byte_makes_a_line_malformed() {
        // It once unset HOME: the field reached the environment cut at the NUL.
        let data = b"alice:x:1000:1000::/home/alice\0/evil:/bin/sh\nbob:x:1001:1001::/b:\n\
            g\0:x:1002:1002::/g:\n";
        let names: Vec<_> = passwd_entries(data).map(|entry| entry.name).collect();
        assert_eq!(names, [&b"bob"[..]]);
        let groups = b"audio:x:29:alice\0,bob\nvideo:x:44:bob\n";
        let names: Vec<_> = group_entries(groups).map(|entry| entry.name).collect();
        assert_eq!(names, [&b"video"[..]]);
    }

    #[test]
    fn crlf_is_tolerated_and_long_lines_work() {
        let gecos = "g".repeat(200_000);
        let data =
            format!("alice:x:1000:1000:{gecos}:/home/alice:/bin/sh\r\nbob:x:1001:1001::/b:\r\n");
        let entries: Vec<_> = passwd_entries(data.as_bytes()).collect();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].home, b"/home/alice");
        assert_eq!(entries[1].home, b"/b");
    }

    #[test]
    fn group_members_split_on_commas() {
        let data = b"audio:x:29:alice,games\r\nempty:x:30:\nbad:x:x:alice\n#c:x:1:alice\nfour:x:31:alice::\n";
        let entries: Vec<_> = group_entries(data).collect();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0].members().collect::<Vec<_>>(),
            vec![&b"alice"[..], b"games"]
        );
        assert_eq!(entries[1].members().count(), 0);
    }

    #[test]
    fn missing_file_is_an_empty_database() {
        let data = read_database(Path::new("/nonexistent/sudrop/passwd")).expect("missing is fine");
        assert!(data.is_empty());
    }

    #[test]
    fn devices_directories_and_fifos_are_refused() {
        for path in ["/dev/zero", "/dev/null", "/"] {
            assert!(
                matches!(
                    read_database(Path::new(path)),
                    Err(DatabaseError::NotRegularFile)
                ),
                "{path}"
            );
        }
    }
}
