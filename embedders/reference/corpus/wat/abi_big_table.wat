;; A table larger than the policy allows (10,000 elements): rejected at the ABI check.
(module
  (memory (export "memory") 1)
  (table 20000 funcref)
  (func (export "alloc") (param i32) (result i32) (i32.const 0))
  (func (export "main")))
