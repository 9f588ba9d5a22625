;; Extism 1.30, with `memory.max_pages` set, refuses a memory that reaches
;; its declared maximum: this valid plugin, whose one memory starts at its
;; maximum of one page, fails every call with "oom" before `run` starts.
;; The same check makes `memory.grow` to (or past) a declared maximum trap
;; instead of succeeding (or returning -1).
(module
  (memory (export "memory") 1 1)
  (func (export "run") (result i32)
    (i32.const 0)))
