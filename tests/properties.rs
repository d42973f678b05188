//! Properties of the pure parts: nothing panics, and malformed input never yields uid 0.

use proptest::prelude::*;
use sudrop::id::{Gid, MAX_ID, Uid};
use sudrop::resolve::{Caller, resolve};
use sudrop::spec::{self, Part};
use sudrop::userdb::{group_entries, lines, passwd_entries};

/// Lines that are often almost right: fields from a small alphabet of ids, names and junk.
fn database_line(fields: usize) -> impl Strategy<Value = String> {
    let field = prop_oneof![
        Just(String::new()),
        Just("0".to_string()),
        Just("00".to_string()),
        Just("1000".to_string()),
        Just("4294967295".to_string()),
        Just("99999999999999999999".to_string()),
        Just("+0".to_string()),
        Just("-0".to_string()),
        Just(" 0".to_string()),
        Just("root".to_string()),
        Just("#root".to_string()),
        "[a-z0-9#+ \r-]{0,6}",
    ];
    prop::collection::vec(field, 1..fields + 3).prop_map(|fields| fields.join(":"))
}

fn database(fields: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(database_line(fields), 0..12).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(data in prop::collection::vec(any::<u8>(), 0..2000)) {
        for entry in passwd_entries(&data) {
            prop_assert!(!entry.name.is_empty());
            prop_assert!(!entry.name.contains(&b':') && !entry.name.contains(&b'\n'));
        }
        for entry in group_entries(&data) {
            prop_assert!(!entry.name.is_empty());
            prop_assert!(entry.members().all(|m| !m.is_empty() && !m.contains(&b',')));
        }
        let _ = spec::parse(&data);
    }

    /// A look-up parses only the lines its wanted name or id could be: that is sound only if
    /// every line holding an entry could be taken for that entry's own name and uid, and
    /// every group line mentions each member it lists.
    #[test]
    fn every_entry_is_a_line_its_name_and_id_could_be(passwd in database(7), group in database(4), junk in prop::collection::vec(any::<u8>(), 0..300)) {
        for data in [passwd.as_bytes(), &junk] {
            for line in lines(data) {
                if let Some(entry) = line.passwd_entry() {
                    prop_assert!(line.could_be_named(entry.name));
                    prop_assert!(line.could_have_id(2, entry.uid.0));
                }
            }
        }
        for data in [group.as_bytes(), &junk] {
            for line in lines(data) {
                if let Some(entry) = line.group_entry() {
                    prop_assert!(line.could_be_named(entry.name));
                    for member in entry.members() {
                        prop_assert!(line.mentions(member));
                    }
                }
            }
        }
    }

    /// uid 0 only ever comes from a well-formed line whose uid field is written with zeros.
    #[test]
    fn uid_zero_only_from_a_literal_zero_field(data in database(7)) {
        for entry in passwd_entries(data.as_bytes()) {
            if entry.uid == Uid(0) {
                let from_zero_line = data.lines().any(|line| {
                    // Leading white space is skipped, as glibc skips it.
                    let line = line.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
                    let fields: Vec<&str> = line.trim_end_matches('\r').split(':').collect();
                    fields.len() == 7 && fields[0].as_bytes() == entry.name
                        && !fields[2].is_empty() && fields[2].bytes().all(|b| b == b'0')
                });
                prop_assert!(from_zero_line, "uid 0 for {:?}", String::from_utf8_lossy(entry.name));
            }
        }
    }

    #[test]
    fn digit_parts_are_always_ids_in_range(text in "[0-9]{1,25}(:[0-9]{0,25})?") {
        match spec::parse(text.as_bytes()) {
            Ok(parsed) => {
                prop_assert!(matches!(parsed.user, Some(Part::Id(id)) if id <= MAX_ID));
                prop_assert!(!matches!(parsed.group, Some(Part::Name(_))));
            }
            Err(_) => {
                let too_big = text.split(':').any(|part| !part.is_empty() && part.parse::<u128>().map_or(true, |n| n > u128::from(MAX_ID)));
                prop_assert!(too_big, "{text} refused without an out-of-range part");
            }
        }
    }

    /// With no well-formed root line in the database and a non-root caller, only the spec
    /// `0` (or `0:…`) can give uid 0, and only a group part `0` or a group line can give gid 0.
    #[test]
    fn hostile_databases_never_resolve_to_root(passwd in database(7), group in database(4), user_spec in "[a-z0-9#:+ -]{0,8}") {
        let passwd: String = passwd.lines()
            .filter(|line| line.split(':').nth(2).is_none_or(|uid| uid.is_empty() || !uid.bytes().all(|b| b == b'0')))
            .collect::<Vec<_>>().join("\n");
        let caller = Caller { uid: Uid(1000), gid: Gid(1000) };
        let Ok(parsed) = spec::parse(user_spec.as_bytes()) else { return Ok(()) };
        if let Ok(target) = resolve(&parsed, caller, passwd.as_bytes(), group.as_bytes())
            && target.uid == Uid(0)
        {
            prop_assert_eq!(parsed.user, Some(Part::Id(0)));
        }
    }
}
