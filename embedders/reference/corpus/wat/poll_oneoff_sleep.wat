;; Asks WASI poll_oneoff to wait 10 s on the monotonic clock: the host thread
;; sleeps inside the call, where neither fuel nor the epoch deadline reaches.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "main")
    ;; One subscription at 0: userdata 0, tag 0 (clock), clock 1 (monotonic),
    ;; timeout 10 s, precision 0, flags 0 (relative).
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (i64.const 10000000000))
    (drop (call $poll_oneoff (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))))
