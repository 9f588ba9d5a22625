//! Triage: classify each artifact, give it a signature, group by signature,
//! minimize one input per group (keeping its signature), replay it several
//! times to mark it deterministic or flaky, and record how to reproduce it.
//!
//! Every replay runs in a child `harness repro` process, so a hang or an
//! out-of-memory input cannot take the triage down with it. An artifact that
//! replay does not reproduce alone is replayed after the inputs its process
//! ran before it (the [`history`](harness::history) the process wrote), then
//! gets a last chance with the fuzz binary itself, as libFuzzer ran it; if
//! none reproduces it, it is still reported, marked not reproduced, with its
//! inputs kept: no finding libFuzzer reported is lost.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use contract::{PROFILE_VAR, Profile};
use serde::{Deserialize, Serialize};

use harness::forms::InputKind;
use harness::minimize;
use harness::targets::Target;

use crate::fuzzer::{Build, FindingKind, Limits};
use crate::record::Record;

/// How triage replays inputs.
#[derive(Clone, Debug)]
pub struct Replayer {
    /// The `harness` binary.
    pub harness: PathBuf,
    /// Time and memory limits per replay; past them the input hangs or is an oom.
    pub limits: Limits,
}

/// What replaying one input showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replay {
    /// `None` if the input ran without a finding.
    pub signature: Option<Signature>,
    /// What the replay said of the input (a panic message, a stage and end).
    pub message: String,
    /// What the replay printed on stderr (the panic and its report), for the log excerpt.
    pub output: String,
}

/// What identifies a finding: its kind and where it happened.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Signature {
    /// crash, hang or oom.
    pub kind: FindingKind,
    /// `file:line:col` of the panic, `signal N`, or the target for hangs and ooms.
    pub location: String,
}

impl Signature {
    /// `kind at location`, for people and fingerprints.
    pub fn text(&self) -> String {
        format!("{} at {}", self.kind.name(), self.location)
    }

    /// A short stable id (FNV-1a of the text), for folder names and fingerprints.
    pub fn id(&self) -> String {
        let hash = self.text().bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3));
        format!("{}-{:08x}", self.kind.name(), hash >> 32)
    }
}

impl Replayer {
    /// Replays `file`, an input of form `kind`, through `target` in a child
    /// `harness repro --json`, with the arguments of the recorded reproduce
    /// command. A usage or setup error of the child (exit 2: it replayed
    /// nothing) is an error, not a finding.
    pub fn replay(&self, target: &str, kind: InputKind, file: &Path) -> Result<Replay> {
        self.replay_in_order(target, kind, &[file.to_path_buf()])
    }

    /// Replays `files` in order in one child `harness repro --json`, as one
    /// process ran them, and says what the last one showed: its record, or
    /// the signal that ended the child while it ran. An earlier file that
    /// ends the child leaves no signature.
    pub fn replay_in_order(&self, target: &str, kind: InputKind, files: &[PathBuf]) -> Result<Replay> {
        let mut command = Command::new(&self.harness);
        command.args(["repro", target]);
        if kind != InputKind::Fuzz {
            command.args(["--input-kind", kind.name()]);
        }
        let output = command
            .args(files)
            .arg(format!("--timeout={}", self.limits.time.as_secs_f64()))
            .arg(format!("--rss-limit-mb={}", self.limits.rss_mb))
            .arg("--json")
            .output()
            .with_context(|| format!("cannot run {}", self.harness.display()))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = files.last().map_or_else(String::new, |file| file.display().to_string());
        if output.status.code() == Some(2) {
            let error = stderr.lines().find(|line| line.starts_with("error:")).unwrap_or("exit code 2");
            bail!("{} repro {target} could not replay {last}: {error}", self.harness.display());
        }
        let records: Vec<Record> = stdout.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
        let (signature, record) = if records.len() == files.len() {
            let record = records.last();
            (signature_of(target, record, output.status.code(), signal_of(&output.status)), record)
        } else if records.len() + 1 == files.len() {
            (signature_of(target, None, output.status.code(), signal_of(&output.status)), None)
        } else {
            (None, None)
        };
        let excerpt: Vec<&str> = stderr.lines().filter(|line| !line.trim_start().starts_with("at ")).take(30).collect();
        let message = record.map_or_else(|| format!("no replay record of {last} ({})", output.status), |record| record.message.clone());
        Ok(Replay { signature, message, output: excerpt.join("\n") })
    }
}

#[cfg(unix)]
fn signal_of(status: &std::process::ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(status)
}

#[cfg(not(unix))]
fn signal_of(_: &std::process::ExitStatus) -> Option<i32> {
    None
}

/// The signature of a replay: a signal that killed it, else what its record
/// says (the panic location for a crash, the target for a hang or an oom),
/// else an unexpected exit code.
pub fn signature_of(target: &str, record: Option<&Record>, code: Option<i32>, signal: Option<i32>) -> Option<Signature> {
    if let Some(signal) = signal {
        return Some(Signature { kind: FindingKind::Crash, location: format!("signal {signal}") });
    }
    match record.map(|record| record.verdict.as_str()) {
        Some("crash") => {
            let location = record.and_then(|record| record.location.as_deref()).unwrap_or("unknown location");
            Some(Signature { kind: FindingKind::Crash, location: project_relative(location) })
        }
        Some("hang") => Some(Signature { kind: FindingKind::Hang, location: target.to_owned() }),
        Some("oom") => Some(Signature { kind: FindingKind::Oom, location: target.to_owned() }),
        _ if code.is_some_and(|code| code != 0 && code != 1) => {
            Some(Signature { kind: FindingKind::Crash, location: format!("exit {}", code.unwrap_or(-1)) })
        }
        _ => None,
    }
}

/// A path inside this repository made relative to its root
/// (`harness/src/...`), and one inside a crate of the cargo registry to the
/// crate (`extism-1.30.0/src/...`).
pub fn project_relative(location: &str) -> String {
    for root in ["/contract/", "/loader/", "/harness/", "/embedders/", "/cli/", "/targets/"] {
        if let Some(at) = location.rfind(root) {
            return location[at + 1..].to_owned();
        }
    }
    if let Some(at) = location.find("/registry/src/") {
        let crate_path = &location[at + "/registry/src/".len()..];
        if let Some((_, inside)) = crate_path.split_once('/') {
            return inside.to_owned();
        }
    }
    location.to_owned()
}

/// A group of artifacts with one signature, triaged.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Finding {
    /// The target that found it.
    pub target: String,
    /// What identifies it.
    pub signature: Signature,
    /// The first line of what the replay printed (panic message).
    pub message: String,
    /// The artifact files of the group (fuzz inputs, kept as found).
    pub inputs: Vec<PathBuf>,
    /// The minimized input, in form `form`.
    pub minimized: PathBuf,
    /// Size of the smallest artifact (a fuzz input), before minimizing.
    pub size_before: usize,
    /// The form of the minimized input: the target's structured form when
    /// the one built from the smallest artifact kept the signature, else `fuzz`.
    #[serde(default, with = "form_by_name")]
    pub form: InputKind,
    /// Size of the input in that form before minimizing (`size_before` for `fuzz`).
    #[serde(default)]
    pub form_size_before: usize,
    /// Size after minimizing.
    pub size_after: usize,
    /// Commands before and after minimizing, for a command list.
    #[serde(default)]
    pub commands: Option<(usize, usize)>,
    /// Whether every replay of the minimized input showed the same signature.
    pub deterministic: bool,
    /// How it was reproduced.
    #[serde(default)]
    pub reproduced: Reproduction,
    /// The command that reproduces it on stable.
    pub reproduce: String,
    /// The inputs its process ran before it that it needs, oldest first
    /// (for [`Reproduction::AfterPreceding`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preceding: Vec<PathBuf>,
    /// The fuzz target's source file, relative to the repository: where
    /// SARIF places a finding whose panic site is outside the repository.
    #[serde(default)]
    pub fuzz_target: String,
}

/// The source file of `target`'s fuzz target, relative to the repository.
fn fuzz_target_source(target: &Target) -> String {
    format!("{}/fuzz_targets/{}.rs", target.fuzz_dir, target.name)
}

/// How triage reproduced a finding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reproduction {
    /// In-process, by `harness repro` (minimized, replayed for determinism).
    #[default]
    InProcess,
    /// By `harness repro` of the inputs its process ran before it, then
    /// it, in order (not minimized).
    AfterPreceding,
    /// Only by the fuzz binary, as libFuzzer ran it (not minimized).
    FuzzBinary,
    /// By neither: libFuzzer reported it once (its inputs are kept).
    No,
}

impl Reproduction {
    /// For people: `yes`, `after the inputs before it`, `fuzz binary only`, `not reproduced`.
    pub fn text(self) -> &'static str {
        match self {
            Reproduction::InProcess => "yes",
            Reproduction::AfterPreceding => "after the inputs before it",
            Reproduction::FuzzBinary => "fuzz binary only",
            Reproduction::No => "not reproduced",
        }
    }
}

impl Finding {
    /// For people: `deterministic`, `flaky`, `fuzz binary only` or `not reproduced`.
    pub fn reproducibility(&self) -> &'static str {
        match self.reproduced {
            Reproduction::InProcess if self.deterministic => "deterministic",
            Reproduction::InProcess => "flaky",
            other => other.text(),
        }
    }

    /// Sizes before and after minimizing, and the form of the minimized input, for people.
    pub fn sizes(&self) -> String {
        match (self.form, self.commands) {
            (InputKind::Fuzz, _) => format!("{} → {} B", self.size_before, self.size_after),
            (form, Some((before, after))) => format!(
                "{} B fuzz input; {form} {before} → {after} ({} → {} B)",
                self.size_before,
                self.form_size_before,
                self.size_after,
                form = form.name()
            ),
            (form, None) => format!("{} B fuzz input; {} {} → {} B", self.size_before, form.name(), self.form_size_before, self.size_after),
        }
    }
}

/// Artifacts listed by libFuzzer as slow (warnings, not findings).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Triage {
    /// One entry per signature.
    pub findings: Vec<Finding>,
    /// Slow units, listed apart.
    pub slow: Vec<PathBuf>,
}

/// Triage settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// How inputs are replayed.
    pub replayer: Replayer,
    /// Replays of the minimized input to judge determinism.
    pub replays: u32,
    /// Time budget of the minimization of one group.
    pub minimize_time: Duration,
    /// The fuzz build, for the second chance of an artifact that replay did
    /// not reproduce; without it such an artifact is reported not reproduced.
    pub fuzz_build: Option<Build>,
}

/// Triages the artifacts of `artifacts_dir` (files named `crash-*`,
/// `timeout-*`, `oom-*`, `slow-unit-*`) found by `target`, writing one folder
/// per group under `findings_dir`.
pub fn triage(target: &Target, artifacts_dir: &Path, findings_dir: &Path, settings: &Settings) -> Result<Triage> {
    let mut result = Triage::default();
    let mut groups: BTreeMap<Signature, (Vec<PathBuf>, Replay)> = BTreeMap::new();
    let mut unreproduced = Vec::new();
    for artifact in harness::replay::collect_inputs(&[artifacts_dir.to_path_buf()])? {
        let name = artifact.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        match FindingKind::from_artifact_name(&name) {
            None => continue,
            Some(FindingKind::Slow) => {
                result.slow.push(artifact);
                continue;
            }
            Some(_) => {}
        }
        let replay = settings.replayer.replay(target.name, InputKind::Fuzz, &artifact)?;
        match replay.signature.clone() {
            Some(signature) => groups.entry(signature).or_insert_with(|| (Vec::new(), replay)).0.push(artifact),
            None => unreproduced.push(artifact),
        }
    }
    let history = crate::fuzzer::history_dir(artifacts_dir);
    let mut sequences: BTreeMap<Signature, (Vec<PathBuf>, Sequence)> = BTreeMap::new();
    let mut alone_nor_after = Vec::new();
    for artifact in unreproduced {
        match after_preceding(target, &artifact, &history, &settings.replayer)? {
            Some(sequence) => sequences.entry(sequence.signature.clone()).or_insert_with(|| (Vec::new(), sequence)).0.push(artifact),
            None => alone_nor_after.push(artifact),
        }
    }
    for (signature, (inputs, replay)) in groups {
        result.findings.push(triage_group(target, signature, inputs, &replay, findings_dir, settings)?);
    }
    for (inputs, sequence) in sequences.into_values() {
        result.findings.push(keep_sequence(target, inputs, sequence, findings_dir)?);
    }
    for (signature, (inputs, reproduced, message)) in second_chance(target, alone_nor_after, findings_dir, settings)? {
        result.findings.push(keep_group(target, signature, inputs, reproduced, message, findings_dir, settings)?);
    }
    Ok(result)
}

/// An artifact that reproduces after inputs its process ran before it.
#[derive(Debug)]
struct Sequence {
    /// What the replay of the artifact after them showed.
    signature: Signature,
    /// The panic message of that replay.
    message: String,
    /// The inputs it needs before it, oldest first: the shortest tail of
    /// its process's history, of 1, 2, 4, ... inputs, that still shows the
    /// signature.
    preceding: Vec<PathBuf>,
}

/// Replays `artifact` after the inputs its process ran before it, as the
/// history under `history` kept them; `None` if there is no such history
/// or the artifact does not reproduce after them either.
fn after_preceding(target: &Target, artifact: &Path, history: &Path, replayer: &Replayer) -> Result<Option<Sequence>> {
    let Ok(input) = std::fs::read(artifact) else { return Ok(None) };
    let Some(before) = harness::history::preceding(history, &input).filter(|before| !before.is_empty()) else { return Ok(None) };
    let replay_after = |count: usize| -> Result<(Vec<PathBuf>, Replay)> {
        let tail = before.get(before.len().saturating_sub(count)..).unwrap_or_default().to_vec();
        let files: Vec<PathBuf> = tail.iter().cloned().chain([artifact.to_path_buf()]).collect();
        Ok((tail, replayer.replay_in_order(target.name, InputKind::Fuzz, &files)?))
    };
    let (mut preceding, full) = replay_after(before.len())?;
    let Some(signature) = full.signature else { return Ok(None) };
    let mut count = 1;
    while count < before.len() {
        let (tail, replay) = replay_after(count)?;
        if replay.signature.as_ref() == Some(&signature) {
            preceding = tail;
            break;
        }
        count *= 2;
    }
    Ok(Some(Sequence { signature, message: full.message, preceding }))
}

/// Records a group that reproduces after the inputs before it, with those
/// inputs copied into `<folder>/preceding/` (in order) and the `harness
/// repro` command that replays them and then the smallest artifact.
fn keep_sequence(target: &Target, inputs: Vec<PathBuf>, sequence: Sequence, findings_dir: &Path) -> Result<Finding> {
    // Apart from a group of the same signature that replays alone.
    let folder = findings_dir.join(format!("{}-{}-after-preceding", target.name, sequence.signature.id()));
    let kept = keep_inputs(&folder, &inputs)?;
    let preceding_dir = folder.join("preceding");
    let _ = std::fs::remove_dir_all(&preceding_dir);
    std::fs::create_dir_all(&preceding_dir).with_context(|| format!("cannot create {}", preceding_dir.display()))?;
    let mut preceding = Vec::new();
    for (index, input) in sequence.preceding.iter().enumerate() {
        let copy = preceding_dir.join(format!("{index:04}"));
        std::fs::copy(input, &copy).with_context(|| format!("cannot copy {}", input.display()))?;
        preceding.push(copy);
    }
    let reproduce = |smallest: &Path| format!("{} {}", reproduce_command(target.name, InputKind::Fuzz, &preceding_dir), smallest.display());
    let found = AsFound { signature: sequence.signature, message: sequence.message, reproduced: Reproduction::AfterPreceding, preceding };
    let finding = found.finding(target, kept, reproduce)?;
    write_finding(&folder, &finding)?;
    Ok(finding)
}

/// A group recorded as found, not minimized: its smallest artifact stands for it.
struct AsFound {
    signature: Signature,
    message: String,
    reproduced: Reproduction,
    preceding: Vec<PathBuf>,
}

impl AsFound {
    /// The finding of `target` with the artifacts `kept`, reproduced by the
    /// command `reproduce` makes of the smallest.
    fn finding(self, target: &Target, kept: Vec<PathBuf>, reproduce: impl FnOnce(&Path) -> String) -> Result<Finding> {
        let smallest = smallest(&kept)?;
        let size = std::fs::metadata(&smallest).map(|meta| meta.len() as usize).unwrap_or(0);
        Ok(Finding {
            target: target.name.to_owned(),
            signature: self.signature,
            message: self.message,
            inputs: kept,
            reproduce: reproduce(&smallest),
            minimized: smallest,
            size_before: size,
            form: InputKind::Fuzz,
            form_size_before: size,
            size_after: size,
            commands: None,
            deterministic: false,
            reproduced: self.reproduced,
            preceding: self.preceding,
            fuzz_target: fuzz_target_source(target),
        })
    }
}

/// Groups of artifacts that replay did not reproduce: by the signature the
/// fuzz binary showed, or, where it showed none, by kind as not reproduced.
type Unreproduced = BTreeMap<Signature, (Vec<PathBuf>, Reproduction, String)>;

/// Replays each artifact that replay did not reproduce with the fuzz binary.
fn second_chance(target: &Target, artifacts: Vec<PathBuf>, findings_dir: &Path, settings: &Settings) -> Result<Unreproduced> {
    let mut groups = Unreproduced::new();
    let scratch = findings_dir.join(format!(".{}-fuzz-binary", target.name));
    for artifact in artifacts {
        let name = artifact.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        let reported = FindingKind::from_artifact_name(&name).unwrap_or(FindingKind::Crash);
        let log = match &settings.fuzz_build {
            Some(build) => {
                std::fs::create_dir_all(&scratch).with_context(|| format!("cannot create {}", scratch.display()))?;
                Some(build.replay(target.fuzz_dir, target.name, &artifact, settings.replayer.limits, &scratch.join(""))?)
            }
            None => None,
        };
        let (signature, reproduced, message) = match log.as_ref().and_then(|log| Some((log, *log.findings.first()?))) {
            Some((log, kind)) => {
                let panic = log.panics.first();
                let location = match (kind, panic) {
                    (FindingKind::Crash, Some((location, _))) => project_relative(location),
                    (FindingKind::Crash, None) => "fuzz binary".to_owned(),
                    _ => target.name.to_owned(),
                };
                let message = panic.map_or_else(|| format!("the fuzz binary reported a {}", kind.name()), |(_, message)| message.clone());
                (Signature { kind, location }, Reproduction::FuzzBinary, message)
            }
            None => {
                let message = format!("libFuzzer reported a {}; neither harness repro nor the fuzz binary reproduced it", reported.name());
                (Signature { kind: reported, location: "not reproduced".to_owned() }, Reproduction::No, message)
            }
        };
        groups.entry(signature).or_insert_with(|| (Vec::new(), reproduced, message)).0.push(artifact);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(groups)
}

/// Records a group that replay did not reproduce, unminimized, with its
/// inputs kept and the fuzz binary's command to reproduce it.
fn keep_group(
    target: &Target,
    signature: Signature,
    inputs: Vec<PathBuf>,
    reproduced: Reproduction,
    message: String,
    findings_dir: &Path,
    settings: &Settings,
) -> Result<Finding> {
    let folder = findings_dir.join(format!("{}-{}", target.name, signature.id()));
    let kept = keep_inputs(&folder, &inputs)?;
    let sanitizer = settings.fuzz_build.as_ref().map_or("none", |build| build.sanitizer.name());
    let profile = Profile::current().unwrap_or_default();
    let reproduce = |smallest: &Path| {
        format!("{PROFILE_VAR}={profile} cargo fuzz run -s {sanitizer} --fuzz-dir {} {} {}", target.fuzz_dir, target.name, smallest.display())
    };
    let finding = AsFound { signature, message, reproduced, preceding: Vec::new() }.finding(target, kept, reproduce)?;
    write_finding(&folder, &finding)?;
    Ok(finding)
}

/// Writes a group's `reproduce.sh` and `finding.json` into its folder.
fn write_finding(folder: &Path, finding: &Finding) -> Result<()> {
    std::fs::write(folder.join("reproduce.sh"), format!("#!/bin/sh\n{}\n", finding.reproduce))
        .with_context(|| format!("cannot write into {}", folder.display()))?;
    let json = serde_json::to_string_pretty(finding)?;
    std::fs::write(folder.join("finding.json"), json).with_context(|| format!("cannot write into {}", folder.display()))
}

/// Copies a group's artifacts into `<folder>/inputs/`; returns the copies.
fn keep_inputs(folder: &Path, inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let inputs_dir = folder.join("inputs");
    std::fs::create_dir_all(&inputs_dir).with_context(|| format!("cannot create {}", inputs_dir.display()))?;
    let mut kept = Vec::new();
    for input in inputs {
        let copy = inputs_dir.join(input.file_name().unwrap_or_default());
        std::fs::copy(input, &copy).with_context(|| format!("cannot copy {}", input.display()))?;
        kept.push(copy);
    }
    Ok(kept)
}

/// The smallest of `files`.
fn smallest(files: &[PathBuf]) -> Result<PathBuf> {
    files
        .iter()
        .min_by_key(|path| std::fs::metadata(path).map(|meta| meta.len()).unwrap_or(u64::MAX))
        .cloned()
        .ok_or_else(|| anyhow!("empty finding group"))
}

fn triage_group(
    target: &Target,
    signature: Signature,
    inputs: Vec<PathBuf>,
    first: &Replay,
    findings_dir: &Path,
    settings: &Settings,
) -> Result<Finding> {
    let folder = findings_dir.join(format!("{}-{}", target.name, signature.id()));
    let kept = keep_inputs(&folder, &inputs)?;
    let smallest = smallest(&kept)?;
    let original = std::fs::read(&smallest).with_context(|| format!("cannot read {}", smallest.display()))?;
    let minimized_path = folder.join("minimized");
    let probe_path = folder.join(".probe");
    let deadline = Instant::now() + settings.minimize_time;
    let mut same_signature = |kind: InputKind, candidate: &[u8]| -> bool {
        Instant::now() < deadline
            && std::fs::write(&probe_path, candidate).is_ok()
            && settings.replayer.replay(target.name, kind, &probe_path).is_ok_and(|replay| replay.signature.as_ref() == Some(&signature))
    };
    let minimized = minimize::minimize(target, &original, &mut same_signature);
    let _ = std::fs::remove_file(&probe_path);
    std::fs::write(&minimized_path, &minimized.input).with_context(|| format!("cannot write {}", minimized_path.display()))?;
    let mut deterministic = true;
    let mut last = first.clone();
    for _ in 0..settings.replays {
        last = settings.replayer.replay(target.name, minimized.kind, &minimized_path)?;
        deterministic &= last.signature.as_ref() == Some(&signature);
    }
    let reproduce = reproduce_command(target.name, minimized.kind, &minimized_path);
    let log = format!("{}\n{}", last.message, last.output);
    std::fs::write(folder.join("log.txt"), log).with_context(|| format!("cannot write into {}", folder.display()))?;
    let message = first.message.clone();
    let finding = Finding {
        target: target.name.to_owned(),
        signature,
        message,
        inputs: kept,
        minimized: minimized_path,
        size_before: original.len(),
        form: minimized.kind,
        form_size_before: minimized.size_before,
        size_after: minimized.input.len(),
        commands: minimized.commands,
        deterministic,
        reproduced: Reproduction::InProcess,
        reproduce,
        preceding: Vec::new(),
        fuzz_target: fuzz_target_source(target),
    };
    write_finding(&folder, &finding)?;
    Ok(finding)
}

/// The `harness repro` command line that replays `file`, an input of form `kind`.
fn reproduce_command(target: &str, kind: InputKind, file: &Path) -> String {
    // The profile this process runs under is the one the campaign fuzzed with.
    let profile = Profile::current().unwrap_or_default();
    match kind {
        InputKind::Fuzz => format!("cargo harness repro --profile {profile} {target} {}", file.display()),
        kind => format!("cargo harness repro --profile {profile} {target} --input-kind {} {}", kind.name(), file.display()),
    }
}

/// `finding.json` names an input's form by [`InputKind::name`].
mod form_by_name {
    use harness::forms::InputKind;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the form's name.
    pub fn serialize<S: Serializer>(form: &InputKind, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(form.name())
    }

    /// Reads a form's name.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<InputKind, D::Error> {
        let name = String::deserialize(deserializer)?;
        InputKind::from_name(&name).ok_or_else(|| serde::de::Error::custom(format!("{name:?} is not an input form")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(verdict: &str, location: Option<&str>) -> Record {
        Record {
            file: "a/crash-1".to_owned(),
            verdict: verdict.to_owned(),
            message: "oracle: boom".to_owned(),
            location: location.map(str::to_owned),
            stage: None,
            end: None,
        }
    }

    #[test]
    fn signatures_come_from_the_replay_record() {
        let crash = record("crash", Some("/src/harness/src/raw_bytes.rs:30:9"));
        assert_eq!(
            signature_of("raw_bytes", Some(&crash), Some(1), None),
            Some(Signature { kind: FindingKind::Crash, location: "harness/src/raw_bytes.rs:30:9".to_owned() })
        );
        assert_eq!(signature_of("t", Some(&record("hang", None)), Some(1), None).unwrap().kind, FindingKind::Hang);
        assert_eq!(signature_of("t", Some(&record("oom", None)), Some(1), None).unwrap().location, "t");
        assert_eq!(signature_of("t", Some(&record("ran", None)), Some(0), None), None);
        assert_eq!(signature_of("t", None, None, Some(6)).unwrap().location, "signal 6");
        assert_eq!(signature_of("t", None, Some(101), None).unwrap().location, "exit 101");
    }

    #[test]
    fn locations_are_relative_to_the_repository_or_the_registry_crate() {
        assert_eq!(project_relative("/work/main/embedders/extism/src/lib.rs:3:1"), "embedders/extism/src/lib.rs:3:1");
        let registry = "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/extism-1.30.0/src/pdk.rs:9:5";
        assert_eq!(project_relative(registry), "extism-1.30.0/src/pdk.rs:9:5");
    }

    #[test]
    fn findings_show_their_form_and_sizes_and_reproduce_in_that_form() {
        let mut finding = Finding {
            target: "host_calls".to_owned(),
            signature: Signature { kind: FindingKind::Crash, location: "loader/src/host.rs:1:1".to_owned() },
            message: String::new(),
            inputs: Vec::new(),
            minimized: PathBuf::from("m"),
            size_before: 600,
            form: InputKind::Commands,
            form_size_before: 2134,
            size_after: 164,
            commands: Some((24, 2)),
            deterministic: true,
            reproduced: Reproduction::InProcess,
            reproduce: reproduce_command("host_calls", InputKind::Commands, Path::new("f/minimized")),
            preceding: Vec::new(),
            fuzz_target: String::new(),
        };
        assert_eq!(finding.sizes(), "600 B fuzz input; commands 24 → 2 (2134 → 164 B)");
        assert_eq!(finding.reproduce, "cargo harness repro --profile fuzzing host_calls --input-kind commands f/minimized");
        (finding.form, finding.commands, finding.form_size_before) = (InputKind::Module, None, 344);
        assert_eq!(finding.sizes(), "600 B fuzz input; module 344 → 164 B");
        finding.form = InputKind::Fuzz;
        assert_eq!(finding.sizes(), "600 → 164 B");
        assert_eq!(reproduce_command("selftest", InputKind::Fuzz, Path::new("m")), "cargo harness repro --profile fuzzing selftest m");
        // A finding.json written before forms existed still reads, as a fuzz input.
        let mut old = serde_json::to_value(&finding).unwrap();
        for field in ["form", "form_size_before", "commands"] {
            old.as_object_mut().unwrap().remove(field);
        }
        let read: Finding = serde_json::from_value(old).unwrap();
        assert_eq!((read.form, read.commands), (InputKind::Fuzz, None));
    }

    #[test]
    fn how_a_finding_was_reproduced_is_shown_and_recorded() {
        let finding = |deterministic, reproduced| Finding {
            target: "selftest".to_owned(),
            signature: Signature { kind: FindingKind::Crash, location: "not reproduced".to_owned() },
            message: String::new(),
            inputs: Vec::new(),
            minimized: PathBuf::from("m"),
            size_before: 1,
            form: InputKind::Fuzz,
            form_size_before: 1,
            size_after: 1,
            commands: None,
            deterministic,
            reproduced,
            reproduce: String::new(),
            preceding: Vec::new(),
            fuzz_target: String::new(),
        };
        assert_eq!(finding(true, Reproduction::InProcess).reproducibility(), "deterministic");
        assert_eq!(finding(false, Reproduction::InProcess).reproducibility(), "flaky");
        assert_eq!(finding(false, Reproduction::FuzzBinary).reproducibility(), "fuzz binary only");
        assert_eq!(finding(false, Reproduction::AfterPreceding).reproducibility(), "after the inputs before it");
        assert_eq!(serde_json::to_value(finding(false, Reproduction::AfterPreceding)).unwrap()["reproduced"], "after-preceding");
        let lost = serde_json::to_value(finding(false, Reproduction::No)).unwrap();
        assert_eq!(lost["reproduced"], "no");
        // A finding.json from before the field was added was reproduced in-process.
        let mut old = lost;
        old.as_object_mut().unwrap().remove("reproduced");
        assert_eq!(serde_json::from_value::<Finding>(old).unwrap().reproduced, Reproduction::InProcess);
    }

    #[cfg(unix)]
    #[test]
    fn a_replay_that_could_not_run_is_an_error_not_a_finding() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("harness");
        std::fs::write(&script, "#!/bin/sh\necho \"$@\" > \"$0.args\"\necho 'error: unexpected argument' >&2\nexit 2\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let replayer = Replayer { harness: script.clone(), limits: Limits { time: Duration::from_secs(1), rss_mb: 512 } };
        let error = replayer.replay("selftest", InputKind::Fuzz, Path::new("in")).unwrap_err().to_string();
        assert!(error.ends_with("could not replay in: error: unexpected argument"), "{error}");
        let args = std::fs::read_to_string(script.with_extension("args")).unwrap();
        assert_eq!(args.trim(), "repro selftest in --timeout=1 --rss-limit-mb=512 --json");
        let _ = replayer.replay("host_calls", InputKind::Commands, Path::new("in"));
        let args = std::fs::read_to_string(script.with_extension("args")).unwrap();
        assert_eq!(args.trim(), "repro host_calls --input-kind commands in --timeout=1 --rss-limit-mb=512 --json");
    }

    #[test]
    fn signature_ids_are_stable_and_distinct() {
        let a = Signature { kind: FindingKind::Crash, location: "harness/src/a.rs:1:1".to_owned() };
        let b = Signature { kind: FindingKind::Crash, location: "harness/src/a.rs:2:1".to_owned() };
        assert_eq!(a.id(), a.clone().id());
        assert_ne!(a.id(), b.id());
        assert!(a.id().starts_with("crash-"));
    }
}
