//! The CI definitions: every workflow is valid YAML whose steps run only the
//! entry scripts in `ci/`, and those scripts exist.

use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn workflows() -> Vec<(String, Yaml)> {
    let dir = repo().join(".github/workflows");
    let mut found: Vec<(String, Yaml)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "yml"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let mut documents = YamlLoader::load_from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            assert_eq!(documents.len(), 1, "{}", path.display());
            (path.file_name().unwrap().to_string_lossy().into_owned(), documents.remove(0))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// Every `run:` command of a workflow.
fn run_commands(workflow: &Yaml) -> Vec<String> {
    let jobs = workflow["jobs"].as_hash().expect("jobs");
    jobs.values().flat_map(|job| job["steps"].as_vec().expect("steps").iter()).filter_map(|step| step["run"].as_str().map(str::to_owned)).collect()
}

#[test]
fn the_workflows_are_the_expected_ones() {
    let names: Vec<String> = workflows().into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["clusterfuzzlite.yml", "nightly.yml", "pr.yml"]);
}

#[test]
fn every_workflow_step_runs_only_a_ci_script_that_exists() {
    for (name, workflow) in workflows() {
        assert!(workflow["on"].as_hash().is_some(), "{name}: no triggers");
        for step in workflow["jobs"].as_hash().unwrap().values().flat_map(|job| job["steps"].as_vec().unwrap()) {
            assert!(step["run"].as_str().is_some() || step["uses"].as_str().is_some(), "{name}: a step that neither runs nor uses: {step:?}");
        }
        for command in run_commands(&workflow) {
            let script = command.trim();
            assert!(script.starts_with("ci/") && !script.contains(char::is_whitespace), "{name}: `{script}` is not a ci/ script");
            let path = repo().join(script);
            assert!(path.is_file(), "{name}: {script} does not exist");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                assert!(path.metadata().unwrap().permissions().mode() & 0o111 != 0, "{script} is not executable");
            }
        }
    }
}

#[test]
fn pull_requests_and_nights_call_their_scripts() {
    let workflows = workflows();
    let commands = |wanted: &str| run_commands(&workflows.iter().find(|(name, _)| name == wanted).unwrap().1);
    assert_eq!(commands("pr.yml"), ["ci/pr.sh"]);
    assert_eq!(commands("nightly.yml"), ["ci/nightly.sh"]);
    let nightly = &workflows.iter().find(|(name, _)| name == "nightly.yml").unwrap().1;
    assert!(nightly["on"]["schedule"].as_vec().is_some(), "nightly runs on a schedule");
    let uses: Vec<&str> = nightly["jobs"]["campaign"]["steps"].as_vec().unwrap().iter().filter_map(|step| step["uses"].as_str()).collect();
    assert!(uses.iter().any(|action| action.starts_with("github/codeql-action/upload-sarif")), "{uses:?}");
    assert!(uses.iter().any(|action| action.starts_with("actions/cache")), "{uses:?}");
}

#[test]
fn clusterfuzzlite_fuzzes_changes_on_pull_requests_and_batches_at_night() {
    let workflows = workflows();
    let workflow = &workflows.iter().find(|(name, _)| name == "clusterfuzzlite.yml").unwrap().1;
    let text = std::fs::read_to_string(repo().join(".github/workflows/clusterfuzzlite.yml")).unwrap();
    assert!(workflow["on"]["pull_request"].as_hash().is_some() && workflow["on"]["schedule"].as_vec().is_some());
    assert!(text.contains("code-change") && text.contains("batch"), "both modes");
}

#[test]
fn the_local_ci_entry_runs_the_tests_then_the_pull_request_script() {
    let run = std::fs::read_to_string(repo().join(".ci/run")).unwrap();
    let lines: Vec<&str> = run.lines().map(str::trim).collect();
    let tests = lines.iter().position(|line| *line == "cargo test --workspace --locked").expect("the README's test command");
    let script = lines.iter().position(|line| line.ends_with("exec ci/pr.sh")).expect("ci/pr.sh");
    assert!(tests < script, "{run}");
}
