;; One layer of the one-thread breadth-first search (worker/kernels/flat-bfs-wasm.ts): each
;; frontier cell's neighbours are checked against 3 bits of state (marks: blocked or end side;
;; the layer code's low and high bit planes interleaved word by word), fresh ones stamped with
;; the new layer's code and listed. Branch-free per neighbour: whether a cell is fresh is a coin
;; toss on hard lattices. Layout and the meaning of each argument: flat-bfs-wasm.ts.
(module
  (memory (export "memory") 1)

  ;; Expands frontier cells [from, count) listed at `front`, appending fresh cells at `out` after
  ;; the `n` already there. Inner axes (1..d-1) are `inner` entries of 24 bytes at `axes`: stride,
  ;; period, wrap step (or 0), the period's division shift and magic (i64; flat-bfs-wasm.ts); the
  ;; row length's magic and shift are at addresses 16 and 24, so no cell costs a division.
  ;; Returns 0 when done, 1 on a meeting, 2 when a cell's obstacle block and its neighbours are
  ;; not materialised yet (`near` byte 0); the cell's index goes to address 0, the cells written
  ;; to address 4 and the block to address 8.
  (func (export "expand")
    (param $front i32) (param $from i32) (param $count i32) (param $out i32) (param $n i32)
    (param $rowCells i32) (param $lastRow i32) (param $wrapRowStep i32) (param $nowhere i32)
    (param $axes i32) (param $inner i32) (param $near i32) (param $blockShift i32)
    (param $low i32) (param $high i32) (param $end i32) (param $marks i32) (param $codes i32)
    (result i32)
    (local $f i32) (local $cell i32) (local $row i32) (local $p i32) (local $a i32) (local $t i32)
    (local $stride i32) (local $period i32) (local $wrap i32) (local $q i32) (local $nb i32)
    ;; The visit of one neighbour (written out four times below, as a call costs more than it).
    (local $bit i32) (local $ma i32) (local $ca i32) (local $mark i32) (local $lo i32) (local $hi i32)
    (local $seen i32) (local $fresh i32)
    ;; Non-zero once a step landed on a cell the other side reached.
    (local $met i32)
    (local $rowMagic i64) (local $rowShift i64)
    (local.set $rowMagic (i64.load (i32.const 16)))
    (local.set $rowShift (i64.extend_i32_u (i32.load (i32.const 24))))
    (local.set $f (local.get $from))
    (block $done
      (loop $cells
        (br_if $done (i32.ge_u (local.get $f) (local.get $count)))
        (local.set $cell (i32.load (i32.add (local.get $front) (i32.shl (local.get $f) (i32.const 2)))))
        (local.set $row (i32.wrap_i64 (i64.shr_u
          (i64.mul (i64.extend_i32_u (local.get $cell)) (local.get $rowMagic)) (local.get $rowShift))))
        (if (i32.eqz (i32.load8_u (i32.add (local.get $near) (i32.shr_u (local.get $row) (local.get $blockShift)))))
          (then
            (i32.store (i32.const 0) (local.get $f))
            (i32.store (i32.const 4) (local.get $n))
            (i32.store (i32.const 8) (i32.shr_u (local.get $row) (local.get $blockShift)))
            (return (i32.const 2))))
        ;; Axis 0: steps off the lattice land on `nowhere`, a blocked cell past the last.
        (local.set $nb
          (if (result i32) (i32.gt_u (local.get $row) (i32.const 0))
            (then (i32.sub (local.get $cell) (local.get $rowCells)))
            (else (if (result i32) (local.get $wrapRowStep)
              (then (i32.add (local.get $cell) (local.get $wrapRowStep)))
              (else (local.get $nowhere))))))
        (local.set $bit (i32.shl (i32.const 1) (i32.and (local.get $nb) (i32.const 31))))
        (local.set $ma (i32.add (local.get $marks) (i32.shl (i32.shr_u (local.get $nb) (i32.const 5)) (i32.const 2))))
        (local.set $ca (i32.add (local.get $codes) (i32.shl (i32.shr_u (local.get $nb) (i32.const 5)) (i32.const 3))))
        (local.set $mark (i32.load (local.get $ma)))
        (local.set $lo (i32.load (local.get $ca)))
        (local.set $hi (i32.load offset=4 (local.get $ca)))
        (local.set $seen (i32.or (local.get $lo) (local.get $hi)))
        (local.set $fresh (i32.and (local.get $bit) (i32.xor (i32.or (local.get $mark) (local.get $seen)) (i32.const -1))))
        (i32.store (local.get $ca) (i32.or (local.get $lo) (i32.and (local.get $fresh) (local.get $low))))
        (i32.store offset=4 (local.get $ca) (i32.or (local.get $hi) (i32.and (local.get $fresh) (local.get $high))))
        (i32.store (local.get $ma) (i32.or (local.get $mark) (i32.and (local.get $fresh) (local.get $end))))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $nb))
        (local.set $met (i32.or (local.get $met) (i32.and (i32.and (local.get $seen) (local.get $bit)) (i32.xor (local.get $mark) (local.get $end)))))
        (local.set $n (i32.add (local.get $n) (i32.ne (local.get $fresh) (i32.const 0))))
        (local.set $nb
          (if (result i32) (i32.lt_u (local.get $row) (local.get $lastRow))
            (then (i32.add (local.get $cell) (local.get $rowCells)))
            (else (if (result i32) (local.get $wrapRowStep)
              (then (i32.sub (local.get $cell) (local.get $wrapRowStep)))
              (else (local.get $nowhere))))))
        (local.set $bit (i32.shl (i32.const 1) (i32.and (local.get $nb) (i32.const 31))))
        (local.set $ma (i32.add (local.get $marks) (i32.shl (i32.shr_u (local.get $nb) (i32.const 5)) (i32.const 2))))
        (local.set $ca (i32.add (local.get $codes) (i32.shl (i32.shr_u (local.get $nb) (i32.const 5)) (i32.const 3))))
        (local.set $mark (i32.load (local.get $ma)))
        (local.set $lo (i32.load (local.get $ca)))
        (local.set $hi (i32.load offset=4 (local.get $ca)))
        (local.set $seen (i32.or (local.get $lo) (local.get $hi)))
        (local.set $fresh (i32.and (local.get $bit) (i32.xor (i32.or (local.get $mark) (local.get $seen)) (i32.const -1))))
        (i32.store (local.get $ca) (i32.or (local.get $lo) (i32.and (local.get $fresh) (local.get $low))))
        (i32.store offset=4 (local.get $ca) (i32.or (local.get $hi) (i32.and (local.get $fresh) (local.get $high))))
        (i32.store (local.get $ma) (i32.or (local.get $mark) (i32.and (local.get $fresh) (local.get $end))))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $nb))
        (local.set $met (i32.or (local.get $met) (i32.and (i32.and (local.get $seen) (local.get $bit)) (i32.xor (local.get $mark) (local.get $end)))))
        (local.set $n (i32.add (local.get $n) (i32.ne (local.get $fresh) (i32.const 0))))
        ;; Inner axes: the offset in the row, reduced by each axis's period.
        (local.set $p (i32.sub (local.get $cell) (i32.mul (local.get $row) (local.get $rowCells))))
        (local.set $a (i32.const 0))
        (local.set $t (local.get $axes))
        (block $axesDone
          (loop $axis
            (br_if $axesDone (i32.ge_u (local.get $a) (local.get $inner)))
            (local.set $stride (i32.load (local.get $t)))
            (local.set $period (i32.load offset=4 (local.get $t)))
            (local.set $wrap (i32.load offset=8 (local.get $t)))
            (local.set $q
              (if (result i32) (local.get $a)
                (then (i32.sub (local.get $p) (i32.mul (local.get $period) (i32.wrap_i64 (i64.shr_u
                  (i64.mul (i64.extend_i32_u (local.get $p)) (i64.load offset=16 (local.get $t)))
                  (i64.extend_i32_u (i32.load offset=12 (local.get $t))))))))
                (else (local.get $p))))
            (local.set $nb
              (if (result i32) (i32.ge_u (local.get $q) (local.get $stride))
                (then (i32.sub (local.get $cell) (local.get $stride)))
                (else (if (result i32) (local.get $wrap)
                  (then (i32.add (local.get $cell) (local.get $wrap)))
                  (else (local.get $nowhere))))))
            (local.set $bit (i32.shl (i32.const 1) (i32.and (local.get $nb) (i32.const 31))))
            (local.set $ma (i32.add (local.get $marks) (i32.shl (i32.shr_u (local.get $nb) (i32.const 5)) (i32.const 2))))
            (local.set $ca (i32.add (local.get $codes) (i32.shl (i32.shr_u (local.get $nb) (i32.const 5)) (i32.const 3))))
            (local.set $mark (i32.load (local.get $ma)))
            (local.set $lo (i32.load (local.get $ca)))
            (local.set $hi (i32.load offset=4 (local.get $ca)))
            (local.set $seen (i32.or (local.get $lo) (local.get $hi)))
            (local.set $fresh (i32.and (local.get $bit) (i32.xor (i32.or (local.get $mark) (local.get $seen)) (i32.const -1))))
            (i32.store (local.get $ca) (i32.or (local.get $lo) (i32.and (local.get $fresh) (local.get $low))))
            (i32.store offset=4 (local.get $ca) (i32.or (local.get $hi) (i32.and (local.get $fresh) (local.get $high))))
            (i32.store (local.get $ma) (i32.or (local.get $mark) (i32.and (local.get $fresh) (local.get $end))))
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $nb))
            (local.set $met (i32.or (local.get $met) (i32.and (i32.and (local.get $seen) (local.get $bit)) (i32.xor (local.get $mark) (local.get $end)))))
            (local.set $n (i32.add (local.get $n) (i32.ne (local.get $fresh) (i32.const 0))))
            (local.set $nb
              (if (result i32) (i32.lt_u (local.get $q) (i32.sub (local.get $period) (local.get $stride)))
                (then (i32.add (local.get $cell) (local.get $stride)))
                (else (if (result i32) (local.get $wrap)
                  (then (i32.sub (local.get $cell) (local.get $wrap)))
                  (else (local.get $nowhere))))))
            (local.set $bit (i32.shl (i32.const 1) (i32.and (local.get $nb) (i32.const 31))))
            (local.set $ma (i32.add (local.get $marks) (i32.shl (i32.shr_u (local.get $nb) (i32.const 5)) (i32.const 2))))
            (local.set $ca (i32.add (local.get $codes) (i32.shl (i32.shr_u (local.get $nb) (i32.const 5)) (i32.const 3))))
            (local.set $mark (i32.load (local.get $ma)))
            (local.set $lo (i32.load (local.get $ca)))
            (local.set $hi (i32.load offset=4 (local.get $ca)))
            (local.set $seen (i32.or (local.get $lo) (local.get $hi)))
            (local.set $fresh (i32.and (local.get $bit) (i32.xor (i32.or (local.get $mark) (local.get $seen)) (i32.const -1))))
            (i32.store (local.get $ca) (i32.or (local.get $lo) (i32.and (local.get $fresh) (local.get $low))))
            (i32.store offset=4 (local.get $ca) (i32.or (local.get $hi) (i32.and (local.get $fresh) (local.get $high))))
            (i32.store (local.get $ma) (i32.or (local.get $mark) (i32.and (local.get $fresh) (local.get $end))))
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $nb))
            (local.set $met (i32.or (local.get $met) (i32.and (i32.and (local.get $seen) (local.get $bit)) (i32.xor (local.get $mark) (local.get $end)))))
            (local.set $n (i32.add (local.get $n) (i32.ne (local.get $fresh) (i32.const 0))))
            (local.set $a (i32.add (local.get $a) (i32.const 1)))
            (local.set $t (i32.add (local.get $t) (i32.const 24)))
            (br $axis)))
        (if (local.get $met)
          (then
            (i32.store (i32.const 0) (local.get $f))
            (i32.store (i32.const 4) (local.get $n))
            (return (i32.const 1))))
        (local.set $f (i32.add (local.get $f) (i32.const 1)))
        (br $cells)))
    (i32.store (i32.const 4) (local.get $n))
    (i32.const 0)))
