//! `.clusterfuzzlite/build.sh` run locally as ClusterFuzzLite runs it (SRC,
//! OUT and WORK set, from the project folder): `$OUT` must hold the four layer
//! targets, each with its options, dictionary and seed corpus, and each
//! binary must run inputs. Builds the fuzz targets if they are not built
//! (cargo-fuzz must be installed: scripts/setup.sh).

use std::path::{Path, PathBuf};
use std::process::Command;

use driver::fuzzer::Limits;
use driver::fuzzer::libfuzzer::ASAN_OPTIONS;

const HARNESS: &str = env!("CARGO_BIN_EXE_harness");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn layer_targets() -> Vec<String> {
    let output = Command::new(HARNESS).args(["list", "--campaign"]).output().unwrap();
    String::from_utf8(output.stdout).unwrap().lines().map(str::to_owned).collect()
}

fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().filter(|entry| entry.as_ref().unwrap().path().is_file()).count()
}

#[test]
fn build_sh_fills_out_with_runnable_targets_options_dictionaries_and_seeds() {
    let scratch = tempfile::tempdir().unwrap();
    let [src, out, work] = ["src", "out", "work"].map(|name| scratch.path().join(name));
    for dir in [&src, &out, &work] {
        std::fs::create_dir(dir).unwrap();
    }
    let output = Command::new("bash")
        .arg(".clusterfuzzlite/build.sh")
        .current_dir(repo())
        .env("SRC", &src)
        .env("OUT", &out)
        .env("WORK", &work)
        .env_remove("SANITIZER")
        .output()
        .unwrap();
    assert!(output.status.success(), "build.sh failed:\n{}", String::from_utf8_lossy(&output.stderr));

    let targets = layer_targets();
    assert_eq!(targets.len(), 4, "{targets:?}");
    for target in &targets {
        let binary = out.join(target);
        assert!(binary.is_file(), "{target} binary missing");

        let options = std::fs::read_to_string(out.join(format!("{target}.options"))).unwrap();
        assert!(options.starts_with("[libfuzzer]\n"), "{options}");
        let limits = Limits::default();
        let (timeout, rss) = (format!("timeout = {}", limits.timeout_secs()), format!("rss_limit_mb = {}", limits.rss_mb));
        assert!(options.contains(&timeout) && options.contains(&rss), "{options}");
        let (libfuzzer, asan) = options.split_once("[asan]\n").expect("an [asan] section");
        let defaults = reference::TARGETS.iter().find(|registered| registered.name == target).unwrap().libfuzzer_defaults();
        for flag in defaults {
            let (name, value) = flag.trim_start_matches('-').split_once('=').unwrap();
            assert!(libfuzzer.contains(&format!("\n{name} = {value}\n")), "{target}: campaign flag {flag} missing from\n{options}");
        }
        for option in ASAN_OPTIONS.split(':') {
            let (name, value) = option.split_once('=').unwrap();
            assert!(asan.contains(&format!("{name} = {value}")), "{target}: {name} missing from\n{options}");
        }
        let dictionary = repo().join(format!("harness/dictionaries/{target}.dict"));
        if dictionary.exists() {
            assert!(options.contains(&format!("dict = {target}.dict")), "{options}");
            assert_eq!(std::fs::read(out.join(format!("{target}.dict"))).unwrap(), std::fs::read(&dictionary).unwrap());
        }

        let seeds = out.join(format!("{target}_seed_corpus.zip"));
        let listing = Command::new("python3").args(["-m", "zipfile", "-l"]).arg(&seeds).output().unwrap();
        assert!(listing.status.success(), "{target}: seed zip unreadable");
        let entries = String::from_utf8_lossy(&listing.stdout).lines().skip(1).count();
        assert_eq!(entries, files_in(&repo().join("embedders/reference/corpus").join(target)), "{target}: one zip entry per seed");

        // Each binary runs its seeds (unpacked from the zip) and some mutations.
        let corpus = work.join(target);
        let unzip = Command::new("python3").args(["-m", "zipfile", "-e"]).arg(&seeds).arg(&corpus).status().unwrap();
        assert!(unzip.success(), "{target}: seed zip does not unpack");
        let run = Command::new(&binary).args(["-runs=300", "-seed=1"]).arg(&corpus).output().unwrap();
        let log = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success() && log.contains("INITED") && log.contains("Done "), "{target} did not run:\n{log}");
    }
}
