;; Imports a function no Extism host defines: refused when the plugin is linked.
(module
  (import "env" "exec" (func $exec (param i32) (result i32)))
  (func (export "run") (result i32) (call $exec (i32.const 0))))
