//! Embedders that are deliberately wrong in one way each, plugged in through
//! the same public seam a user implements (`Embedder`, `Loaded`), and the
//! layer meant to catch each one catching it within a short run of inputs:
//! - layer 1: one accepts a module the validator rejects;
//! - layer 3: one lets memory grow one page past its declared cap;
//! - layer 4: one returns a wrong status from a host call;
//! - layer 4: one lets a path escape the sandbox.

use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

use contract::{End, Outcome, Policy, Rejection, Stage};
use harness::embedder::{Embedder, Loaded, Store};
use harness::{Layer, Subject};
use reference::embedder::Reference;

/// A flaw: what the wrong embedder does differently from the loader.
#[derive(Clone, Copy)]
enum Flaw {
    /// Accepts a module the loader rejects at validation.
    AcceptsInvalid,
    /// Reports a wrong status for the first `storage_get` that returned not-found.
    WrongStatus,
    /// Preopens the directory an escaping symlink of the sandbox points to.
    FollowsEscape,
    /// None but the inner loader's own policy (a larger memory cap).
    None,
}

/// The loader, wrong in one way, declaring `declared` as its policy.
struct Wrong {
    inner: Reference,
    declared: Policy,
    flaw: Flaw,
}

impl Embedder for Wrong {
    fn policy(&self) -> &Policy {
        &self.declared
    }

    fn load(&self, module: &[u8], store: &Store) -> Result<Box<dyn Loaded>, Rejection> {
        match self.inner.load(module, store) {
            Err(rejection) if rejection.stage == Stage::Validate && matches!(self.flaw, Flaw::AcceptsInvalid) => Ok(Box::new(Accepted)),
            Err(rejection) => Err(rejection),
            Ok(loaded) => Ok(Box::new(WrongLoaded { inner: loaded, flaw: self.flaw })),
        }
    }
}

/// A module the wrong embedder accepted although it is invalid.
struct Accepted;

impl Loaded for Accepted {
    fn invoke(&self, _: &[u8], _: Option<&Path>) -> Outcome {
        Outcome::ended(Stage::Execute, End::Ok)
    }
}

struct WrongLoaded {
    inner: Box<dyn Loaded>,
    flaw: Flaw,
}

impl Loaded for WrongLoaded {
    fn invoke(&self, request: &[u8], sandbox: Option<&Path>) -> Outcome {
        match self.flaw {
            Flaw::FollowsEscape => self.inner.invoke(request, sandbox.map(|dir| dir.join("dir_escape")).as_deref()),
            Flaw::WrongStatus => {
                let mut outcome = self.inner.invoke(request, sandbox);
                let not_found = Some(2);
                if let Some(call) = outcome.host_calls.iter_mut().find(|call| call.function == "storage_get" && call.result == not_found) {
                    call.result = Some(0);
                }
                outcome
            }
            Flaw::AcceptsInvalid | Flaw::None => self.inner.invoke(request, sandbox),
        }
    }
}

/// The reference ABI and layer-4 half over a wrong embedder: `actual` is the
/// policy the loader enforces, `declared` the one the embedder claims.
fn subject(flaw: Flaw, actual: Policy, declared: Policy) -> Subject {
    let abi = reference::abi::abi(&declared);
    let inner = Reference::new(actual).unwrap();
    Subject::new(Box::new(Wrong { inner, declared, flaw }), abi, Box::new(reference::host_api::OakHostApi))
}

/// Pseudo-random inputs (xorshift) of varied lengths, then the layer's seeds.
fn inputs(layer: Layer, count: usize) -> Vec<Vec<u8>> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus").join(layer.name());
    let seeds = harness::replay::collect_inputs(&[seeds]).unwrap().into_iter().map(|path| std::fs::read(path).unwrap());
    let random = (0..count).map(|_| {
        let len = 16 + (next() % 1500) as usize;
        (0..len).map(|_| next() as u8).collect::<Vec<u8>>()
    });
    seeds.chain(random).collect()
}

/// The first oracle message the layer raises on `subject` over its inputs.
fn first_oracle(layer: Layer, subject: &Subject, count: usize) -> Option<String> {
    inputs(layer, count).into_iter().find_map(|data| {
        let result = panic::catch_unwind(AssertUnwindSafe(|| layer.run(subject, &data)));
        let payload = result.err()?;
        let message = payload.downcast_ref::<String>().cloned().or_else(|| payload.downcast_ref::<&str>().map(|text| (*text).to_owned()))?;
        message.starts_with("oracle:").then_some(message)
    })
}

#[test]
fn layer_1_catches_an_embedder_that_accepts_an_invalid_module() {
    let wrong = subject(Flaw::AcceptsInvalid, Policy::fuzzing(), Policy::fuzzing());
    let message = first_oracle(Layer::RawBytes, &wrong, 200).expect("layer 1 catches it");
    assert!(message.starts_with("oracle: the embedder accepted a module wasmparser rejects"), "{message}");
}

#[test]
fn layer_3_catches_an_embedder_that_lets_memory_grow_a_page_past_its_cap() {
    let declared = Policy::fuzzing();
    let actual = Policy { max_memory_bytes: declared.max_memory_bytes + 65_536, ..declared.clone() };
    let wrong = subject(Flaw::None, actual, declared);
    let message = first_oracle(Layer::MemoryProbe, &wrong, 3000).expect("layer 3 catches it");
    assert!(message.contains("the memory limit did not hold") || message.contains("past the declared cap") || message.contains("pages of memory"), "{message}");
}

#[test]
fn layer_4_catches_an_embedder_that_returns_a_wrong_status() {
    let wrong = subject(Flaw::WrongStatus, Policy::fuzzing(), Policy::fuzzing());
    let message = first_oracle(Layer::HostCalls, &wrong, 2000).expect("layer 4 catches it");
    assert!(message.contains("host.storage_get returned Some(Ok), the model predicts Some(NotFound)"), "{message}");
}

#[test]
fn layer_4_catches_an_embedder_that_lets_a_path_escape_the_sandbox() {
    let wrong = subject(Flaw::FollowsEscape, Policy::fuzzing(), Policy::fuzzing());
    let message = first_oracle(Layer::HostCalls, &wrong, 2000).expect("layer 4 catches it");
    assert!(message.contains("oracle: canary") || message.contains("oracle: the content of canary"), "{message}");
}

#[test]
fn the_same_layers_stay_quiet_on_the_loader_itself() {
    let right = subject(Flaw::None, Policy::fuzzing(), Policy::fuzzing());
    for layer in Layer::ALL {
        assert_eq!(first_oracle(layer, &right, 100), None, "{}", layer.name());
    }
}
