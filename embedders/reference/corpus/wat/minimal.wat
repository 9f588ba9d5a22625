;; The smallest module the ABI accepts.
(module
  (memory (export "memory") 0)
  (func (export "alloc") (param i32) (result i32) (i32.const 0))
  (func (export "main")))
