;; Its start function never returns: instantiation itself must be metered
;; (fuel or the deadline), before `main` is ever called.
(module
  (memory (export "memory") 1)
  (func $forever (loop $again (br $again)))
  (start $forever)
  (func (export "alloc") (param i32) (result i32) (i32.const 0))
  (func (export "main")))
