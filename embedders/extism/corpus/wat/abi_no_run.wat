;; Exports no run function: refused when it is called.
(module
  (func (export "main")))
