#![allow(dead_code)] // Shared by every target; each uses a part of it.
//! A second, deliberately plain reading of the database format, line by line, that the fuzz
//! targets hold sudrop's parser to: leading white space (C's `isspace`) is skipped as glibc
//! skips it, and a line is an entry only if it has exactly `fields` colon-separated fields, a
//! non-empty name, no NUL byte, and decimal ids up to 4294967294.

/// Every line of `data`, without its trailing CR and its leading white space.
fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split(|&b| b == b'\n').map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let start = line
            .iter()
            .position(|b| !b" \t\n\x0b\x0c\r".contains(b))
            .unwrap_or(line.len());
        &line[start..]
    })
}

/// The well-formed records of `data`, as their fields.
pub fn records(data: &[u8], fields: usize) -> Vec<Vec<&[u8]>> {
    let mut found = Vec::new();
    for line in lines(data) {
        if line.is_empty() || line[0] == b'#' || line.contains(&0) {
            continue;
        }
        let parts: Vec<&[u8]> = line.split(|&b| b == b':').collect();
        if parts.len() == fields && !parts[0].is_empty() {
            found.push(parts);
        }
    }
    found
}

/// A field as a strict id: digits only, at most 4294967294.
pub fn id(field: &[u8]) -> Option<u32> {
    if field.is_empty() || !field.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut value: u64 = 0;
    for digit in field {
        value = value * 10 + u64::from(digit - b'0');
        if value > 4_294_967_294 {
            return None;
        }
    }
    u32::try_from(value).ok()
}

/// The first well-formed passwd line named `name`: its uid.
pub fn uid_of(passwd: &[u8], name: &[u8]) -> Option<u32> {
    records(passwd, 7)
        .into_iter()
        .filter(|fields| id(fields[2]).is_some() && id(fields[3]).is_some())
        .find(|fields| fields[0] == name)
        .and_then(|fields| id(fields[2]))
}

/// Whether a line's first field could be read as `name` by some reader: as written, cut at a
/// NUL byte, or with white space trimmed.
pub fn could_be_named(line_name: &[u8], name: &[u8]) -> bool {
    let cut = line_name.split(|&b| b == 0).next().unwrap_or_default();
    let trimmed = std::str::from_utf8(line_name).map(str::trim).ok();
    line_name == name || cut == name || trimmed.is_some_and(|t| t.as_bytes() == name)
}

/// The name fields of the lines before the first well-formed line whose name is `name` (all
/// lines if there is none); `fields` as for [`records`].
pub fn names_before_match<'a>(data: &'a [u8], fields: usize, name: &[u8]) -> Vec<&'a [u8]> {
    let mut before = Vec::new();
    for line in lines(data) {
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        let well_formed = records(line, fields).into_iter().next();
        // passwd has a uid and a gid, group a gid.
        let id_fields = if fields == 7 { 2..4 } else { 2..3 };
        let ids_ok = well_formed
            .as_ref()
            .is_some_and(|f| f[id_fields].iter().all(|field| id(field).is_some()));
        let first = line.split(|&b| b == b':').next().unwrap_or_default();
        if ids_ok && first == name {
            break;
        }
        before.push(first);
    }
    before
}
