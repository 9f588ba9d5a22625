;; Its start function never returns. Extism instantiates a plugin lazily,
;; inside the call but before it starts the call's timer: only the fuel
;; limit ends it.
(module
  (func $forever (loop $again (br $again)))
  (start $forever)
  (func (export "run") (result i32) (i32.const 0)))
