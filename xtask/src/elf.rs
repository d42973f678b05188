//! Just enough of an ELF file's headers for the release checks: its machine, whether it asks
//! for an interpreter (not static), and one section's bytes. 32- and 64-bit, little-endian
//! (every architecture released today).

/// Where the fields of the ELF header and of a section header are, by class.
struct Layout {
    /// The size of an address or offset field: 4 or 8.
    word: usize,
    program_table: usize,
    section_table: usize,
    program_entry_size: usize,
    section_entry_size: usize,
    section_names: usize,
    /// In a section header: where sh_offset and sh_size are.
    section_offset: usize,
    section_size: usize,
}

const ELF32: Layout = Layout {
    word: 4,
    program_table: 0x1c,
    section_table: 0x20,
    program_entry_size: 0x2a,
    section_entry_size: 0x2e,
    section_names: 0x32,
    section_offset: 16,
    section_size: 20,
};

const ELF64: Layout = Layout {
    word: 8,
    program_table: 0x20,
    section_table: 0x28,
    program_entry_size: 0x36,
    section_entry_size: 0x3a,
    section_names: 0x3e,
    section_offset: 24,
    section_size: 32,
};

pub struct Elf<'a> {
    bytes: &'a [u8],
    layout: &'static Layout,
}

impl<'a> Elf<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Elf<'a>, String> {
        let layout = match bytes.get(..6) {
            Some(b"\x7fELF\x01\x01") => &ELF32,
            Some(b"\x7fELF\x02\x01") => &ELF64,
            _ => return Err("not a little-endian ELF file".into()),
        };
        Ok(Elf { bytes, layout })
    }

    fn u16_at(&self, at: usize) -> Option<usize> {
        let bytes = self.bytes.get(at..at + 2)?;
        Some(usize::from(u16::from_le_bytes([bytes[0], bytes[1]])))
    }

    fn u32_at(&self, at: usize) -> Option<usize> {
        let bytes = self.bytes.get(at..at + 4)?.try_into().ok()?;
        usize::try_from(u32::from_le_bytes(bytes)).ok()
    }

    /// An address-sized field.
    fn word_at(&self, at: usize) -> Option<usize> {
        if self.layout.word == 4 {
            return self.u32_at(at);
        }
        let bytes = self.bytes.get(at..at + 8)?.try_into().ok()?;
        usize::try_from(u64::from_le_bytes(bytes)).ok()
    }

    /// `e_machine`: 62 for x86_64, 183 for aarch64, 3 for i386.
    pub fn machine(&self) -> Option<u16> {
        self.u16_at(18)
            .and_then(|machine| u16::try_from(machine).ok())
    }

    /// Whether a program header asks for an interpreter (`PT_INTERP`): a dynamic binary.
    pub fn has_interpreter(&self) -> Result<bool, String> {
        const PT_INTERP: usize = 3;
        let truncated = || "truncated ELF file".to_string();
        let layout = self.layout;
        let table = self.word_at(layout.program_table).ok_or_else(truncated)?;
        let entry = self
            .u16_at(layout.program_entry_size)
            .ok_or_else(truncated)?;
        let count = self
            .u16_at(layout.program_entry_size + 2)
            .ok_or_else(truncated)?;
        for index in 0..count {
            if self.u32_at(table + index * entry).ok_or_else(truncated)? == PT_INTERP {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The bytes of section `name`.
    pub fn section(&self, name: &str) -> Option<&'a [u8]> {
        let layout = self.layout;
        let table = self.word_at(layout.section_table)?;
        let entry = self.u16_at(layout.section_entry_size)?;
        let count = self.u16_at(layout.section_entry_size + 2)?;
        let names_header = table + entry * self.u16_at(layout.section_names)?;
        let names = self
            .bytes
            .get(self.word_at(names_header + layout.section_offset)?..)?;
        (0..count).find_map(|index| {
            let header = table + entry * index;
            let start = self.u32_at(header)?;
            let end = start + names.get(start..)?.iter().position(|&b| b == 0)?;
            if names.get(start..end)? != name.as_bytes() {
                return None;
            }
            let offset = self.word_at(header + layout.section_offset)?;
            self.bytes
                .get(offset..offset + self.word_at(header + layout.section_size)?)
        })
    }
}
