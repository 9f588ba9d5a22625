;; Recurses without end: the wasm stack (Policy::max_wasm_stack) runs out
;; long before the fuel does, so it ends in a StackOverflow trap.
(module
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 0))
  (func $down (param i32) (call $down (i32.add (local.get 0) (i32.const 1))))
  (func (export "main") (call $down (i32.const 0))))
