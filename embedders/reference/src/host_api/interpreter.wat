;; The reference ABI's half of the layer-4 interpreter (the generic half is
;; harness/src/commands/interpreter.wat). Host ops: 0 read_request,
;; 1 write_response, 2 log, 3 storage_get, 6 set_alloc(mode, param).
;;
;; alloc modes: 0 bump allocator, 1 return param, 2 trap, 3 loop forever,
;; 4 grow by param pages and return the old end of memory, 5 re-enter: switch
;; back to mode 0, perform host op param with the arguments of the call being
;; served (a host call made from inside the host's own callback), then bump.
  (import "host" "read_request" (func $read_request (param i32 i32) (result i32)))
  (import "host" "write_response" (func $write_response (param i32 i32) (result i32)))
  (import "host" "log" (func $log (param i32 i32) (result i32)))
  (import "host" "storage_get" (func $storage_get (param i32 i32 i32 i32) (result i32)))
;;@definitions
  ;; The bump pointer of alloc mode 0; the request lands here first.
  (global $bump (mut i32) (i32.const 1024))
  (global $mode (mut i32) (i32.const 0))
  (global $param (mut i32) (i32.const 0))

  (func (export "alloc") (param $len i32) (result i32)
    (local $ptr i32)
    (if (i32.eq (global.get $mode) (i32.const 1)) (then (return (global.get $param))))
    (if (i32.eq (global.get $mode) (i32.const 2)) (then unreachable))
    (if (i32.eq (global.get $mode) (i32.const 3)) (then (loop $forever (br $forever))))
    (if (i32.eq (global.get $mode) (i32.const 4))
      (then (return (i32.mul (memory.grow (global.get $param)) (i32.const 65536)))))
    (if (i32.eq (global.get $mode) (i32.const 5))
      (then (global.set $mode (i32.const 0)) (call $host (global.get $param))))
    (local.set $ptr (global.get $bump))
    (global.set $bump (i32.add (global.get $bump) (local.get $len)))
    (local.get $ptr))

  ;; Performs host op $op with the current record's arguments.
  (func $host (param $op i32)
    (if (i32.eq (local.get $op) (i32.const 0)) (then (drop (call $read_request (call $a (i32.const 0)) (call $a (i32.const 1)))) (return)))
    (if (i32.eq (local.get $op) (i32.const 1)) (then (drop (call $write_response (call $a (i32.const 0)) (call $a (i32.const 1)))) (return)))
    (if (i32.eq (local.get $op) (i32.const 2)) (then (drop (call $log (call $a (i32.const 0)) (call $a (i32.const 1)))) (return)))
    (if (i32.eq (local.get $op) (i32.const 3))
      (then (drop (call $storage_get (call $a (i32.const 0)) (call $a (i32.const 1)) (call $a (i32.const 2)) (call $a (i32.const 3)))) (return)))
    (if (i32.eq (local.get $op) (i32.const 6))
      (then (global.set $mode (call $a (i32.const 0))) (global.set $param (call $a (i32.const 1))))))
;;@entry
  (func (export "main")
    ;; Bootstrap: the request, placed by the bump allocator, slots at 0 and 4.
    (if (call $read_request (i32.const 0) (i32.const 4)) (then (return)))
    (call $run (i32.load (i32.const 0)) (i32.add (i32.load (i32.const 0)) (i32.load (i32.const 4)))))
