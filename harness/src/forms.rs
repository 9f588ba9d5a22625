//! The forms a target's input can take: the fuzz input libFuzzer feeds it,
//! and the structured form a layer builds from it (a module, a command list),
//! which `harness repro --input-kind` replays on its own and triage
//! minimizes at the structure level.

/// What a replayed file holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InputKind {
    /// The bytes libFuzzer feeds the target (its artifacts and corpus files).
    #[default]
    Fuzz,
    /// A Wasm module binary, run through the layer's checks that hold for any module.
    Module,
    /// A host_calls command list in the interpreter's request encoding.
    Commands,
}

impl InputKind {
    /// Every kind, in the order `--help` lists them.
    pub const ALL: [InputKind; 3] = [InputKind::Fuzz, InputKind::Module, InputKind::Commands];

    /// The kind called `name` ([`InputKind::name`]), if there is one.
    pub fn from_name(name: &str) -> Option<InputKind> {
        InputKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The name used by `--input-kind` and in `finding.json`.
    pub fn name(self) -> &'static str {
        match self {
            InputKind::Fuzz => "fuzz",
            InputKind::Module => "module",
            InputKind::Commands => "commands",
        }
    }
}

/// The module form's check: the file starts with the Wasm magic and version 1.
/// What follows may be malformed: a finding's module may be.
pub fn check_module(file: &[u8]) -> Result<(), String> {
    const HEADER: &[u8] = b"\0asm\x01\0\0\0";
    if file.starts_with(HEADER) { Ok(()) } else { Err("not a Wasm module: it does not start with the header `\\0asm` version 1".to_owned()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_needs_the_wasm_header_only() {
        assert!(check_module(b"\0asm\x01\0\0\0").is_ok());
        assert!(check_module(b"\0asm\x01\0\0\0\x7f garbage").is_ok());
        let error = check_module(b"\0asm\x02\0\0\0").unwrap_err();
        assert!(error.contains("not a Wasm module"), "{error}");
        assert!(check_module(b"").is_err());
    }

    #[test]
    fn kinds_are_found_by_their_names() {
        for kind in InputKind::ALL {
            assert_eq!(InputKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(InputKind::from_name("wasm"), None);
    }
}
