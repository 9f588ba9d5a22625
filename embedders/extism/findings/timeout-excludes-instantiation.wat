;; Extism finding timeout-excludes-instantiation: a start function that
;; counts to 2^31 (seconds of work) is not stopped by `timeout_ms`, because
;; Extism instantiates the plugin before it starts the call's timer. One
;; that never ends (embedders/extism/corpus/wat/instantiate_endless_start.wat) hangs a
;; host that relies on the timeout alone.
(module
  (func $count (local $i i64)
    (loop $again
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $again (i64.lt_u (local.get $i) (i64.const 0x80000000)))))
  (start $count)
  (func (export "run") (result i32) (i32.const 0)))
