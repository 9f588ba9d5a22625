;; Fails with its own message: "no" in a kernel block, set as the error.
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "error_set" (func $error_set (param i64)))
  (func (export "run") (result i32)
    (local $block i64)
    (local.set $block (call $alloc (i64.const 2)))
    (call $store_u8 (local.get $block) (i32.const 110))
    (call $store_u8 (i64.add (local.get $block) (i64.const 1)) (i32.const 111))
    (call $error_set (local.get $block))
    (i32.const 1)))
