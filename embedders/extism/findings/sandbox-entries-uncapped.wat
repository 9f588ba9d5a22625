(module
  (type (;0;) (func))
  (type (;1;) (func (param i32)))
  (type (;2;) (func (result i64)))
  (type (;3;) (func (param i64) (result i32)))
  (type (;4;) (func (param i64) (result i64)))
  (type (;5;) (func (param i64 i32)))
  (type (;6;) (func (param i64 i64)))
  (type (;7;) (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (type (;8;) (func (param i32 i32 i32) (result i32)))
  (type (;9;) (func (param i32) (result i32)))
  (type (;10;) (func (result i32)))
  (import "extism:host/env" "input_length" (func (;0;) (type 2)))
  (import "extism:host/env" "input_load_u8" (func (;1;) (type 3)))
  (import "extism:host/env" "alloc" (func (;2;) (type 4)))
  (import "extism:host/env" "store_u8" (func (;3;) (type 5)))
  (import "extism:host/env" "output_set" (func (;4;) (type 6)))
  (import "wasi_snapshot_preview1" "path_open" (func (;5;) (type 7)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func (;6;) (type 8)))
  (import "wasi_snapshot_preview1" "fd_close" (func (;7;) (type 9)))
  (table (;0;) 1 funcref)
  (memory (;0;) 1)
  (global (;0;) (mut i32) i32.const 0)
  (export "run" (func 9))
  (export "memory" (memory 0))
  (func (;8;) (type 0)
    (local i32 i32)
    i32.const 0
    i32.const 100
    i32.store8 offset=512
    i32.const 3000
    local.set 0
    i32.const 3
    local.set 1
    block ;; label = @1
      loop ;; label = @2
        local.get 0
        i32.eqz
        br_if 1 (;@1;)
        local.get 0
        i32.const 1
        i32.sub
        local.set 0
        local.get 1
        i32.const 512
        i32.const 1
        call 6
        i32.eqz
        if ;; label = @3
          global.get 0
          i32.const 1
          i32.add
          global.set 0
        end
        local.get 1
        i32.const 0
        i32.const 512
        i32.const 1
        i32.const 2
        i64.const 536870847
        i64.const 536870847
        i32.const 0
        i32.const 516
        call 5
        br_if 1 (;@1;)
        local.get 1
        i32.const 3
        i32.ne
        if ;; label = @3
          local.get 1
          call 7
          drop
        end
        i32.const 0
        i32.load offset=516
        local.set 1
        br 0 (;@2;)
      end
    end
  )
  (func (;9;) (type 10) (result i32)
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
    call 8
    i32.const 0
    table.size 0
    i32.store offset=1024
    i32.const 0
    memory.size
    i32.store offset=1028
    i32.const 0
    global.get 0
    i32.store offset=1032
    i64.const 12
    call 2
    local.set 2
    i32.const 0
    local.set 1
    block ;; label = @1
      loop ;; label = @2
        local.get 1
        i32.const 12
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
    i64.const 12
    call 4
    i32.const 0
  )
)
