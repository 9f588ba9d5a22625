;; Calls write_response more often than the policy allows: ends with
;; LimitExceeded(HostCalls) once the host-call cap (10,000) is passed.
(module
  (import "host" "write_response" (func $write_response (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 0))
  (func (export "main")
    (loop (drop (call $write_response (i32.const 0) (i32.const 1))) (br 0))))
