//! The coverage floor: the loader's line coverage from the seed corpora,
//! checked in, so that CI notices when a change loses coverage.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// How far below the floor coverage may fall before the check fails, in points
/// (replays touch a few timing-dependent lines, such as the epoch deadline).
pub const TOLERANCE_POINTS: f64 = 0.5;

/// The floor file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Floor {
    /// The loader's line coverage, in percent, over all targets combined.
    pub loader_lines_percent: f64,
    /// What it was measured on, for people.
    pub measured_on: String,
}

/// What the check concluded.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Within the tolerance.
    Holds,
    /// Above the floor by more than the tolerance: it should be raised.
    Rose,
    /// Below the floor by more than the tolerance.
    Dropped,
}

impl Floor {
    /// Reads a floor file.
    pub fn read(path: &Path) -> Result<Floor> {
        let text = std::fs::read_to_string(path).with_context(|| format!("coverage floor {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("coverage floor {}", path.display()))
    }

    /// Writes it as pretty JSON.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(path, text + "\n").with_context(|| format!("coverage floor {}", path.display()))
    }

    /// Compares a measured line coverage with the floor.
    pub fn check(&self, measured_percent: f64) -> Verdict {
        if measured_percent < self.loader_lines_percent - TOLERANCE_POINTS {
            Verdict::Dropped
        } else if measured_percent > self.loader_lines_percent + TOLERANCE_POINTS {
            Verdict::Rose
        } else {
            Verdict::Holds
        }
    }
}

/// Rounds a percentage to one decimal, as the floor file stores it.
pub fn rounded(percent: f64) -> f64 {
    (percent * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floor(percent: f64) -> Floor {
        Floor { loader_lines_percent: percent, measured_on: "seeds".to_owned() }
    }

    #[test]
    fn half_a_point_either_way_holds() {
        assert_eq!(floor(90.0).check(89.6), Verdict::Holds);
        assert_eq!(floor(90.0).check(90.4), Verdict::Holds);
    }

    #[test]
    fn more_than_half_a_point_below_drops_and_above_rises() {
        assert_eq!(floor(90.0).check(89.4), Verdict::Dropped);
        assert_eq!(floor(90.0).check(90.6), Verdict::Rose);
    }

    #[test]
    fn the_file_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("floor.json");
        floor(87.3).write(&path).unwrap();
        assert_eq!(Floor::read(&path).unwrap(), floor(87.3));
        std::fs::write(&path, "{").unwrap();
        assert!(Floor::read(&path).unwrap_err().to_string().contains("floor.json"));
    }
}
