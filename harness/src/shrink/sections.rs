//! A module's section framing: the 8-byte header, then sections of an id, a
//! LEB128 size and that many bytes of payload.

/// One section of an encoded module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section<'a> {
    /// The section id.
    pub id: u8,
    /// Its payload, after the size.
    pub payload: &'a [u8],
    /// The whole section as encoded: id, size and payload.
    pub encoded: &'a [u8],
}

/// Splits a module into its 8-byte header and its sections, or `None` if the
/// section framing does not decode.
pub fn split(module: &[u8]) -> Option<(&[u8], Vec<Section<'_>>)> {
    let (header, mut rest) = module.split_at_checked(8)?;
    let mut sections = Vec::new();
    while let Some((&id, after_id)) = rest.split_first() {
        let (size, leb_len) = read_u32_leb(after_id)?;
        let payload_start = 1 + leb_len;
        let end = payload_start.checked_add(usize::try_from(size).ok()?)?;
        let encoded = rest.get(..end)?;
        sections.push(Section { id, payload: encoded.get(payload_start..)?, encoded });
        rest = rest.get(end..)?;
    }
    Some((header, sections))
}

/// An unsigned LEB128 `u32` at the start of `bytes` (at most 5 bytes, no
/// bits past 32), and how many bytes it takes.
pub fn read_u32_leb(bytes: &[u8]) -> Option<(u32, usize)> {
    let mut value = 0u32;
    for (index, byte) in bytes.iter().take(5).enumerate() {
        let bits = u32::from(byte & 0x7f);
        let shift = 7 * index as u32;
        if shift == 28 && bits > 0x0f {
            return None;
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            return Some((value, index + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_split_where_their_sizes_say() {
        let module = wat::parse_str(r#"(module (memory 1) (func) (data (i32.const 0) "hello"))"#).unwrap();
        let (header, sections) = split(&module).unwrap();
        assert_eq!(header, b"\0asm\x01\0\0\0");
        assert_eq!(sections.iter().map(|section| section.id).collect::<Vec<_>>(), [1, 3, 5, 10, 11]);
        let encoded: Vec<u8> = sections.iter().flat_map(|section| section.encoded.iter().copied()).collect();
        assert_eq!([header, &encoded].concat(), module);
        assert!(sections[4].payload.ends_with(b"hello"));
        let mut lying = module.clone();
        lying[9] = 0x7f;
        assert!(split(&lying).is_none());
    }

    #[test]
    fn leb128_reads_at_most_five_bytes_and_32_bits() {
        assert_eq!(read_u32_leb(&[0xe5, 0x8e, 0x26]), Some((624_485, 3)));
        assert_eq!(read_u32_leb(&[0xff, 0xff, 0xff, 0xff, 0x0f]), Some((u32::MAX, 5)));
        assert_eq!(read_u32_leb(&[0xff, 0xff, 0xff, 0xff, 0x1f]), None);
        assert_eq!(read_u32_leb(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), None);
        assert_eq!(read_u32_leb(&[]), None);
    }
}
