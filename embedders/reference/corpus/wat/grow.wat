;; Grows memory until refused, then fills and copies across it (bulk memory).
(module
  (memory (export "memory") 1 1024)
  (func (export "alloc") (param i32) (result i32) (i32.const 0))
  (func (export "main")
    (loop (br_if 0 (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
    (memory.fill (i32.const 0) (i32.const 7) (i32.const 4096))
    (memory.copy (i32.const 8192) (i32.const 0) (i32.const 4096))))
