//! `results.sarif`: SARIF 2.1.0, one result per finding group, a rule per
//! finding kind, located at the panic site, for GitHub code scanning.

use serde_json::{Value, json};

use super::triage::Finding;
use crate::fuzzer::FindingKind;

/// The SARIF log of a campaign's findings.
pub fn sarif(findings: &[Finding]) -> Value {
    let rules: Vec<Value> = [FindingKind::Crash, FindingKind::Hang, FindingKind::Oom]
        .into_iter()
        .map(|kind| {
            let text = match kind {
                FindingKind::Crash => "The loader or an oracle panicked, aborted or died on a signal.",
                FindingKind::Hang => "An input ran past the per-input time limit: the loader's own time limits failed.",
                FindingKind::Oom => "An input went past the memory limit: the loader's memory limits failed.",
                FindingKind::Slow => "",
            };
            json!({
                "id": rule_id(kind),
                "name": kind.name(),
                "shortDescription": { "text": text },
                "defaultConfiguration": { "level": "error" },
            })
        })
        .collect();
    let results: Vec<Value> = findings.iter().map(result).collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "wasm-loader-fuzz-harness",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/bytecodealliance/wasmtime",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

fn rule_id(kind: FindingKind) -> String {
    format!("fuzz/{}", kind.name())
}

fn result(finding: &Finding) -> Value {
    let (uri, line, column) = location(finding);
    let message = if finding.message.is_empty() { finding.signature.text() } else { finding.message.clone() };
    json!({
        "ruleId": rule_id(finding.signature.kind),
        "level": "error",
        "message": { "text": format!(
            "{} in target {}: {message}. Minimized: {}. Reproduced: {}. Reproduce: {}",
            finding.signature.kind.name(), finding.target, finding.sizes(), finding.reproducibility(), finding.reproduce
        ) },
        "locations": [{ "physicalLocation": {
            "artifactLocation": { "uri": uri },
            "region": { "startLine": line, "startColumn": column },
        }}],
        "partialFingerprints": { "fuzzSignature/v1": finding.signature.id() },
    })
}

/// The repository file and position of a finding: the panic site when it is
/// in this repository, else the target's fuzz target file.
fn location(finding: &Finding) -> (String, u64, u64) {
    let mut parts = finding.signature.location.rsplitn(3, ':');
    let column = parts.next().and_then(|text| text.parse().ok());
    let line = parts.next().and_then(|text| text.parse().ok());
    let file = parts.next();
    match (file, line, column) {
        (Some(file), Some(line), Some(column)) if !file.starts_with('/') => (file.to_owned(), line, column),
        _ if !finding.fuzz_target.is_empty() => (finding.fuzz_target.clone(), 1, 1),
        _ => (finding.target.clone(), 1, 1),
    }
}
