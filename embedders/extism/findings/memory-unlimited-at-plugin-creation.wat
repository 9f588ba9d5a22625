(module
  (type (;0;) (func))
  (type (;1;) (func (param i32)))
  (type (;2;) (func (result i64)))
  (type (;3;) (func (param i64) (result i32)))
  (type (;4;) (func (param i64) (result i64)))
  (type (;5;) (func (param i64 i32)))
  (type (;6;) (func (param i64 i64)))
  (type (;7;) (func (result i32)))
  (import "extism:host/env" "input_length" (func (;0;) (type 2)))
  (import "extism:host/env" "input_load_u8" (func (;1;) (type 3)))
  (import "extism:host/env" "alloc" (func (;2;) (type 4)))
  (import "extism:host/env" "store_u8" (func (;3;) (type 5)))
  (import "extism:host/env" "output_set" (func (;4;) (type 6)))
  (table (;0;) 1 funcref)
  (memory (;0;) 1)
  (export "run" (func 6))
  (export "memory" (memory 0))
  (start 5)
  (func (;5;) (type 0)
    i32.const 8192
    memory.grow
    drop
    i32.const 0
    i32.const 90
    memory.size
    i32.const 16
    i32.shl
    memory.fill
  )
  (func (;6;) (type 7) (result i32)
    (local i32 i32 i64)
    call 0
    i32.wrap_i64
    local.set 0
    i32.const 0
    local.set 1
    block ;; label = @1
      loop ;; label = @2
        local.get 1
        local.get 0
        i32.ge_u
        br_if 1 (;@1;)
        local.get 1
        local.get 1
        i64.extend_i32_u
        call 1
        i32.store8 offset=4096
        local.get 1
        i32.const 1
        i32.add
        local.set 1
        br 0 (;@2;)
      end
    end
    local.get 0
    drop
    i32.const 0
    table.size 0
    i32.store offset=1024
    i32.const 0
    memory.size
    i32.store offset=1028
    i64.const 8
    call 2
    local.set 2
    i32.const 0
    local.set 1
    block ;; label = @1
      loop ;; label = @2
        local.get 1
        i32.const 8
        i32.ge_u
        br_if 1 (;@1;)
        local.get 2
        local.get 1
        i64.extend_i32_u
        i64.add
        local.get 1
        i32.load8_u offset=1024
        call 3
        local.get 1
        i32.const 1
        i32.add
        local.set 1
        br 0 (;@2;)
      end
    end
    local.get 2
    i64.const 8
    call 4
    i32.const 0
  )
)
