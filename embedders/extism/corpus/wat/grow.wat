;; Grows its memory a page at a time until the cap refuses.
(module
  (memory (export "memory") 1)
  (func (export "run") (result i32)
    (block $refused (loop $next
      (br_if $refused (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
      (br $next)))
    (i32.const 0)))
