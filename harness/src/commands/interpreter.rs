//! An ABI's layer-4 interpreter: the generic command loop of
//! `interpreter.wat` with the ABI's fragments and the WASI functions it calls.

use super::api::HostApi;
use super::command::WASI_OP;
use super::wasi::{FUNCTIONS, Param};

/// The generic half, with `;;@` markers where the rest goes.
pub const TEMPLATE: &str = include_str!("interpreter.wat");

/// The interpreter's WAT for the ABI of `api`.
pub fn source(api: &dyn HostApi) -> String {
    let fragments = api.fragments();
    let (wasi_imports, wasi_arms) = if api.wasi() { (wasi_imports(), wasi_arms()) } else { (String::new(), String::new()) };
    TEMPLATE
        .replace(";;@imports\n", fragments.imports)
        .replace(";;@wasi-imports\n", &wasi_imports)
        .replace(";;@definitions\n", fragments.definitions)
        .replace(";;@wasi-arms\n", &wasi_arms)
        .replace(";;@entry\n", fragments.entry)
}

/// The interpreter's binary for the ABI of `api`.
pub fn module(api: &dyn HostApi) -> Result<Vec<u8>, String> {
    wat::parse_str(source(api)).map_err(|error| format!("the interpreter WAT does not compile: {error}"))
}

fn wasi_imports() -> String {
    FUNCTIONS
        .iter()
        .map(|function| {
            format!("  (import \"wasi_snapshot_preview1\" \"{0}\" (func ${0} (param{1}) (result i32)))\n", function.name, function.wat_params())
        })
        .collect()
}

/// One `if` per WASI function, behind a range check so that the ABI's own
/// ops skip them all.
fn wasi_arms() -> String {
    let mut arms = format!("    (if (i32.lt_u (i32.sub (local.get $op) (i32.const {WASI_OP})) (i32.const {})) (then\n", FUNCTIONS.len());
    for (index, function) in FUNCTIONS.iter().enumerate() {
        let args: String = function
            .params
            .iter()
            .enumerate()
            .map(|(arg, param)| {
                let getter = if matches!(param, Param::Wide | Param::Rights) { "$a64" } else { "$a" };
                format!(" (call {getter} (i32.const {arg}))")
            })
            .collect();
        let op = WASI_OP as usize + index;
        arms += &format!("      (if (i32.eq (local.get $op) (i32.const {op})) (then (drop (call ${}{args})) (return)))\n", function.name);
    }
    arms += "      (return)))\n";
    arms
}
