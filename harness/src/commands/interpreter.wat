;; The generic half of every layer-4 interpreter. `commands::interpreter`
;; puts the ABI's fragments where the `;;@` markers are and generates the
;; WASI imports and arms from `commands::wasi::FUNCTIONS`.
;;
;; Request layout: a sequence of records, each `op: u32` then nine `u64`
;; arguments (76 bytes); a `write` record (op 4) is followed by its payload
;; of `arg1` bytes. Ops: 4 write(address, length), 5 grow(pages), 16 + k
;; the k-th WASI function; every other op is the ABI's (`$host`). Unknown
;; ops are skipped; a truncated record ends the list.
(module
;;@imports
;;@wasi-imports
  (memory (export "memory") 2)

  ;; The record being performed.
  (global $cmd (mut i32) (i32.const 0))

;;@definitions

  ;; Argument $i of the current record, as i64 and as i32.
  (func $a64 (param $i i32) (result i64)
    (i64.load (i32.add (global.get $cmd) (i32.add (i32.const 4) (i32.shl (local.get $i) (i32.const 3))))))
  (func $a (param $i i32) (result i32)
    (i32.wrap_i64 (call $a64 (local.get $i))))

  ;; Copies $len bytes from $src to $dst if the destination fits in memory.
  (func $write (param $dst i32) (param $src i32) (param $len i32)
    (if (i64.le_u
          (i64.add (i64.extend_i32_u (local.get $dst)) (i64.extend_i32_u (local.get $len)))
          (i64.mul (i64.extend_i32_u (memory.size)) (i64.const 65536)))
      (then (memory.copy (local.get $dst) (local.get $src) (local.get $len)))))

  ;; Performs op $op (but a write) with the current record's arguments.
  (func $exec (param $op i32)
    (if (i32.eq (local.get $op) (i32.const 5)) (then (drop (memory.grow (call $a (i32.const 0)))) (return)))
;;@wasi-arms
    (call $host (local.get $op)))

  ;; Performs every command in [$cursor, $end).
  (func $run (param $cursor i32) (param $end i32)
    (local $op i32) (local $len i32)
    (block $done
      (loop $next
        (br_if $done (i32.lt_u (i32.sub (local.get $end) (local.get $cursor)) (i32.const 76)))
        (global.set $cmd (local.get $cursor))
        (local.set $cursor (i32.add (local.get $cursor) (i32.const 76)))
        (local.set $op (i32.load (global.get $cmd)))
        (if (i32.eq (local.get $op) (i32.const 4))
          (then
            (local.set $len (call $a (i32.const 1)))
            (br_if $done (i32.gt_u (local.get $len) (i32.sub (local.get $end) (local.get $cursor))))
            (call $write (call $a (i32.const 0)) (local.get $cursor) (local.get $len))
            (local.set $cursor (i32.add (local.get $cursor) (local.get $len))))
          (else (call $exec (local.get $op))))
        (br $next))))

;;@entry
)
