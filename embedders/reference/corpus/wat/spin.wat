;; Loops forever: ends out of fuel.
(module
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 0))
  (func (export "main") (loop (br 0))))
