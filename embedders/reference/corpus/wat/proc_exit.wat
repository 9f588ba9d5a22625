;; Ends through WASI proc_exit with a non-zero code: End::Exit(3).
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 0))
  (func (export "main") (call $proc_exit (i32.const 3))))
