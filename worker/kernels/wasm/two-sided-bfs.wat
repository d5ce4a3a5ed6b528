;; One layer of one side of the two-thread breadth-first search (worker/kernels/two-sided-bfs.ts):
;; the start side and the end side each run in their own thread over one shared memory. A cell's
;; state is a nibble, 16 cells to a 64-bit word: bit 0 start side (or blocked), bit 1 end side (or
;; blocked), bits 2-3 the layer code (1 + layer mod 3). A side claims a free cell by one
;; compare-exchange of its word, so the two sides never both claim a cell nor lose each other's
;; writes, and a side stepping onto a cell of the other side sees it at once (no half-written
;; state). Each thread has its own region (results, the row's division magic, the axes table,
;; the chunk buffers; the same layout as flat-bfs-wasm.ts's header).
(module
  (import "env" "memory" (memory 1 32768 shared))

  ;; Expands frontier cells [from, count) listed at `front` for side `side` (0 start, 1 end):
  ;; lists the neighbours that look free at `out` after the `n` already there, writing no
  ;; state (`claim` claims them next; a cell may be listed twice). `res` is the thread's region: the row length's magic (i64) and shift at res+16 and
  ;; res+24, the inner axes (`inner` entries of 24 bytes: stride, period, wrap step or 0, the
  ;; period's division shift and magic) at res+32. Returns 0 when done, 1 after a cell with a
  ;; neighbour of the other side (its index in the chunk at res+0; the cells written, always, at res+4).
  (func (export "expand")
    (param $front i32) (param $from i32) (param $count i32) (param $out i32) (param $n i32)
    (param $rowCells i32) (param $lastRow i32) (param $wrapRowStep i32) (param $nowhere i32)
    (param $res i32) (param $inner i32) (param $side i32) (param $state i32)
    (result i32)
    (local $f i32) (local $cell i32) (local $row i32) (local $p i32) (local $a i32) (local $t i32)
    (local $stride i32) (local $period i32) (local $wrap i32) (local $q i32) (local $nb i32)
    (local $nib i32) (local $other i32)
    (local $met i32)
    (local $rowMagic i64) (local $rowShift i64)
    (local.set $other (i32.xor (local.get $side) (i32.const 1)))
    (local.set $rowMagic (i64.load offset=16 (local.get $res)))
    (local.set $rowShift (i64.extend_i32_u (i32.load offset=24 (local.get $res))))
    (local.set $f (local.get $from))
    (block $done
      (loop $cells
        (br_if $done (i32.ge_u (local.get $f) (local.get $count)))
        (local.set $cell (i32.load (i32.add (local.get $front) (i32.shl (local.get $f) (i32.const 2)))))
        (local.set $row (i32.wrap_i64 (i64.shr_u
          (i64.mul (i64.extend_i32_u (local.get $cell)) (local.get $rowMagic)) (local.get $rowShift))))
        ;; Axis 0: steps off the lattice land on `nowhere`, a blocked cell past the last.
        (local.set $nb
          (if (result i32) (i32.gt_u (local.get $row) (i32.const 0))
            (then (i32.sub (local.get $cell) (local.get $rowCells)))
            (else (if (result i32) (local.get $wrapRowStep)
              (then (i32.add (local.get $cell) (local.get $wrapRowStep)))
              (else (local.get $nowhere))))))
        ;; Look at $nb: listed as a candidate when free (claimed by `claim` afterwards), a meeting when
        ;; the other side's (its bit without this side's); branch-free.
        (local.set $nib (i32.wrap_i64 (i64.shr_u
          (i64.atomic.load (i32.add (local.get $state) (i32.shl (i32.shr_u (local.get $nb) (i32.const 4)) (i32.const 3))))
          (i64.extend_i32_u (i32.shl (i32.and (local.get $nb) (i32.const 15)) (i32.const 2))))))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $nb))
        (local.set $n (i32.add (local.get $n) (i32.eqz (i32.and (local.get $nib) (i32.const 3)))))
        (local.set $met (i32.or (local.get $met)
          (i32.and (i32.shr_u (local.get $nib) (local.get $other)) (i32.xor (i32.shr_u (local.get $nib) (local.get $side)) (i32.const -1)))))
        (local.set $nb
          (if (result i32) (i32.lt_u (local.get $row) (local.get $lastRow))
            (then (i32.add (local.get $cell) (local.get $rowCells)))
            (else (if (result i32) (local.get $wrapRowStep)
              (then (i32.sub (local.get $cell) (local.get $wrapRowStep)))
              (else (local.get $nowhere))))))
        ;; Look at $nb: listed as a candidate when free (claimed by `claim` afterwards), a meeting when
        ;; the other side's (its bit without this side's); branch-free.
        (local.set $nib (i32.wrap_i64 (i64.shr_u
          (i64.atomic.load (i32.add (local.get $state) (i32.shl (i32.shr_u (local.get $nb) (i32.const 4)) (i32.const 3))))
          (i64.extend_i32_u (i32.shl (i32.and (local.get $nb) (i32.const 15)) (i32.const 2))))))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $nb))
        (local.set $n (i32.add (local.get $n) (i32.eqz (i32.and (local.get $nib) (i32.const 3)))))
        (local.set $met (i32.or (local.get $met)
          (i32.and (i32.shr_u (local.get $nib) (local.get $other)) (i32.xor (i32.shr_u (local.get $nib) (local.get $side)) (i32.const -1)))))
        ;; Inner axes: the offset in the row, reduced by each axis's period.
        (local.set $p (i32.sub (local.get $cell) (i32.mul (local.get $row) (local.get $rowCells))))
        (local.set $a (i32.const 0))
        (local.set $t (i32.add (local.get $res) (i32.const 32)))
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
            ;; Look at $nb: listed as a candidate when free (claimed by `claim` afterwards), a meeting when
            ;; the other side's (its bit without this side's); branch-free.
            (local.set $nib (i32.wrap_i64 (i64.shr_u
              (i64.atomic.load (i32.add (local.get $state) (i32.shl (i32.shr_u (local.get $nb) (i32.const 4)) (i32.const 3))))
              (i64.extend_i32_u (i32.shl (i32.and (local.get $nb) (i32.const 15)) (i32.const 2))))))
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $nb))
            (local.set $n (i32.add (local.get $n) (i32.eqz (i32.and (local.get $nib) (i32.const 3)))))
            (local.set $met (i32.or (local.get $met)
              (i32.and (i32.shr_u (local.get $nib) (local.get $other)) (i32.xor (i32.shr_u (local.get $nib) (local.get $side)) (i32.const -1)))))
            (local.set $nb
              (if (result i32) (i32.lt_u (local.get $q) (i32.sub (local.get $period) (local.get $stride)))
                (then (i32.add (local.get $cell) (local.get $stride)))
                (else (if (result i32) (local.get $wrap)
                  (then (i32.sub (local.get $cell) (local.get $wrap)))
                  (else (local.get $nowhere))))))
            ;; Look at $nb: listed as a candidate when free (claimed by `claim` afterwards), a meeting when
            ;; the other side's (its bit without this side's); branch-free.
            (local.set $nib (i32.wrap_i64 (i64.shr_u
              (i64.atomic.load (i32.add (local.get $state) (i32.shl (i32.shr_u (local.get $nb) (i32.const 4)) (i32.const 3))))
              (i64.extend_i32_u (i32.shl (i32.and (local.get $nb) (i32.const 15)) (i32.const 2))))))
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $nb))
            (local.set $n (i32.add (local.get $n) (i32.eqz (i32.and (local.get $nib) (i32.const 3)))))
            (local.set $met (i32.or (local.get $met)
              (i32.and (i32.shr_u (local.get $nib) (local.get $other)) (i32.xor (i32.shr_u (local.get $nib) (local.get $side)) (i32.const -1)))))
            (local.set $a (i32.add (local.get $a) (i32.const 1)))
            (local.set $t (i32.add (local.get $t) (i32.const 24)))
            (br $axis)))
        (if (i32.and (local.get $met) (i32.const 1))
          (then
            (i32.store (local.get $res) (local.get $f))
            (i32.store offset=4 (local.get $res) (local.get $n))
            (return (i32.const 1))))
        (local.set $f (i32.add (local.get $f) (i32.const 1)))
        (br $cells)))
    (i32.store offset=4 (local.get $res) (local.get $n))
    (i32.const 0))
  ;; Claims the `n` cells listed at `out` for this side with nibble `val`, one compare-exchange
  ;; of the cell's 64-bit word each (retried when the other side changed another cell of the word
  ;; meanwhile). Cells claimed are compacted to the front of the list; a cell the other side
  ;; claimed first goes to `contested`; one this side already has (listed twice) is dropped.
  ;; Returns the cells claimed; the contested count goes to res+8.
  (func (export "claim")
    (param $out i32) (param $n i32) (param $contested i32) (param $res i32) (param $side i32) (param $val i64) (param $state i32)
    (result i32)
    (local $i i32) (local $k i32) (local $c i32) (local $nb i32) (local $wa i32) (local $sh i64) (local $w i64) (local $old i64) (local $nib i32)
    (block $done
      (loop $cells
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $nb (i32.load (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $wa (i32.add (local.get $state) (i32.shl (i32.shr_u (local.get $nb) (i32.const 4)) (i32.const 3))))
        (local.set $sh (i64.extend_i32_u (i32.shl (i32.and (local.get $nb) (i32.const 15)) (i32.const 2))))
        (local.set $w (i64.atomic.load (local.get $wa)))
        (block $visited
          (loop $claim
            (local.set $nib (i32.wrap_i64 (i64.shr_u (local.get $w) (local.get $sh))))
            (if (i32.and (local.get $nib) (i32.const 3))
              (then
                (if (i32.and (i32.shr_u (local.get $nib) (local.get $side)) (i32.const 1))
                  (then (br $visited)))
                (i32.store (i32.add (local.get $contested) (i32.shl (local.get $c) (i32.const 2))) (local.get $nb))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $visited)))
            (local.set $old (i64.atomic.rmw.cmpxchg (local.get $wa) (local.get $w)
              (i64.or (local.get $w) (i64.shl (local.get $val) (local.get $sh)))))
            (if (i64.ne (local.get $old) (local.get $w))
              (then (local.set $w (local.get $old)) (br $claim)))
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 2))) (local.get $nb))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $cells)))
    (i32.store offset=8 (local.get $res) (local.get $c))
    (local.get $k))
  ;; As `expand`, claiming as it goes with plain byte stores (no compare-exchange, no second
  ;; pass): for cells the other side cannot be writing near (two-sided-bfs.ts › plain claims).
  ;; `val` is this side's nibble for the new layer; `sink` a scratch byte of this thread's region.
  (func (export "expandPlain")
    (param $front i32) (param $from i32) (param $count i32) (param $out i32) (param $n i32)
    (param $rowCells i32) (param $lastRow i32) (param $wrapRowStep i32) (param $nowhere i32)
    (param $res i32) (param $inner i32) (param $side i32) (param $state i32) (param $val i32) (param $sink i32)
    (param $tiles i32) (param $tileRowShift i32) (param $tileColShift i32) (param $tilesPerRow i32)
    (result i32)
    (local $f i32) (local $cell i32) (local $row i32) (local $p i32) (local $a i32) (local $t i32)
    (local $stride i32) (local $period i32) (local $wrap i32) (local $q i32) (local $nb i32)
    (local $nib i32) (local $other i32) (local $ba i32) (local $sh i32) (local $byte i32) (local $fresh i32)
    (local $met i32) (local $tile i32)
    (local $rowMagic i64) (local $rowShift i64)
    (local.set $other (i32.xor (local.get $side) (i32.const 1)))
    (local.set $rowMagic (i64.load offset=16 (local.get $res)))
    (local.set $rowShift (i64.extend_i32_u (i32.load offset=24 (local.get $res))))
    (local.set $f (local.get $from))
    (block $done
      (loop $cells
        (br_if $done (i32.ge_u (local.get $f) (local.get $count)))
        (local.set $cell (i32.load (i32.add (local.get $front) (i32.shl (local.get $f) (i32.const 2)))))
        (local.set $row (i32.wrap_i64 (i64.shr_u
          (i64.mul (i64.extend_i32_u (local.get $cell)) (local.get $rowMagic)) (local.get $rowShift))))
        (local.set $p (i32.sub (local.get $cell) (i32.mul (local.get $row) (local.get $rowCells))))
        ;; The cell's tile must carry this side's mark (set, and the other side's marks around it
        ;; checked, by two-sided-bfs.ts) before any byte near it is written.
        (local.set $tile (i32.add
          (i32.mul (i32.shr_u (local.get $row) (local.get $tileRowShift)) (local.get $tilesPerRow))
          (i32.shr_u (local.get $p) (local.get $tileColShift))))
        (if (i32.eqz (i32.and (i32.load8_u (i32.add (local.get $tiles) (local.get $tile))) (i32.shl (i32.const 1) (local.get $side))))
          (then
            (i32.store (local.get $res) (local.get $f))
            (i32.store offset=4 (local.get $res) (local.get $n))
            (i32.store offset=8 (local.get $res) (local.get $tile))
            (return (i32.const 2))))
        (local.set $nb
          (if (result i32) (i32.gt_u (local.get $row) (i32.const 0))
            (then (i32.sub (local.get $cell) (local.get $rowCells)))
            (else (if (result i32) (local.get $wrapRowStep)
              (then (i32.add (local.get $cell) (local.get $wrapRowStep)))
              (else (local.get $nowhere))))))
        ;; Claim $nb with a plain byte store when free (the store goes to the scratch byte
        ;; `sink` otherwise, so no byte of a cell not claimed here is written), list it when
        ;; claimed, note a meeting when it is the other side's.
        (local.set $ba (i32.add (local.get $state) (i32.shr_u (local.get $nb) (i32.const 1))))
        (local.set $sh (i32.shl (i32.and (local.get $nb) (i32.const 1)) (i32.const 2)))
        (local.set $byte (i32.load8_u (local.get $ba)))
        (local.set $nib (i32.shr_u (local.get $byte) (local.get $sh)))
        (local.set $fresh (i32.eqz (i32.and (local.get $nib) (i32.const 3))))
        (i32.store8 (select (local.get $ba) (local.get $sink) (local.get $fresh))
          (i32.or (local.get $byte) (i32.shl (local.get $val) (local.get $sh))))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $nb))
        (local.set $n (i32.add (local.get $n) (local.get $fresh)))
        (local.set $met (i32.or (local.get $met)
          (i32.and (i32.shr_u (local.get $nib) (local.get $other)) (i32.xor (i32.shr_u (local.get $nib) (local.get $side)) (i32.const -1)))))
        (local.set $nb
          (if (result i32) (i32.lt_u (local.get $row) (local.get $lastRow))
            (then (i32.add (local.get $cell) (local.get $rowCells)))
            (else (if (result i32) (local.get $wrapRowStep)
              (then (i32.sub (local.get $cell) (local.get $wrapRowStep)))
              (else (local.get $nowhere))))))
        ;; Claim $nb with a plain byte store when free (the store goes to the scratch byte
        ;; `sink` otherwise, so no byte of a cell not claimed here is written), list it when
        ;; claimed, note a meeting when it is the other side's.
        (local.set $ba (i32.add (local.get $state) (i32.shr_u (local.get $nb) (i32.const 1))))
        (local.set $sh (i32.shl (i32.and (local.get $nb) (i32.const 1)) (i32.const 2)))
        (local.set $byte (i32.load8_u (local.get $ba)))
        (local.set $nib (i32.shr_u (local.get $byte) (local.get $sh)))
        (local.set $fresh (i32.eqz (i32.and (local.get $nib) (i32.const 3))))
        (i32.store8 (select (local.get $ba) (local.get $sink) (local.get $fresh))
          (i32.or (local.get $byte) (i32.shl (local.get $val) (local.get $sh))))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $nb))
        (local.set $n (i32.add (local.get $n) (local.get $fresh)))
        (local.set $met (i32.or (local.get $met)
          (i32.and (i32.shr_u (local.get $nib) (local.get $other)) (i32.xor (i32.shr_u (local.get $nib) (local.get $side)) (i32.const -1)))))
        (local.set $a (i32.const 0))
        (local.set $t (i32.add (local.get $res) (i32.const 32)))
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
            ;; Claim $nb with a plain byte store when free (the store goes to the scratch byte
            ;; `sink` otherwise, so no byte of a cell not claimed here is written), list it when
            ;; claimed, note a meeting when it is the other side's.
            (local.set $ba (i32.add (local.get $state) (i32.shr_u (local.get $nb) (i32.const 1))))
            (local.set $sh (i32.shl (i32.and (local.get $nb) (i32.const 1)) (i32.const 2)))
            (local.set $byte (i32.load8_u (local.get $ba)))
            (local.set $nib (i32.shr_u (local.get $byte) (local.get $sh)))
            (local.set $fresh (i32.eqz (i32.and (local.get $nib) (i32.const 3))))
            (i32.store8 (select (local.get $ba) (local.get $sink) (local.get $fresh))
              (i32.or (local.get $byte) (i32.shl (local.get $val) (local.get $sh))))
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $nb))
            (local.set $n (i32.add (local.get $n) (local.get $fresh)))
            (local.set $met (i32.or (local.get $met)
              (i32.and (i32.shr_u (local.get $nib) (local.get $other)) (i32.xor (i32.shr_u (local.get $nib) (local.get $side)) (i32.const -1)))))
            (local.set $nb
              (if (result i32) (i32.lt_u (local.get $q) (i32.sub (local.get $period) (local.get $stride)))
                (then (i32.add (local.get $cell) (local.get $stride)))
                (else (if (result i32) (local.get $wrap)
                  (then (i32.sub (local.get $cell) (local.get $wrap)))
                  (else (local.get $nowhere))))))
            ;; Claim $nb with a plain byte store when free (the store goes to the scratch byte
            ;; `sink` otherwise, so no byte of a cell not claimed here is written), list it when
            ;; claimed, note a meeting when it is the other side's.
            (local.set $ba (i32.add (local.get $state) (i32.shr_u (local.get $nb) (i32.const 1))))
            (local.set $sh (i32.shl (i32.and (local.get $nb) (i32.const 1)) (i32.const 2)))
            (local.set $byte (i32.load8_u (local.get $ba)))
            (local.set $nib (i32.shr_u (local.get $byte) (local.get $sh)))
            (local.set $fresh (i32.eqz (i32.and (local.get $nib) (i32.const 3))))
            (i32.store8 (select (local.get $ba) (local.get $sink) (local.get $fresh))
              (i32.or (local.get $byte) (i32.shl (local.get $val) (local.get $sh))))
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $nb))
            (local.set $n (i32.add (local.get $n) (local.get $fresh)))
            (local.set $met (i32.or (local.get $met)
              (i32.and (i32.shr_u (local.get $nib) (local.get $other)) (i32.xor (i32.shr_u (local.get $nib) (local.get $side)) (i32.const -1)))))
            (local.set $a (i32.add (local.get $a) (i32.const 1)))
            (local.set $t (i32.add (local.get $t) (i32.const 24)))
            (br $axis)))
        (if (i32.and (local.get $met) (i32.const 1))
          (then
            (i32.store (local.get $res) (local.get $f))
            (i32.store offset=4 (local.get $res) (local.get $n))
            (return (i32.const 1))))
        (local.set $f (i32.add (local.get $f) (i32.const 1)))
        (br $cells)))
    (i32.store offset=4 (local.get $res) (local.get $n))
    (i32.const 0))

  ;; The procedural obstacles (shared/lattice/lowbias32.ts: cell i blocked when lowbias32(h0 + i)
  ;; < threshold, unsigned) as nibbles, 32 cells (16 bytes) a group: `groups` groups from byte
  ;; `at`, blocked cells 3, open ones 0. Lane j of a group builds the word of cells 8j..8j+7, one
  ;; nibble per pass, so the 4 words are stored at once with no shuffle.
  (func (export "materialise") (param $at i32) (param $groups i32) (param $h0 i32) (param $threshold i32)
    (local $g i32) (local $k i32) (local $t v128) (local $h v128) (local $x v128) (local $nib v128) (local $acc v128)
    (local.set $t (i32x4.splat (local.get $threshold)))
    (block $done
      (loop $group
        (br_if $done (i32.ge_u (local.get $g) (local.get $groups)))
        (local.set $h (i32x4.add (i32x4.splat (i32.add (local.get $h0) (i32.shl (local.get $g) (i32.const 5)))) (v128.const i32x4 0 8 16 24)))
        (local.set $nib (i32x4.splat (i32.const 3)))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (loop $cell
          (local.set $x (v128.xor (local.get $h) (i32x4.shr_u (local.get $h) (i32.const 16))))
          (local.set $x (i32x4.mul (local.get $x) (i32x4.splat (i32.const 0x7feb352d))))
          (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 15))))
          (local.set $x (i32x4.mul (local.get $x) (i32x4.splat (i32.const 0x846ca68b))))
          (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 16))))
          (local.set $acc (v128.or (local.get $acc) (v128.and (i32x4.lt_u (local.get $x) (local.get $t)) (local.get $nib))))
          (local.set $nib (i32x4.shl (local.get $nib) (i32.const 4)))
          (local.set $h (i32x4.add (local.get $h) (i32x4.splat (i32.const 1))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $cell (i32.lt_u (local.get $k) (i32.const 8))))
        (v128.store (i32.add (local.get $at) (i32.shl (local.get $g) (i32.const 4))) (local.get $acc))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (br $group))))
)
