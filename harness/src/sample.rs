//! Deterministic pseudo-random fuzz inputs (xorshift64), for tests that
//! need many varied inputs of a layer without running a fuzzer.

/// `count` inputs of 64 to 2,063 bytes each, drawn from `seed`: the same
/// seed always gives the same inputs.
pub fn inputs(count: usize, seed: u64) -> impl Iterator<Item = Vec<u8>> {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count).map(move |_| {
        let len = 64 + (next() % 2000) as usize;
        (0..len).map(|_| next() as u8).collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_same_seed_gives_the_same_varied_inputs() {
        let first: Vec<Vec<u8>> = super::inputs(20, 7).collect();
        assert_eq!(first, super::inputs(20, 7).collect::<Vec<_>>());
        assert_ne!(first, super::inputs(20, 8).collect::<Vec<_>>());
        assert!(first.iter().all(|input| (64..2064).contains(&input.len())));
        assert!(first.windows(2).any(|pair| pair[0].len() != pair[1].len()));
    }
}
