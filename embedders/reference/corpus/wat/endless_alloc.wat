;; `main` asks for the request; the host calls back into `alloc` to place
;; it, and `alloc` never returns: guest code the host runs from inside a
;; host call must be metered too.
(module
  (import "host" "read_request" (func $read_request (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32)
    (loop $again (br $again))
    (i32.const 0))
  (func (export "main")
    (drop (call $read_request (i32.const 0) (i32.const 4)))))
