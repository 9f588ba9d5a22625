//! Defects in the encoding itself: section order, section and body sizes,
//! LEB128 encodings. Applied to the bytes after re-encoding.

use super::catalog::{Defect, DefectKind};
use crate::shrink::sections::{Section, read_u32_leb, split};

/// The shortest unsigned LEB128 of `value`.
fn leb(value: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    wasm_encoder::Encode::encode(&value, &mut bytes);
    bytes
}

/// `value` in exactly `width` LEB128 bytes (padded with continuation bytes):
/// past 5 bytes no decoder of a u32 accepts it.
fn padded_leb(value: u32, width: usize) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..width).map(|index| ((u64::from(value) >> (7 * index).min(63)) as u8 & 0x7f) | 0x80).collect();
    if let Some(last) = bytes.last_mut() {
        *last &= 0x7f;
    }
    bytes
}

/// Applies a byte-level `defect` to `module`; `None` if it does not split into sections.
pub fn apply(module: &[u8], defect: &Defect) -> Option<Vec<u8>> {
    let (header, sections) = split(module)?;
    let count = u32::try_from(sections.len()).ok()?;
    let target = defect.pick(0, count) as usize;
    // Sizes lie in the first section (or body): nothing after the lie is
    // decoded or validated, so placing it later would only vary what comes
    // before, which is the valid modules' ground.
    let first_section = 0;
    let amount = (defect.picks[2] >> 8) % 1000;
    let mut out = header.to_vec();
    let mut push = |id: u8, size: &[u8], payload: &[u8]| {
        out.push(id);
        out.extend_from_slice(size);
        out.extend_from_slice(payload);
    };
    let honest = |section: &Section<'_>| leb(u32::try_from(section.payload.len()).unwrap_or(u32::MAX));
    match defect.kind {
        DefectKind::SectionOrder => {
            let mut reordered = sections.clone();
            let first = defect.pick(0, count.saturating_sub(1)) as usize;
            if first + 1 < reordered.len() {
                reordered.swap(first, first + 1);
            }
            for section in &reordered {
                push(section.id, &honest(section), section.payload);
            }
        }
        DefectKind::SectionDuplicated => {
            for (index, section) in sections.iter().enumerate() {
                push(section.id, &honest(section), section.payload);
                if index == target {
                    push(section.id, &honest(section), section.payload);
                }
            }
        }
        DefectKind::LyingSize if defect.pick(2, 2) == 1 => {
            for section in &sections {
                match section.id {
                    10 => {
                        let payload = lie_about_body(section.payload, defect)?;
                        push(section.id, &leb(u32::try_from(payload.len()).ok()?), &payload);
                    }
                    _ => push(section.id, &honest(section), section.payload),
                }
            }
        }
        DefectKind::LyingSize | DefectKind::OverlongLeb => {
            for (index, section) in sections.iter().enumerate() {
                if index != first_section {
                    push(section.id, &honest(section), section.payload);
                    continue;
                }
                let size = u32::try_from(section.payload.len()).ok()?;
                let encoded = if defect.kind == DefectKind::LyingSize {
                    leb(past_the_end(module.len(), amount))
                } else if defect.pick(1, 2) == 0 {
                    padded_leb(size, 6 + (amount % 5) as usize)
                } else {
                    // Five bytes, with bits set that a u32 cannot hold.
                    let mut bytes = padded_leb(size, 5);
                    bytes[4] |= 0x70;
                    bytes
                };
                push(section.id, &encoded, section.payload);
            }
        }
        _ => return Some(module.to_vec()),
    }
    Some(out)
}

/// A size that claims more than the `available` bytes: the decoder runs
/// off the end at once. (Smaller lies make it read the next bytes as
/// something else, which is layer 1's ground, not this layer's.)
fn past_the_end(available: usize, amount: u32) -> u32 {
    let available = u32::try_from(available).unwrap_or(u32::MAX);
    if amount.is_multiple_of(2) { available.saturating_add(1 + amount % 16) } else { u32::MAX - amount }.max(available.saturating_add(1))
}

/// The code section's payload with the first function body's size past its end.
fn lie_about_body(payload: &[u8], defect: &Defect) -> Option<Vec<u8>> {
    let (count, count_len) = read_u32_leb(payload)?;
    let mut rest = payload.get(count_len..)?;
    let mut out = leb(count);
    for index in 0..count {
        let (size, size_len) = read_u32_leb(rest)?;
        let (body, after) = rest.get(size_len..)?.split_at_checked(usize::try_from(size).ok()?)?;
        let told = if index == 0 { past_the_end(payload.len(), (defect.picks[2] >> 8) % 1000) } else { size };
        out.extend_from_slice(&leb(told));
        out.extend_from_slice(body);
        rest = after;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_lebs_keep_their_value_and_width() {
        assert_eq!(padded_leb(3, 6), [0x83, 0x80, 0x80, 0x80, 0x80, 0x00]);
        assert_eq!(read_u32_leb(&padded_leb(300, 5)), Some((300, 5)));
        assert_eq!(leb(300), [0xac, 0x02]);
    }

    #[test]
    fn lies_point_past_the_end() {
        for available in [0, 1, 5, 200] {
            for amount in 0..60 {
                assert!(past_the_end(available, amount) as usize > available);
            }
        }
    }
}
