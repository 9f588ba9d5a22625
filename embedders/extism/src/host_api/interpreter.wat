;; Extism's half of the layer-4 interpreter (the generic half is
;; harness/src/commands/interpreter.wat). Host ops 64 to 95 call Extism's
;; kernel and host functions in the order of `crate::abi::KERNEL` then
;; `crate::abi::HOST`; op 96 `put(address, length)` copies that many bytes
;; of the interpreter's memory into a fresh kernel block (`alloc`, then a
;; `store_u8` per byte; nothing is copied if the range is outside memory).
;;
;; Arguments of a host op: argument 7 names the register (0-7) its result
;; goes to; bit i of argument 8 makes argument i the value of the register
;; it names instead of a literal, so a command can pass a handle an earlier
;; call returned. Every host op reports its result (0 for functions that
;; return nothing) through `extism:host/user.report`; so does the reading of
;; the request, once, with the `input_length` it read (the adapter sees a
;; kernel call only through a report).
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "free" (func $free (param i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "length_unsafe" (func $length_unsafe (param i64) (result i64)))
  (import "extism:host/env" "load_u8" (func $load_u8 (param i64) (result i32)))
  (import "extism:host/env" "load_u64" (func $load_u64 (param i64) (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "input_set" (func $input_set (param i64 i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_offset" (func $input_offset (result i64)))
  (import "extism:host/env" "output_length" (func $output_length (result i64)))
  (import "extism:host/env" "output_offset" (func $output_offset (result i64)))
  (import "extism:host/env" "reset" (func $reset))
  (import "extism:host/env" "error_set" (func $error_set (param i64)))
  (import "extism:host/env" "error_get" (func $error_get (result i64)))
  (import "extism:host/env" "memory_bytes" (func $memory_bytes (result i64)))
  (import "extism:host/env" "config_get" (func $config_get (param i64) (result i64)))
  (import "extism:host/env" "var_get" (func $var_get (param i64) (result i64)))
  (import "extism:host/env" "var_set" (func $var_set (param i64 i64)))
  (import "extism:host/env" "http_request" (func $http_request (param i64 i64) (result i64)))
  (import "extism:host/env" "http_status_code" (func $http_status_code (result i32)))
  (import "extism:host/env" "http_headers" (func $http_headers (result i64)))
  (import "extism:host/env" "log_warn" (func $log_warn (param i64)))
  (import "extism:host/env" "log_info" (func $log_info (param i64)))
  (import "extism:host/env" "log_debug" (func $log_debug (param i64)))
  (import "extism:host/env" "log_error" (func $log_error (param i64)))
  (import "extism:host/env" "log_trace" (func $log_trace (param i64)))
  (import "extism:host/env" "get_log_level" (func $get_log_level (result i32)))
  (import "extism:host/user" "report" (func $report (param i64)))
;;@definitions
  (global $r0 (mut i64) (i64.const 0))
  (global $r1 (mut i64) (i64.const 0))
  (global $r2 (mut i64) (i64.const 0))
  (global $r3 (mut i64) (i64.const 0))
  (global $r4 (mut i64) (i64.const 0))
  (global $r5 (mut i64) (i64.const 0))
  (global $r6 (mut i64) (i64.const 0))
  (global $r7 (mut i64) (i64.const 0))

  ;; Register $i & 7.
  (func $reg (param $i i32) (result i64)
    (block $7 (block $6 (block $5 (block $4 (block $3 (block $2 (block $1 (block $0
      (br_table $0 $1 $2 $3 $4 $5 $6 $7 (i32.and (local.get $i) (i32.const 7)))
    ) (return (global.get $r0))
    ) (return (global.get $r1))
    ) (return (global.get $r2))
    ) (return (global.get $r3))
    ) (return (global.get $r4))
    ) (return (global.get $r5))
    ) (return (global.get $r6))
    ) (global.get $r7))

  (func $set_reg (param $i i32) (param $value i64)
    (block $7 (block $6 (block $5 (block $4 (block $3 (block $2 (block $1 (block $0
      (br_table $0 $1 $2 $3 $4 $5 $6 $7 (i32.and (local.get $i) (i32.const 7)))
    ) (global.set $r0 (local.get $value)) (return)
    ) (global.set $r1 (local.get $value)) (return)
    ) (global.set $r2 (local.get $value)) (return)
    ) (global.set $r3 (local.get $value)) (return)
    ) (global.set $r4 (local.get $value)) (return)
    ) (global.set $r5 (local.get $value)) (return)
    ) (global.set $r6 (local.get $value)) (return)
    ) (global.set $r7 (local.get $value)))

  ;; Argument $i of a host op: a literal, or, if bit $i of argument 8 says so,
  ;; the register its low three bits name plus the rest of it shifted down by 8.
  (func $arg (param $i i32) (result i64)
    (if (result i64)
      (i32.and (i32.wrap_i64 (call $a64 (i32.const 8))) (i32.shl (i32.const 1) (local.get $i)))
      (then (i64.add (call $reg (call $a (local.get $i))) (i64.shr_u (call $a64 (local.get $i)) (i64.const 8))))
      (else (call $a64 (local.get $i)))))

  ;; Reports a host op's result and keeps it in the register argument 7 names.
  (func $done (param $result i64)
    (call $report (local.get $result))
    (call $set_reg (call $a (i32.const 7)) (local.get $result)))

  ;; A fresh kernel block holding the $length bytes at $address of this memory.
  (func $put (param $address i64) (param $length i64) (result i64)
    (local $block i64) (local $i i64)
    (local.set $block (call $alloc (local.get $length)))
    (if (i64.gt_u
          (i64.add (i64.and (local.get $address) (i64.const 0xffffffff)) (i64.and (local.get $length) (i64.const 0xffffffff)))
          (i64.mul (i64.extend_i32_u (memory.size)) (i64.const 65536)))
      (then (return (local.get $block))))
    (block $copied (loop $next
      (br_if $copied (i64.ge_u (local.get $i) (i64.and (local.get $length) (i64.const 0xffffffff))))
      (call $store_u8 (i64.add (local.get $block) (local.get $i))
        (i32.load8_u (i32.wrap_i64 (i64.add (local.get $address) (local.get $i)))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $next)))
    (local.get $block))

  ;; Performs host op $op with the current record's arguments.
  (func $host (param $op i32)
    (if (i32.eq (local.get $op) (i32.const 64)) (then (call $done (call $alloc (call $arg (i32.const 0)))) (return)))
    (if (i32.eq (local.get $op) (i32.const 65)) (then (call $free (call $arg (i32.const 0))) (call $done (i64.const 0)) (return)))
    (if (i32.eq (local.get $op) (i32.const 66)) (then (call $done (call $length (call $arg (i32.const 0)))) (return)))
    (if (i32.eq (local.get $op) (i32.const 67)) (then (call $done (call $length_unsafe (call $arg (i32.const 0)))) (return)))
    (if (i32.eq (local.get $op) (i32.const 68)) (then (call $done (i64.extend_i32_u (call $load_u8 (call $arg (i32.const 0))))) (return)))
    (if (i32.eq (local.get $op) (i32.const 69)) (then (call $done (call $load_u64 (call $arg (i32.const 0)))) (return)))
    (if (i32.eq (local.get $op) (i32.const 70)) (then (call $done (i64.extend_i32_u (call $input_load_u8 (call $arg (i32.const 0))))) (return)))
    (if (i32.eq (local.get $op) (i32.const 71)) (then (call $done (call $input_load_u64 (call $arg (i32.const 0)))) (return)))
    (if (i32.eq (local.get $op) (i32.const 72)) (then (call $store_u8 (call $arg (i32.const 0)) (i32.wrap_i64 (call $arg (i32.const 1)))) (call $done (i64.const 0)) (return)))
    (if (i32.eq (local.get $op) (i32.const 73)) (then (call $store_u64 (call $arg (i32.const 0)) (call $arg (i32.const 1))) (call $done (i64.const 0)) (return)))
    (if (i32.eq (local.get $op) (i32.const 74)) (then (call $input_set (call $arg (i32.const 0)) (call $arg (i32.const 1))) (call $done (i64.const 0)) (return)))
    (if (i32.eq (local.get $op) (i32.const 75)) (then (call $output_set (call $arg (i32.const 0)) (call $arg (i32.const 1))) (call $done (i64.const 0)) (return)))
    (if (i32.eq (local.get $op) (i32.const 76)) (then (call $done (call $input_length)) (return)))
    (if (i32.eq (local.get $op) (i32.const 77)) (then (call $done (call $input_offset)) (return)))
    (if (i32.eq (local.get $op) (i32.const 78)) (then (call $done (call $output_length)) (return)))
    (if (i32.eq (local.get $op) (i32.const 79)) (then (call $done (call $output_offset)) (return)))
    (if (i32.eq (local.get $op) (i32.const 80)) (then (call $reset) (call $done (i64.const 0)) (return)))
    (if (i32.eq (local.get $op) (i32.const 81)) (then (call $error_set (call $arg (i32.const 0))) (call $done (i64.const 0)) (return)))
    (if (i32.eq (local.get $op) (i32.const 82)) (then (call $done (call $error_get)) (return)))
    (if (i32.eq (local.get $op) (i32.const 83)) (then (call $done (call $memory_bytes)) (return)))
    (if (i32.eq (local.get $op) (i32.const 84)) (then (call $done (call $config_get (call $arg (i32.const 0)))) (return)))
    (if (i32.eq (local.get $op) (i32.const 85)) (then (call $done (call $var_get (call $arg (i32.const 0)))) (return)))
    (if (i32.eq (local.get $op) (i32.const 86)) (then (call $var_set (call $arg (i32.const 0)) (call $arg (i32.const 1))) (call $done (i64.const 0)) (return)))
    (if (i32.eq (local.get $op) (i32.const 87)) (then (call $done (call $http_request (call $arg (i32.const 0)) (call $arg (i32.const 1)))) (return)))
    (if (i32.eq (local.get $op) (i32.const 88)) (then (call $done (i64.extend_i32_s (call $http_status_code))) (return)))
    (if (i32.eq (local.get $op) (i32.const 89)) (then (call $done (call $http_headers)) (return)))
    (if (i32.eq (local.get $op) (i32.const 90)) (then (call $log_warn (call $arg (i32.const 0))) (call $done (i64.const 0)) (return)))
    (if (i32.eq (local.get $op) (i32.const 91)) (then (call $log_info (call $arg (i32.const 0))) (call $done (i64.const 0)) (return)))
    (if (i32.eq (local.get $op) (i32.const 92)) (then (call $log_debug (call $arg (i32.const 0))) (call $done (i64.const 0)) (return)))
    (if (i32.eq (local.get $op) (i32.const 93)) (then (call $log_error (call $arg (i32.const 0))) (call $done (i64.const 0)) (return)))
    (if (i32.eq (local.get $op) (i32.const 94)) (then (call $log_trace (call $arg (i32.const 0))) (call $done (i64.const 0)) (return)))
    (if (i32.eq (local.get $op) (i32.const 95)) (then (call $done (i64.extend_i32_s (call $get_log_level))) (return)))
    (if (i32.eq (local.get $op) (i32.const 96)) (then (call $done (call $put (call $arg (i32.const 0)) (call $arg (i32.const 1)))))))
;;@entry
  ;; The request (at most 60 KiB) into memory at 1024, eight bytes at a time
  ;; and then byte by byte, reported by its `input_length`, before the
  ;; commands run.
  (func (export "run") (result i32)
    (local $input_length i64) (local $len i32) (local $i i32)
    (local.set $input_length (call $input_length))
    (local.set $len (i32.wrap_i64 (local.get $input_length)))
    (if (i32.gt_u (local.get $len) (i32.const 61440)) (then (local.set $len (i32.const 61440))))
    (block $words (loop $next
      (br_if $words (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $len)))
      (i64.store (i32.add (i32.const 1024) (local.get $i)) (call $input_load_u64 (i64.extend_i32_u (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br $next)))
    (block $bytes (loop $next
      (br_if $bytes (i32.ge_u (local.get $i) (local.get $len)))
      (i32.store8 (i32.add (i32.const 1024) (local.get $i)) (call $input_load_u8 (i64.extend_i32_u (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (call $report (local.get $input_length))
    (call $run (i32.const 1024) (i32.add (i32.const 1024) (local.get $len)))
    (i32.const 0))
