//! The inputs a fuzzing process ran before a finding. libFuzzer runs many
//! inputs in one process, so a finding can need what earlier inputs left
//! behind (state that survived between calls) and not show when its input
//! is replayed alone. With [`DIR_VAR`] set (the campaign sets it on every
//! libFuzzer run), each process keeps its last [`KEPT_INPUTS`] inputs, at
//! most [`KEPT_BYTES`] in all, and on a panic writes them, oldest first and
//! the panicking input last, to `<dir>/<pid>/`; triage then replays them in
//! order. A hang or an out-of-memory ends the process from libFuzzer's own
//! handlers, without a panic, so only crashes leave a history.

use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The environment variable naming the folder histories are written to.
pub const DIR_VAR: &str = "SUITE_HISTORY_DIR";

/// How many of a process's last inputs a history keeps, the panicking one included.
pub const KEPT_INPUTS: usize = 64;

/// How many bytes of inputs a history keeps at most (the newest input is always kept).
pub const KEPT_BYTES: usize = 16 << 20;

/// A process's last inputs, oldest first.
#[derive(Debug, Default)]
pub struct Ring {
    inputs: VecDeque<Vec<u8>>,
    bytes: usize,
}

impl Ring {
    /// Adds `data` as the newest input, dropping the oldest past the limits.
    pub fn push(&mut self, data: &[u8]) {
        self.inputs.push_back(data.to_vec());
        self.bytes += data.len();
        while self.inputs.len() > KEPT_INPUTS || (self.bytes > KEPT_BYTES && self.inputs.len() > 1) {
            if let Some(oldest) = self.inputs.pop_front() {
                self.bytes -= oldest.len();
            }
        }
    }

    /// The kept inputs, oldest first.
    pub fn inputs(&self) -> impl Iterator<Item = &[u8]> {
        self.inputs.iter().map(Vec::as_slice)
    }

    /// Writes the kept inputs to `folder` as `0000`, `0001`, ... (oldest
    /// first), replacing what it held.
    pub fn write(&self, folder: &Path) -> io::Result<()> {
        let _ = std::fs::remove_dir_all(folder);
        std::fs::create_dir_all(folder)?;
        for (index, input) in self.inputs.iter().enumerate() {
            std::fs::write(folder.join(format!("{index:04}")), input)?;
        }
        Ok(())
    }
}

/// This process's history, when [`DIR_VAR`] names a folder.
static HISTORY: OnceLock<Option<(PathBuf, Mutex<Ring>)>> = OnceLock::new();

/// Keeps `data` as the newest input of this process, if histories are on.
/// The first call with histories on installs the panic hook that writes
/// the history (before the hook that was there, such as libFuzzer's abort).
pub fn record(data: &[u8]) {
    let history = HISTORY.get_or_init(|| {
        let dir = std::env::var_os(DIR_VAR)?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            write_on_panic();
            previous(info);
        }));
        Some((PathBuf::from(dir), Mutex::new(Ring::default())))
    });
    if let Some((_, ring)) = history
        && let Ok(mut ring) = ring.lock()
    {
        ring.push(data);
    }
}

/// Writes this process's history to `<dir>/<pid>/`; a history that cannot
/// be written is lost, and the finding is still reported without it.
fn write_on_panic() {
    if let Some(Some((dir, ring))) = HISTORY.get()
        && let Ok(ring) = ring.try_lock()
    {
        let _ = ring.write(&dir.join(std::process::id().to_string()));
    }
}

/// The inputs that ran before `input` in the history under `dir` whose last
/// input is `input`, oldest first; `None` if no history ends with it.
pub fn preceding(dir: &Path, input: &[u8]) -> Option<Vec<PathBuf>> {
    let mut histories: Vec<PathBuf> = std::fs::read_dir(dir).ok()?.flatten().map(|entry| entry.path()).collect();
    histories.sort();
    histories.into_iter().find_map(|history| {
        let mut files: Vec<PathBuf> = std::fs::read_dir(history).ok()?.flatten().map(|entry| entry.path()).filter(|path| path.is_file()).collect();
        files.sort();
        let last = files.pop()?;
        (std::fs::read(&last).ok()? == input).then_some(files)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_inputs_within_both_limits() {
        let mut ring = Ring::default();
        for index in 0..KEPT_INPUTS + 3 {
            ring.push(&[index as u8]);
        }
        let kept: Vec<u8> = ring.inputs().map(|input| input[0]).collect();
        assert_eq!(kept, (3..KEPT_INPUTS as u8 + 3).collect::<Vec<_>>());
        ring.push(&vec![0; KEPT_BYTES - 1]);
        ring.push(&[1, 2]);
        assert_eq!(ring.inputs().map(<[u8]>::len).collect::<Vec<_>>(), [2], "past the bytes limit only the newest stays");
        ring.push(&vec![0; KEPT_BYTES + 1]);
        assert_eq!(ring.inputs().count(), 1, "the newest input is kept whatever its size");
    }

    #[test]
    fn finds_the_inputs_before_the_one_a_history_ends_with() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = Ring::default();
        for input in [b"arm".as_slice(), b"noise", b"fire"] {
            first.push(input);
        }
        first.write(&dir.path().join("17")).unwrap();
        let mut second = Ring::default();
        second.push(b"other");
        second.write(&dir.path().join("18")).unwrap();
        let before = preceding(dir.path(), b"fire").unwrap();
        let contents: Vec<Vec<u8>> = before.iter().map(|path| std::fs::read(path).unwrap()).collect();
        assert_eq!(contents, [b"arm".to_vec(), b"noise".to_vec()]);
        assert_eq!(preceding(dir.path(), b"other").unwrap(), Vec::<PathBuf>::new());
        assert_eq!(preceding(dir.path(), b"arm"), None);
        assert_eq!(preceding(&dir.path().join("absent"), b"fire"), None);
    }
}
