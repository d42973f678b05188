//! A second, deliberately plain reading of the database format, line by line, that the fuzz
//! targets hold sudrop's parser to: a line is an entry only if it has exactly `fields`
//! colon-separated fields, a non-empty name, no NUL byte, and decimal ids up to 4294967294.

/// The well-formed records of `data`, as their fields.
pub fn records(data: &[u8], fields: usize) -> Vec<Vec<&[u8]>> {
    let mut found = Vec::new();
    for line in data.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
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
