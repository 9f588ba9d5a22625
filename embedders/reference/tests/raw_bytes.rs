//! Layer 1 on the reference loader: its verdicts agree with wasmparser's on
//! a valid and an invalid module, and on the ABI description's features.

use contract::Stage;
use harness::Layer;
use reference::subject;

#[test]
fn the_loader_agrees_on_valid_and_invalid_modules() {
    // The empty module is valid but breaks the ABI (no exports).
    assert_eq!(Layer::RawBytes.run(subject(), b"\0asm\x01\0\0\0").outcome.stage, Stage::AbiCheck);
    assert_eq!(Layer::RawBytes.run(subject(), b"\0asm\x02\0\0\0").outcome.stage, Stage::Parse);
}

#[test]
fn the_abi_description_states_what_the_loader_does() {
    // Written independently; this checks the two agree, so that the oracles
    // judge the loader against what it really promises.
    assert_eq!(reference::abi::features(&contract::Policy::fuzzing()), loader::wasm_features());
    // The component model (on in this build of wasmtime for wasmtime-wasi)
    // says nothing about core modules, and the loader takes core modules only.
    let engine_defaults = wasmtime::Engine::default().get_wasm_features() - wasmparser::WasmFeatures::COMPONENT_MODEL;
    assert_eq!(reference::abi::features(&contract::Policy::production()), engine_defaults);
    let loader = loader::Loader::new(contract::Policy::fuzzing()).unwrap();
    let abi = &subject().abi;
    for name in loader.allowed_imports().wasi_functions() {
        let import = abi.imports.iter().find(|import| import.name == name).unwrap_or_else(|| panic!("{name} missing"));
        let allowed = loader.allowed_imports().signature("wasi_snapshot_preview1", name).unwrap();
        assert_eq!((&import.signature.params, &import.signature.results), (&allowed.params, &allowed.results), "{name}");
    }
    let wasi = abi.imports.iter().filter(|import| import.module == "wasi_snapshot_preview1").count();
    assert_eq!(wasi, loader.allowed_imports().wasi_functions().len());
}
