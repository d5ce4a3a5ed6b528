;; One chunk of a breadth-first layer by class rows (worker/kernels/class-bfs-wasm.ts): each
;; frontier cell's neighbours are its index plus the offsets of its class's row (cell-classes.ts),
;; read from the low 6 bits of its state byte; a neighbour whose open bit (0x80) is set is fresh.
;; Branch-free per neighbour: whether a neighbour is fresh is a coin toss on a hard lattice, so
;; every neighbour's open bit is cleared and its index written, and only a fresh one is kept.
(module
  (memory (export "memory") 1)

  ;; Expands the `count` cells listed at `front`, writing the fresh cells from `out`; returns how
  ;; many. `state` holds a byte per cell (open bit over class), `rows` the class rows of
  ;; `rowBytes` bytes each: a count, then (offset, move) pairs of i32s.
  (func (export "expand")
    (param $front i32) (param $count i32) (param $out i32) (param $state i32) (param $rows i32) (param $rowBytes i32)
    (result i32)
    (local $f i32) (local $end i32) (local $cell i32) (local $p i32) (local $stop i32)
    (local $nb i32) (local $byte i32) (local $at i32)
    (local.set $f (local.get $front))
    (local.set $end (i32.add (local.get $front) (i32.shl (local.get $count) (i32.const 2))))
    (local.set $at (local.get $out))
    (block $done
      (loop $cells
        (br_if $done (i32.ge_u (local.get $f) (local.get $end)))
        (local.set $cell (i32.load (local.get $f)))
        (local.set $p (i32.add (local.get $rows)
          (i32.mul (i32.and (i32.load8_u (i32.add (local.get $state) (local.get $cell))) (i32.const 63)) (local.get $rowBytes))))
        ;; The row's pairs are 8 bytes each, after its count: offsets at p + 4, p + 12, …
        (local.set $stop (i32.add (local.get $p) (i32.shl (i32.load (local.get $p)) (i32.const 3))))
        (block $row
          (loop $steps
            (br_if $row (i32.ge_u (local.get $p) (local.get $stop)))
            (local.set $nb (i32.add (local.get $cell) (i32.load offset=4 (local.get $p))))
            (local.set $byte (i32.load8_u (i32.add (local.get $state) (local.get $nb))))
            (i32.store8 (i32.add (local.get $state) (local.get $nb)) (i32.and (local.get $byte) (i32.const 127)))
            (i32.store (local.get $at) (local.get $nb))
            (local.set $at (i32.add (local.get $at) (i32.shl (i32.shr_u (local.get $byte) (i32.const 7)) (i32.const 2))))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (br $steps)))
        (local.set $f (i32.add (local.get $f) (i32.const 4)))
        (br $cells)))
    (i32.shr_u (i32.sub (local.get $at) (local.get $out)) (i32.const 2))))
