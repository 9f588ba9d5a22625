;; call_indirect through a function of another type: traps with BadSignature.
(module
  (type $void (func))
  (memory (export "memory") 1)
  (table 1 funcref)
  (elem (i32.const 0) $takes_i32)
  (func $takes_i32 (param i32))
  (func (export "alloc") (param i32) (result i32) (i32.const 0))
  (func (export "main") (call_indirect (type $void) (i32.const 0))))
