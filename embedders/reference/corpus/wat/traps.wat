;; Divides by zero through a table call, after a start function.
(module
  (type $binary (func (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 0) $div)
  (global $seen (mut i32) (i32.const 0))
  (func $start (global.set $seen (i32.const 1)))
  (start $start)
  (func $div (type $binary) (i32.div_u (local.get 0) (local.get 1)))
  (func (export "alloc") (param i32) (result i32) (i32.const 0))
  (func (export "main")
    (drop (call_indirect (type $binary) (i32.const 1) (i32.const 0) (i32.const 0)))))
