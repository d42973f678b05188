//! `/etc/passwd` and `/etc/group`, parsed by sudrop itself.
//!
//! libc's NSS does not work from a static binary, and gosu's parser turns malformed lines into
//! uid 0. Lines are read as glibc reads them: leading white space is skipped, and what is then
//! empty or starts with `#` is a comment. A line is an entry only if it is exactly
//! well-formed: the right number of fields, a non-empty name, and ids that [`parse_id`]
//! accepts. A line holding a NUL byte is malformed too: C would read the field as ending there
//! (a home of `/home/a\0x` would become `/home/a`, and an exec'd environment cannot carry it at
//! all). A trailing CR is tolerated; lines may be of any length.
//!
//! A malformed line is never an entry, but it is not simply skipped either: the resolution
//! asks [`Line::could_be_named`] and [`Line::could_have_id`] of every line before its match,
//! and refuses when a line that another reader (glibc, gosu) could take for the match is one
//! sudrop cannot read. A later line must never win over it.

use crate::id::{Gid, IdText, Uid, parse_id};
use std::io::{self, Read};
use std::os::unix::fs::FileTypeExt;
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

/// One line of a database that is not blank and not a comment, with its 1-based number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line<'a> {
    pub number: usize,
    /// The line without its leading white space and trailing CR.
    text: &'a [u8],
}

impl<'a> Line<'a> {
    /// The line's entry, if it is a well-formed passwd line.
    pub fn passwd_entry(&self) -> Option<PasswdEntry<'a>> {
        let [name, _password, uid, gid, _gecos, home, _shell] = fields(self.text)?;
        Some(PasswdEntry {
            name,
            uid: Uid(strict_id(uid)?),
            gid: Gid(strict_id(gid)?),
            home,
        })
    }

    /// The line's entry, if it is a well-formed group line.
    pub fn group_entry(&self) -> Option<GroupEntry<'a>> {
        let [name, _password, gid, members] = fields(self.text)?;
        Some(GroupEntry {
            name,
            gid: Gid(strict_id(gid)?),
            members,
        })
    }

    /// Whether `bytes` occur anywhere in the line: a line without a user's name cannot list
    /// that user as a member, trimmed or not.
    pub fn mentions(&self, bytes: &[u8]) -> bool {
        let Some((&first, rest)) = bytes.split_first() else {
            return true;
        };
        self.text
            .iter()
            .enumerate()
            .any(|(at, &byte)| byte == first && self.text[at + 1..].starts_with(rest))
    }

    /// Whether some reader could take this line's name for `name`: as written, cut at a NUL
    /// byte (as C reads it), or with white space trimmed from either end (as gosu trims a
    /// line, Unicode white space included).
    pub fn could_be_named(&self, name: &[u8]) -> bool {
        let field = self.field(0).unwrap_or_default();
        // Both other readings are only ever shorter than the field: most lines are done here.
        if field.len() <= name.len() {
            return field == name;
        }
        cut_at_nul(field) == name || trim_any_space(field) == name
    }

    /// Whether some reader could take field `index` of this line for `id`: with white space
    /// around it, a `+` sign, leading zeros, or cut at a NUL byte (glibc's `strtoul`, Go's
    /// `Atoi`).
    pub fn could_have_id(&self, index: usize, id: u32) -> bool {
        let Some(field) = self.field(index) else {
            return false;
        };
        let field = trim_any_space(cut_at_nul(field));
        let digits = field.strip_prefix(b"+").unwrap_or(field);
        parse_id(digits) == IdText::Id(id)
    }

    fn field(&self, index: usize) -> Option<&[u8]> {
        self.text.split(|&b| b == b':').nth(index)
    }
}

fn cut_at_nul(field: &[u8]) -> &[u8] {
    field.split(|&b| b == 0).next().unwrap_or_default()
}

/// `bytes` without the white space at either end, ASCII or Unicode (what Go's
/// `bytes.TrimSpace` removes: NEL, NO-BREAK SPACE, the Zs spaces, LINE and PARAGRAPH
/// SEPARATOR).
pub fn trim_any_space(mut bytes: &[u8]) -> &[u8] {
    const UNICODE_SPACES: &[&str] = &[
        "\u{85}", "\u{a0}", "\u{1680}", "\u{2000}", "\u{2001}", "\u{2002}", "\u{2003}", "\u{2004}",
        "\u{2005}", "\u{2006}", "\u{2007}", "\u{2008}", "\u{2009}", "\u{200a}", "\u{2028}",
        "\u{2029}", "\u{202f}", "\u{205f}", "\u{3000}",
    ];
    // Every space begins with a C space or a byte of 0x80 or above, and ends with one: a
    // field that starts and ends with neither (nearly every field) has nothing to trim.
    let edge = |byte: &u8| is_c_space(*byte) || *byte >= 0x80;
    if !bytes.first().is_some_and(edge) && !bytes.last().is_some_and(edge) {
        return bytes;
    }
    loop {
        let before = bytes.len();
        bytes = skip_c_space(bytes);
        while let [rest @ .., last] = bytes
            && is_c_space(*last)
        {
            bytes = rest;
        }
        for space in UNICODE_SPACES.iter().map(|space| space.as_bytes()) {
            bytes = bytes.strip_prefix(space).unwrap_or(bytes);
            bytes = bytes.strip_suffix(space).unwrap_or(bytes);
        }
        if bytes.len() == before {
            return bytes;
        }
    }
}

/// C's `isspace` in the C locale, which glibc's line reader skips (Rust's
/// `is_ascii_whitespace` leaves out the vertical tab).
fn is_c_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// `bytes` without its leading C white space.
fn skip_c_space(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| !is_c_space(b))
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// The lines of a database that are not blank or comments (after leading white space, as
/// glibc skips it). A line is parsed into an entry only when asked
/// ([`Line::passwd_entry`], [`Line::group_entry`]): a look-up parses the lines that could be
/// its match, not every line before it.
pub fn lines(data: &[u8]) -> impl Iterator<Item = Line<'_>> {
    data.split(|&b| b == b'\n')
        .enumerate()
        .filter_map(|(index, line)| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let text = skip_c_space(line);
            if text.is_empty() || text[0] == b'#' {
                return None;
            }
            Some(Line {
                number: index + 1,
                text,
            })
        })
}

/// The well-formed entries of a passwd file, in file order.
pub fn passwd_entries(data: &[u8]) -> impl Iterator<Item = PasswdEntry<'_>> {
    lines(data).filter_map(|line| line.passwd_entry())
}

/// The well-formed entries of a group file, in file order.
pub fn group_entries(data: &[u8]) -> impl Iterator<Item = GroupEntry<'_>> {
    lines(data).filter_map(|line| line.group_entry())
}

fn strict_id(field: &[u8]) -> Option<u32> {
    match parse_id(field) {
        IdText::Id(id) => Some(id),
        IdText::OutOfRange | IdText::NotAnId => None,
    }
}

/// A line's fields, when it has exactly `N` colon-separated ones, a non-empty first field
/// and no NUL byte.
fn fields<const N: usize>(text: &[u8]) -> Option<[&[u8]; N]> {
    if text.contains(&0) {
        return None;
    }
    let mut fields = [&b""[..]; N];
    let mut parts = text.split(|&b| b == b':');
    for field in &mut fields {
        *field = parts.next()?;
    }
    if parts.next().is_some() || fields[0].is_empty() {
        return None;
    }
    Some(fields)
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
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => error.to_string(),
    }
}

/// Reads a database file. A missing file is an empty database (numeric specs still work,
/// names fail). A FIFO, device or directory is refused without blocking on it, and so is a
/// file larger than [`MAX_DATABASE_BYTES`] (checked while reading too, in case it grows).
pub fn read_database(path: &Path) -> Result<Vec<u8>, DatabaseError> {
    let file = match crate::sys::io::open_for_reading(path, libc::O_NONBLOCK | libc::O_NOCTTY) {
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
    fn any_space_is_trimmed_from_either_end_and_nothing_else() {
        for space in [
            "\u{85}", "\u{a0}", "\u{1680}", "\u{2000}", "\u{202f}", "\u{3000}", " ", "\x0b",
        ] {
            let spaced = format!("{space}root{space}");
            assert_eq!(trim_any_space(spaced.as_bytes()), b"root", "{spaced:?}");
            let inside = format!("ro{space}ot");
            assert_eq!(trim_any_space(inside.as_bytes()), inside.as_bytes());
        }
        assert_eq!(trim_any_space("\u{a0} \u{3000}x\t\u{85}".as_bytes()), b"x");
        assert_eq!(trim_any_space("é".as_bytes()), "é".as_bytes());
        assert_eq!(trim_any_space(b""), b"");
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
