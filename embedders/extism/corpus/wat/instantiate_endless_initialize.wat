;; A WASI reactor whose `_initialize` never returns. Extism calls it right
;; after instantiating the plugin, before the call's timer starts: only the
;; fuel limit ends it.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_initialize") (loop $again (br $again)))
  (func (export "run") (result i32) (i32.const 0)))
