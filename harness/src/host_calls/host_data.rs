//! The host-data oracle: nothing a guest can observe names its host. A
//! guest observes what the host hands it (WASI's preopen names, directory
//! listings, paths, environment and arguments, error texts) only by copying
//! it into what it returns: its response, its log lines, stdout and stderr.
//! None of those may hold the sandbox's host path, the host's home
//! directory, user name, host name, working directory or `PATH`, unless
//! the request carried the same bytes itself.
//!
//! A value shorter than [`MIN_NEEDLE`] bytes is not looked for: random
//! bytes a guest draws (`random_get`) and copies out would hold it by
//! chance. So the process id (at most 7 digits) is looked for only as part
//! of the sandbox path, which holds it and is always long enough; on a
//! machine whose user is `root` in `/root` on host `vm`, those three are
//! not looked for.

use std::path::Path;

use contract::Outcome;

/// The shortest value looked for, in bytes.
pub const MIN_NEEDLE: usize = 8;

/// The host's identifying values, read once per process.
#[derive(Debug)]
pub struct HostData {
    /// What each value is, and its bytes.
    values: Vec<(&'static str, Vec<u8>)>,
}

impl Default for HostData {
    /// The values of this process and host.
    fn default() -> Self {
        let env = |name: &str| std::env::var_os(name).map(|value| value.into_encoded_bytes());
        let hostname = std::fs::read("/proc/sys/kernel/hostname").ok().map(|name| name.trim_ascii().to_vec());
        let candidates = [
            ("home directory", env("HOME")),
            ("user name", env("USER").or_else(|| env("LOGNAME"))),
            ("host name", hostname),
            ("working directory", std::env::current_dir().ok().map(|dir| dir.into_os_string().into_encoded_bytes())),
            ("PATH", env("PATH")),
        ];
        HostData::of(candidates.into_iter().filter_map(|(what, value)| Some((what, value?))))
    }
}

impl HostData {
    /// The oracle over `values`, those of at least [`MIN_NEEDLE`] bytes.
    pub fn of(values: impl IntoIterator<Item = (&'static str, Vec<u8>)>) -> HostData {
        HostData { values: values.into_iter().filter(|(_, value)| value.len() >= MIN_NEEDLE).collect() }
    }

    /// What is looked for, besides the sandbox path.
    pub fn looked_for(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.values.iter().map(|(what, _)| *what)
    }

    /// The oracle: panics with `oracle:` when the response, a log line,
    /// stdout or stderr of a run in `sandbox` holds host data the `request`
    /// does not.
    pub fn check(&self, outcome: &Outcome, request: &[u8], sandbox: &Path) {
        let sandbox_path = sandbox.as_os_str().as_encoded_bytes();
        let values = std::iter::once(("sandbox's host path", sandbox_path)).chain(self.values.iter().map(|(what, value)| (*what, value.as_slice())));
        let logs = outcome.logs.iter().map(|line| ("log lines", line.as_bytes()));
        let outputs: Vec<(&str, &[u8])> =
            [("response", outcome.response.as_slice()), ("stdout", &outcome.stdout), ("stderr", &outcome.stderr)].into_iter().chain(logs).collect();
        for (what, value) in values {
            if super::isolation::contains(request, value) {
                continue;
            }
            for (name, output) in &outputs {
                assert!(
                    !super::isolation::contains(output, value),
                    "oracle: the guest can see host data: the {what} ({}) is in the {name}",
                    String::from_utf8_lossy(value)
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::{End, Stage};

    fn host() -> HostData {
        HostData::of([("home directory", b"/home/fuzzing-user".to_vec()), ("user name", b"root".to_vec())])
    }

    fn answered(response: &[u8]) -> Outcome {
        let mut outcome = Outcome::ended(Stage::HostCall, End::Ok);
        outcome.response = response.to_vec();
        outcome
    }

    #[test]
    #[should_panic(expected = "oracle: the guest can see host data: the sandbox's host path (/dev/shm/host_calls-7-0/run-3) is in the response")]
    fn fires_on_the_sandbox_path_in_the_response() {
        host().check(&answered(b"prestat: /dev/shm/host_calls-7-0/run-3\0"), b"", Path::new("/dev/shm/host_calls-7-0/run-3"));
    }

    #[test]
    #[should_panic(expected = "the home directory (/home/fuzzing-user) is in the log lines")]
    fn fires_on_the_home_directory_in_a_log_line() {
        let mut outcome = answered(b"");
        outcome.logs.push("HOME=/home/fuzzing-user".to_owned());
        host().check(&outcome, b"", Path::new("/sandbox/run-0"));
    }

    #[test]
    fn stays_quiet_on_what_the_request_carried_and_on_short_values() {
        let sandbox = Path::new("/dev/shm/host_calls-7-0/run-3");
        host().check(&answered(b"/dev/shm/host_calls-7-0/run-3"), b"echo /dev/shm/host_calls-7-0/run-3", sandbox);
        host().check(&answered(b"root"), b"", sandbox);
        assert_eq!(host().looked_for().collect::<Vec<_>>(), ["home directory"]);
    }
}
