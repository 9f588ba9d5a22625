;; A forbidden import whose name carries a line break and a terminal escape:
;; rejected at the ABI check, with a reason that must stay one printable line
;; (the name is escaped, not written into the host's log as is).
(module
  (import "env" "f\0aINFO request served\1b[2J" (func))
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 0))
  (func (export "main")))
