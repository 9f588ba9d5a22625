;; Never returns: the fuel limit or the timeout must end it.
(module
  (func (export "run") (result i32)
    (loop $forever (br $forever))
    (i32.const 0)))
