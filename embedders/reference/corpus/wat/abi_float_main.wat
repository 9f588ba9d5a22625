;; `main` with float parameters: rejected at the ABI check (main takes nothing).
(module
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 0))
  (func (export "main") (param f32 f64)))
