//! Fuzz targets: one per layer and embedder, plus `selftest`. Each
//! embedder's crate lists its four with [`Target::layers`]; the CLI and the
//! fuzz targets take them from there.

use std::path::{Path, PathBuf};

use contract::{End, Outcome, Stage};

use crate::embedder::Store;
use crate::forms::{self, InputKind};
use crate::report::Report;
use crate::subject::Subject;
use crate::{host_calls, invalid_module, memory_probe, raw_bytes, selftest, shrink};

/// The four fuzz layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// Layer 1: the input is the module.
    RawBytes,
    /// Layer 2: wasm-smith modules with catalogued defects.
    InvalidModule,
    /// Layer 3: well-formed modules probing memory bounds.
    MemoryProbe,
    /// Layer 4: host-call sequences run by a fixed interpreter module.
    HostCalls,
}

impl Layer {
    /// Every layer, in order.
    pub const ALL: [Layer; 4] = [Layer::RawBytes, Layer::InvalidModule, Layer::MemoryProbe, Layer::HostCalls];

    /// The layer's name, which is also its reference target's and its dictionary's.
    pub fn name(self) -> &'static str {
        match self {
            Layer::RawBytes => "raw_bytes",
            Layer::InvalidModule => "invalid_module",
            Layer::MemoryProbe => "memory_probe",
            Layer::HostCalls => "host_calls",
        }
    }

    /// One line on what the layer exercises.
    pub fn about(self) -> &'static str {
        match self {
            Layer::RawBytes => "layer 1: the input is the module; tests the size check, parser and validator",
            Layer::InvalidModule => "layer 2: wasm-smith modules with catalogued defects; tests validation and the ABI check",
            Layer::MemoryProbe => "layer 3: well-formed modules probing memory bounds; tests execution, differential against wasmi",
            Layer::HostCalls => "layer 4: host-call sequences run by a fixed interpreter module; tests the host API and WASI",
        }
    }

    /// The structured form the layer builds from a fuzz input: `repro
    /// --input-kind` replays it and triage minimizes in it.
    pub fn structured(self) -> InputKind {
        match self {
            Layer::HostCalls => InputKind::Commands,
            _ => InputKind::Module,
        }
    }

    /// libFuzzer flags campaigns pass before the user's own (which win).
    pub fn libfuzzer_defaults(self) -> &'static [&'static str] {
        match self {
            // Entropic's per-input feature frequencies cost three quarters of
            // the CPU here: running fresh modules makes hit counts vary from
            // run to run. Without it: 13x the exec/s and more coverage in the same time.
            Layer::MemoryProbe => &["-entropic=0"],
            // Measured, 40 s from the seeds: 14% more execs per CPU second and
            // slightly more coverage than with Entropic.
            Layer::HostCalls => &["-entropic=0"],
            _ => &[],
        }
    }

    /// Runs a fuzz input through the layer (kept in the process's
    /// [`history`](crate::history) when a campaign asks for one), or only
    /// through its [`bare`](crate::bare) work when that is asked for.
    pub fn run(self, subject: &Subject, data: &[u8]) -> Report {
        crate::history::record(data);
        if crate::bare::requested() {
            return Report::new(self.run_bare(subject, &self.bare_input(subject, data)));
        }
        match self {
            Layer::RawBytes => raw_bytes::run(&*subject.embedder, &subject.abi, data),
            Layer::InvalidModule => invalid_module::run(subject, data),
            Layer::MemoryProbe => memory_probe::run(subject, data),
            Layer::HostCalls => host_calls::run(subject, data),
        }
    }

    /// What the layer's [`bare`](crate::bare) work takes for the fuzz input
    /// `data`: the bytes themselves for layers 1 and 2, the generated module
    /// for layer 3, the command list for layer 4.
    pub fn bare_input(self, subject: &Subject, data: &[u8]) -> Vec<u8> {
        match self {
            Layer::RawBytes | Layer::InvalidModule => data.to_vec(),
            Layer::MemoryProbe => memory_probe::module_of(subject, data),
            Layer::HostCalls => host_calls::request_of(subject, data),
        }
    }

    /// The layer's [`bare`](crate::bare) work on what [`Layer::bare_input`]
    /// made: the outcome of the load, or of the call where there is one.
    pub fn run_bare(self, subject: &Subject, prepared: &[u8]) -> Outcome {
        let embedder = &*subject.embedder;
        let loaded = |module: &[u8]| embedder.load(module, &Store::new());
        let load_only = |module: &[u8]| match loaded(module) {
            Ok(_) => Outcome::ended(Stage::Instantiate, End::Ok),
            Err(rejection) => Outcome::rejected(rejection),
        };
        match self {
            Layer::RawBytes => load_only(prepared),
            Layer::InvalidModule => load_only(&invalid_module::module_of(subject, prepared)),
            Layer::MemoryProbe => match loaded(prepared) {
                Ok(module) => module.invoke(b"", None),
                Err(rejection) => Outcome::rejected(rejection),
            },
            Layer::HostCalls => host_calls::invoke_bare(subject, prepared),
        }
    }

    /// The structured form of a fuzz input; may panic where the layer's generator panics.
    pub fn derive(self, subject: &Subject, data: &[u8]) -> Vec<u8> {
        match self {
            Layer::RawBytes => data.to_vec(),
            Layer::InvalidModule => invalid_module::module_of(subject, data),
            Layer::MemoryProbe => memory_probe::module_of(subject, data),
            Layer::HostCalls => host_calls::commands_of(subject, data),
        }
    }

    /// Whether `file` is in the layer's structured form; the error says what is wrong.
    pub fn check(self, subject: &Subject, file: &[u8]) -> Result<(), String> {
        match self {
            Layer::HostCalls => host_calls::check_command_list(subject, file),
            _ => forms::check_module(file),
        }
    }

    /// Runs the checks that apply to an input in the structured form; expects
    /// one [`Layer::check`] accepts.
    pub fn run_structured(self, subject: &Subject, file: &[u8]) -> Report {
        match self {
            Layer::RawBytes => raw_bytes::run(&*subject.embedder, &subject.abi, file),
            Layer::InvalidModule => invalid_module::run_module(subject, file),
            Layer::MemoryProbe => memory_probe::run_module(subject, file),
            Layer::HostCalls => host_calls::run_command_list(subject, file),
        }
    }

    /// A first reduction for a form the generic one handles badly: from the
    /// fuzz input, a smaller input in the structured form (`invalid_module`
    /// shrinks its module before the defects, since wasm-shrink takes valid
    /// modules only).
    pub fn reduce(self, subject: &Subject, data: &[u8], still_fails: &mut dyn FnMut(&[u8]) -> bool) -> Option<Vec<u8>> {
        match self {
            Layer::InvalidModule => Some(invalid_module::shrink_before_defects(subject, data, still_fails)),
            _ => None,
        }
    }

    /// Minimizes an input in the structured form while it `still_fails`: the
    /// smaller input, and command counts before and after for a command list.
    pub fn minimize(self, subject: &Subject, input: Vec<u8>, still_fails: &mut dyn FnMut(&[u8]) -> bool) -> (Vec<u8>, Option<(usize, usize)>) {
        match self {
            Layer::HostCalls => host_calls::minimize(subject, input, still_fails),
            _ => (shrink::module::minimize(input, still_fails), None),
        }
    }
}

/// What a target fuzzes.
#[derive(Clone, Copy, Debug)]
enum Fuzzes {
    /// A layer, against the embedder `subject()` builds.
    Layer(Layer, fn() -> &'static Subject),
    /// The suite itself.
    SelfTest,
}

/// A fuzz target.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The name used by cargo-fuzz, the corpus folders and the CLI.
    pub name: &'static str,
    /// The embedder it fuzzes (`reference`, `extism`), or `suite` for `selftest`.
    pub embedder: &'static str,
    /// The cargo-fuzz package that builds it, relative to the repository:
    /// `fuzz/` in the embedder's folder, which holds the target's seeds
    /// ([`Target::seeds`]) and regression inputs ([`Target::regressions`]).
    pub fuzz_dir: &'static str,
    /// Path fragments that pick the embedder's own sources out of a coverage
    /// report (`loader/src/`), which reports list first.
    pub sources: &'static [&'static str],
    /// Whether `harness campaign` fuzzes it when no targets are named.
    pub in_default_campaign: bool,
    fuzzes: Fuzzes,
}

impl Target {
    /// The four targets of one embedder: `names` in layer order, the subject
    /// they fuzz, the cargo-fuzz package that builds them, the path
    /// fragments of the embedder's own sources, and whether default
    /// campaigns fuzz them.
    pub const fn layers(
        names: [&'static str; 4],
        embedder: &'static str,
        subject: fn() -> &'static Subject,
        fuzz_dir: &'static str,
        sources: &'static [&'static str],
        in_default_campaign: bool,
    ) -> [Target; 4] {
        let [raw_bytes, invalid_module, memory_probe, host_calls] = names;
        let target = Target { name: raw_bytes, embedder, fuzz_dir, sources, in_default_campaign, fuzzes: Fuzzes::Layer(Layer::RawBytes, subject) };
        [
            target,
            Target { name: invalid_module, fuzzes: Fuzzes::Layer(Layer::InvalidModule, subject), ..target },
            Target { name: memory_probe, fuzzes: Fuzzes::Layer(Layer::MemoryProbe, subject), ..target },
            Target { name: host_calls, fuzzes: Fuzzes::Layer(Layer::HostCalls, subject), ..target },
        ]
    }

    /// One target: `name` runs `layer` against the subject `subject` builds;
    /// the other arguments as for [`Target::layers`]. For an embedder fuzzed
    /// by some layers only (one without host functions has no layer 4).
    pub const fn new(
        name: &'static str,
        layer: Layer,
        embedder: &'static str,
        subject: fn() -> &'static Subject,
        fuzz_dir: &'static str,
        sources: &'static [&'static str],
        in_default_campaign: bool,
    ) -> Target {
        Target { name, embedder, fuzz_dir, sources, in_default_campaign, fuzzes: Fuzzes::Layer(layer, subject) }
    }

    /// The layer it fuzzes, if it fuzzes one.
    pub fn layer(&self) -> Option<Layer> {
        match self.fuzzes {
            Fuzzes::Layer(layer, _) => Some(layer),
            Fuzzes::SelfTest => None,
        }
    }

    /// The subject it fuzzes, if it fuzzes a layer.
    pub fn subject(&self) -> Option<&'static Subject> {
        match self.fuzzes {
            Fuzzes::Layer(_, subject) => Some(subject()),
            Fuzzes::SelfTest => None,
        }
    }

    /// One line on what it exercises.
    pub fn about(&self) -> &'static str {
        match self.fuzzes {
            Fuzzes::Layer(layer, _) => layer.about(),
            Fuzzes::SelfTest => "crashes, hangs or exhausts memory on purpose (inputs starting crash/hang/oom); for testing the suite",
        }
    }

    /// libFuzzer flags campaigns pass before the user's own (which win).
    pub fn libfuzzer_defaults(&self) -> &'static [&'static str] {
        self.layer().map_or(&[], Layer::libfuzzer_defaults)
    }

    /// Its libFuzzer dictionary, if it has one: a file name and the text.
    /// Dictionaries belong to layers, not embedders, and ship with this crate.
    pub fn dictionary(&self) -> Option<(&'static str, &'static str)> {
        match self.layer() {
            Some(Layer::RawBytes) => Some(("raw_bytes.dict", include_str!("../dictionaries/raw_bytes.dict"))),
            Some(_) => None,
            None => Some(("selftest.dict", include_str!("../dictionaries/selftest.dict"))),
        }
    }

    /// The embedder's folder, relative to the repository: the one holding
    /// the fuzz package (the repository itself for a package at `fuzz/`).
    pub fn folder(&self) -> &'static Path {
        Path::new(self.fuzz_dir).parent().unwrap_or(Path::new(""))
    }

    /// Its checked-in seeds, relative to the repository: `<folder>/corpus/<name>/`.
    pub fn seeds(&self) -> PathBuf {
        self.folder().join("corpus").join(self.name)
    }

    /// Its regression inputs, relative to the repository, which the
    /// embedder's tests replay: `<folder>/regressions/<name>/`.
    pub fn regressions(&self) -> PathBuf {
        self.folder().join("regressions").join(self.name)
    }

    /// The folder of its inputs under `repo`: `<corpora>/<name>/` when a
    /// folder of corpora is given (such as a campaign's `corpus/`), else its seeds.
    pub fn inputs(&self, repo: &Path, corpora: Option<&Path>) -> PathBuf {
        corpora.map_or_else(|| repo.join(self.seeds()), |corpora| corpora.join(self.name))
    }

    /// The structured form of its input, if it has one.
    pub fn structured(&self) -> Option<InputKind> {
        self.layer().map(Layer::structured)
    }

    /// Runs a fuzz input: what the fuzz target and `repro` both do.
    pub fn run(&self, data: &[u8]) -> Report {
        match self.fuzzes {
            Fuzzes::Layer(layer, subject) => layer.run(subject(), data),
            Fuzzes::SelfTest => selftest::run(data),
        }
    }

    /// Whether the target takes inputs of form `kind`; the error says which it takes.
    pub fn accepts(&self, kind: InputKind) -> Result<(), String> {
        match self.structured() {
            _ if kind == InputKind::Fuzz => Ok(()),
            Some(form) if form == kind => Ok(()),
            Some(form) => Err(format!("target `{}` has no `{}` input; its inputs are fuzz and {}", self.name, kind.name(), form.name())),
            None => Err(format!("target `{}` has no `{}` input; its only input is fuzz", self.name, kind.name())),
        }
    }

    /// Whether `file` is an input of form `kind`; the error says what is wrong with it.
    pub fn check(&self, kind: InputKind, file: &[u8]) -> Result<(), String> {
        self.accepts(kind)?;
        match self.fuzzes {
            Fuzzes::Layer(layer, subject) if kind != InputKind::Fuzz => layer.check(subject(), file),
            _ => Ok(()),
        }
    }

    /// Runs an input of form `kind` (one [`Target::check`] accepts).
    pub fn run_as(&self, kind: InputKind, data: &[u8]) -> Report {
        match self.fuzzes {
            Fuzzes::Layer(layer, subject) if kind != InputKind::Fuzz => layer.run_structured(subject(), data),
            _ => self.run(data),
        }
    }

    /// The structured form of a fuzz input, if the target has one; may panic
    /// where the layer's generator panics.
    pub fn derive(&self, data: &[u8]) -> Option<(InputKind, Vec<u8>)> {
        match self.fuzzes {
            Fuzzes::Layer(layer, subject) => Some((layer.structured(), layer.derive(subject(), data))),
            Fuzzes::SelfTest => None,
        }
    }

    /// The layer's own first reduction of a fuzz input into its structured form, if it has one.
    pub fn reduce(&self, data: &[u8], still_fails: &mut dyn FnMut(&[u8]) -> bool) -> Option<Vec<u8>> {
        match self.fuzzes {
            Fuzzes::Layer(layer, subject) => layer.reduce(subject(), data, still_fails),
            Fuzzes::SelfTest => None,
        }
    }

    /// Minimizes an input of form `kind` while it `still_fails`: the smaller
    /// input, and command counts before and after for a command list.
    pub fn minimize(&self, kind: InputKind, input: Vec<u8>, still_fails: &mut dyn FnMut(&[u8]) -> bool) -> (Vec<u8>, Option<(usize, usize)>) {
        match self.fuzzes {
            Fuzzes::Layer(layer, subject) if kind != InputKind::Fuzz => layer.minimize(subject(), input, still_fails),
            _ => (shrink::delta_debug(input, still_fails), None),
        }
    }
}

/// The target that tests the suite itself, in no default campaign.
pub const SELFTEST: Target = Target {
    name: "selftest",
    embedder: "suite",
    fuzz_dir: "embedders/reference/fuzz",
    sources: &[],
    in_default_campaign: false,
    fuzzes: Fuzzes::SelfTest,
};

/// The target called `name` among `targets`, or an error listing the names.
pub fn find<'a>(targets: &[&'a Target], name: &str) -> Result<&'a Target, String> {
    targets.iter().copied().find(|target| target.name == name).ok_or_else(|| {
        let names: Vec<&str> = targets.iter().map(|target| target.name).collect();
        format!("unknown target `{name}`; the targets are: {}", names.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_targets_seeds_and_regressions_live_beside_its_fuzz_package() {
        let in_repository = Target { fuzz_dir: "embedders/mine/fuzz", name: "mine_raw_bytes", ..SELFTEST };
        assert_eq!(in_repository.folder(), Path::new("embedders/mine"));
        assert_eq!(in_repository.seeds(), Path::new("embedders/mine/corpus/mine_raw_bytes"));
        assert_eq!(in_repository.regressions(), Path::new("embedders/mine/regressions/mine_raw_bytes"));
        let at_the_root = Target { fuzz_dir: "fuzz", ..in_repository };
        assert_eq!(at_the_root.seeds(), Path::new("corpus/mine_raw_bytes"));
        assert_eq!(at_the_root.inputs(Path::new("/repo"), None), Path::new("/repo/corpus/mine_raw_bytes"));
        assert_eq!(at_the_root.inputs(Path::new("/repo"), Some(Path::new("/c/corpus"))), Path::new("/c/corpus/mine_raw_bytes"));
    }

    #[test]
    fn dictionaries_belong_to_layers() {
        fn never_built() -> &'static Subject {
            unreachable!("a dictionary needs no subject")
        }
        let of = |layer| Target { fuzzes: Fuzzes::Layer(layer, never_built), ..SELFTEST }.dictionary().map(|(name, _)| name);
        assert_eq!(of(Layer::RawBytes), Some("raw_bytes.dict"));
        assert_eq!(of(Layer::HostCalls), None);
        assert!(SELFTEST.dictionary().is_some_and(|(name, text)| name == "selftest.dict" && text.contains("\"crash\"")));
    }
}
