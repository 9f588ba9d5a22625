//! The checked-in seed modules are the compiled WAT sources beside them.
//! `UPDATE_SEEDS=1 cargo test --workspace --test seeds` rewrites them.

use std::path::Path;

#[test]
fn every_wat_seed_is_compiled_into_the_raw_bytes_corpus() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let update = std::env::var_os("UPDATE_SEEDS").is_some();
    let mut checked = 0;
    for entry in std::fs::read_dir(corpus.join("wat")).unwrap() {
        let source = entry.unwrap().path();
        if source.extension().is_none_or(|ext| ext != "wat") {
            continue;
        }
        let compiled = wat::parse_file(&source).unwrap_or_else(|error| panic!("{}: {error}", source.display()));
        let seed = corpus.join("raw_bytes").join(source.with_extension("wasm").file_name().unwrap());
        if update {
            std::fs::write(&seed, &compiled).unwrap();
        }
        let stored = std::fs::read(&seed).unwrap_or_default();
        assert!(stored == compiled, "{} is stale: run UPDATE_SEEDS=1 cargo test --workspace --test seeds", seed.display());
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} WAT seeds");
}
