;; Extism 1.30 bounds only a plugin's memory growth by `memory.max_pages`:
;; the initial memory is not counted. With max_pages = 256 (16 MiB), this
;; plugin starts with 256 pages, grows by 256 more, and holds 32 MiB.
;; Its output is the suite's probe response: 8 bytes of digest (0), then
;; the memory size in pages (u32, little-endian), written through the
;; kernel's `store_u8`.
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 256)
  (func (export "run") (result i32)
    (local $block i64) (local $i i64) (local $pages i64)
    (drop (memory.grow (i32.const 256)))
    (local.set $pages (i64.extend_i32_u (memory.size)))
    (local.set $block (call $alloc (i64.const 12)))
    (block $done (loop $next
      (br_if $done (i64.ge_u (local.get $i) (i64.const 12)))
      (call $store_u8
        (i64.add (local.get $block) (local.get $i))
        (i32.wrap_i64
          (if (result i64) (i64.lt_u (local.get $i) (i64.const 8))
            (then (i64.const 0))
            (else (i64.shr_u (local.get $pages) (i64.mul (i64.sub (local.get $i) (i64.const 8)) (i64.const 8)))))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $next)))
    (call $output_set (local.get $block) (i64.const 12))
    (i32.const 0)))
