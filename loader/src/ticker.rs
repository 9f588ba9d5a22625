//! One background thread per engine that advances its epoch, so that epoch
//! deadlines measure wall-clock time.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

/// Advances an engine's epoch every tick until dropped.
#[derive(Debug)]
pub struct EpochTicker {
    // Dropping the sender disconnects the channel, which stops the thread.
    _stop: Sender<()>,
}

impl EpochTicker {
    /// Starts the thread for `engine`.
    pub fn start(engine: wasmtime::Engine, tick: Duration) -> std::io::Result<EpochTicker> {
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new().name("epoch-ticker".to_owned()).spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(tick) {
                engine.increment_epoch();
            }
        })?;
        Ok(EpochTicker { _stop: stop })
    }
}
