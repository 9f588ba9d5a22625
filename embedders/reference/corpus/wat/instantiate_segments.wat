;; Active segments run at instantiation: an element segment fills the end of
;; a table at its element cap, a data segment fills the last bytes of
;; memory, and the last data segment is out of bounds, so instantiation
;; traps after the segments before it took effect.
(module
  (memory (export "memory") 1 1)
  (table 10000 funcref)
  (func $f)
  (elem (i32.const 9996) func $f $f $f $f)
  (data (i32.const 65532) "\01\02\03\04")
  (data (i32.const 65535) "past the end")
  (func (export "alloc") (param i32) (result i32) (i32.const 0))
  (func (export "main")))
