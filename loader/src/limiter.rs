//! The `ResourceLimiter` installed in every store: caps memory, tables and
//! instances, and remembers the peak memory and which cap was hit.

use contract::{Policy, Resource};

/// Per-store resource caps, with a record of what the guest asked for.
#[derive(Debug)]
pub struct Limiter {
    max_memory_bytes: usize,
    max_table_elements: usize,
    max_instances: usize,
    max_tables: usize,
    max_memories: usize,
    /// The largest memory size granted, in bytes.
    pub peak_memory_bytes: usize,
    /// The largest table size granted, in elements.
    pub peak_table_elements: usize,
    /// The last cap that refused a request.
    pub hit: Option<Resource>,
}

impl Limiter {
    /// Caps taken from `policy`.
    pub fn new(policy: &Policy) -> Limiter {
        Limiter {
            max_memory_bytes: policy.max_memory_bytes,
            max_table_elements: policy.max_table_elements,
            max_instances: policy.max_instances,
            max_tables: policy.max_tables,
            max_memories: policy.max_memories,
            peak_memory_bytes: 0,
            peak_table_elements: 0,
            hit: None,
        }
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.max_memory_bytes {
            self.hit = Some(Resource::Memory);
            return Ok(false);
        }
        self.peak_memory_bytes = self.peak_memory_bytes.max(desired);
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.max_table_elements {
            self.hit = Some(Resource::TableElements);
            return Ok(false);
        }
        self.peak_table_elements = self.peak_table_elements.max(desired);
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.max_instances
    }

    fn tables(&self) -> usize {
        self.max_tables
    }

    fn memories(&self) -> usize {
        self.max_memories
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    #[test]
    fn refuses_growth_past_the_cap_and_records_the_peak() {
        let policy = Policy { max_memory_bytes: 2 * 65536, ..Policy::default() };
        let mut limiter = Limiter::new(&policy);
        assert!(limiter.memory_growing(0, 65536, None).unwrap());
        assert!(limiter.memory_growing(65536, 2 * 65536, None).unwrap());
        assert!(!limiter.memory_growing(2 * 65536, 3 * 65536, None).unwrap());
        assert_eq!(limiter.peak_memory_bytes, 2 * 65536);
        assert_eq!(limiter.hit, Some(Resource::Memory));
    }
}
