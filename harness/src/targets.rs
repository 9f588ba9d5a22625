//! The registry of fuzz targets: one per layer, plus `selftest`, each with
//! the structured form of its input, if it has one.

use crate::forms::{self, Form, InputKind};
use crate::report::Report;

/// A fuzz target: a layer function and what it is for.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The name used by cargo-fuzz, the corpus folders and the CLI.
    pub name: &'static str,
    /// One line on what the target exercises.
    pub about: &'static str,
    /// The layer function; the fuzz target and `repro` both call it.
    pub run: fn(&[u8]) -> Report,
    /// Whether `harness campaign` fuzzes it when no targets are named.
    pub in_default_campaign: bool,
    /// The structured form the layer builds from a fuzz input, if any:
    /// `repro --input-kind` replays it and triage minimizes in it.
    pub structured: Option<Form>,
    /// libFuzzer flags campaigns pass before the user's own (which win).
    pub libfuzzer_defaults: &'static [&'static str],
}

impl Target {
    /// The form `kind` of this target's input, or which kinds it has.
    pub fn form(&self, kind: InputKind) -> Result<Form, String> {
        if kind == InputKind::Fuzz {
            return Ok(forms::fuzz(self.run));
        }
        match self.structured {
            Some(form) if form.kind == kind => Ok(form),
            Some(form) => Err(format!("target `{}` has no `{}` input; its inputs are fuzz and {}", self.name, kind.name(), form.kind.name())),
            None => Err(format!("target `{}` has no `{}` input; its only input is fuzz", self.name, kind.name())),
        }
    }
}

/// Every target, in layer order.
pub const TARGETS: &[Target] = &[
    Target {
        name: "raw_bytes",
        about: "layer 1: the input is the module; tests the size check, parser and validator",
        run: crate::raw_bytes::run,
        in_default_campaign: true,
        structured: Some(Form { kind: InputKind::Module, derive: <[u8]>::to_vec, check: forms::check_module, run: crate::raw_bytes::run, reduce: None }),
        libfuzzer_defaults: &[],
    },
    Target {
        name: "invalid_module",
        about: "layer 2: wasm-smith modules with catalogued defects; tests validation and the ABI check",
        run: crate::invalid_module::run,
        in_default_campaign: true,
        structured: Some(Form {
            kind: InputKind::Module,
            derive: crate::invalid_module::module_of,
            check: forms::check_module,
            run: crate::invalid_module::run_module,
            reduce: Some(crate::invalid_module::shrink_before_defects),
        }),
        libfuzzer_defaults: &[],
    },
    Target {
        name: "memory_probe",
        about: "layer 3: well-formed modules probing memory bounds; tests execution, differential against wasmi",
        run: crate::memory_probe::run,
        in_default_campaign: true,
        structured: Some(Form {
            kind: InputKind::Module,
            derive: crate::memory_probe::module_of,
            check: forms::check_module,
            run: crate::memory_probe::run_module,
            reduce: None,
        }),
        // Entropic's per-input feature frequencies cost three quarters of the
        // CPU here: running fresh modules makes hit counts vary from run to
        // run. Without it: 13x the exec/s and more coverage in the same time.
        libfuzzer_defaults: &["-entropic=0"],
    },
    Target {
        name: "host_calls",
        about: "layer 4: host-call sequences run by a fixed interpreter module; tests the host ABI and WASI",
        run: crate::host_calls::run,
        in_default_campaign: true,
        structured: Some(Form {
            kind: InputKind::Commands,
            derive: crate::host_calls::commands_of,
            check: crate::host_calls::check_command_list,
            run: crate::host_calls::run_command_list,
            reduce: None,
        }),
        // Measured, 40 s from the seeds: 14% more execs per CPU second and
        // slightly more coverage than with Entropic.
        libfuzzer_defaults: &["-entropic=0"],
    },
    Target {
        name: "selftest",
        about: "crashes, hangs or exhausts memory on purpose (inputs starting crash/hang/oom); for testing the suite",
        run: crate::selftest::run,
        in_default_campaign: false,
        structured: None,
        libfuzzer_defaults: &[],
    },
];

/// The target called `name`.
pub fn find(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|target| target.name == name)
}

/// The names of all targets, comma-separated, for error messages.
pub fn names() -> String {
    TARGETS.iter().map(|target| target.name).collect::<Vec<_>>().join(", ")
}
