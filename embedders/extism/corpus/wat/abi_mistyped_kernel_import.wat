;; Imports the kernel's alloc with 32-bit types: refused when the plugin is linked.
(module
  (import "extism:host/env" "alloc" (func $alloc (param i32) (result i32)))
  (func (export "run") (result i32) (call $alloc (i32.const 1))))
