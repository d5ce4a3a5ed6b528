;; One chunk of a layer of one side of the two-thread search in the brick layout of a 3-D lattice
;; (worker/kernels/two-sided-bricks.ts; the layout: brick-layout.ts). As wasm/two-sided-bfs.wat
;; (the row layout): a cell's state is a nibble, 16 cells to a 64-bit word (bit 0 start side or
;; blocked, bit 1 end side or blocked, bits 2-3 the layer code 1 + layer mod 3), and a side claims a
;; free cell by one compare-exchange of its word. A cell is brick·512 + l0·64 + l1·8 + l2; a step
;; leaving its brick goes to the neighbouring brick's far face (512 cells along axis 2, $step1
;; along axis 1, $step0 along axis 0). The padding around the lattice is blocked (nibble 3), so no
;; step leaves the bricks and there is no boundary test.
(module
  (import "env" "memory" (memory 1 32768 shared))

  ;; Expands frontier cells [from, count) listed at `front` for side `side` (0 start, 1 end),
  ;; listing the neighbours that look free at `out` after the `n` already there (no state written;
  ;; a cell may be listed twice). Returns 0 when done, 1 after a cell with a neighbour of the other
  ;; side (its index in the chunk at res+0); the cells written go to res+4 either way.
  (func (export "expand")
    (param $front i32) (param $from i32) (param $count i32) (param $out i32) (param $n i32)
    (param $step1 i32) (param $step0 i32) (param $res i32) (param $side i32) (param $state i32)
    (result i32)
    (local $f i32) (local $cell i32) (local $t i32) (local $nb i32) (local $nib i32) (local $other i32) (local $met i32)
    (local.set $other (i32.xor (local.get $side) (i32.const 1)))
    (local.set $f (local.get $from))
    (block $done
      (loop $cells
        (br_if $done (i32.ge_u (local.get $f) (local.get $count)))
        (local.set $cell (i32.load (i32.add (local.get $front) (i32.shl (local.get $f) (i32.const 2)))))
        ;; Axis 2: within the brick, or across to the neighbouring brick's far face.
        (local.set $t (i32.and (local.get $cell) (i32.const 7)))
        (local.set $nb (select
          (i32.sub (local.get $cell) (i32.const 1))
          (i32.add (i32.sub (local.get $cell) (i32.const 512)) (i32.const 7))
          (local.get $t)))
        ;; Look at $nb: a candidate when free (claimed by `claim` next), a meeting when the other side's.
        (local.set $nib (i32.wrap_i64 (i64.shr_u
          (i64.atomic.load (i32.add (local.get $state) (i32.shl (i32.shr_u (local.get $nb) (i32.const 4)) (i32.const 3))))
          (i64.extend_i32_u (i32.shl (i32.and (local.get $nb) (i32.const 15)) (i32.const 2))))))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $nb))
        (local.set $n (i32.add (local.get $n) (i32.eqz (i32.and (local.get $nib) (i32.const 3)))))
        (local.set $met (i32.or (local.get $met)
          (i32.and (i32.shr_u (local.get $nib) (local.get $other)) (i32.xor (i32.shr_u (local.get $nib) (local.get $side)) (i32.const -1)))))
        (local.set $nb (select
          (i32.sub (i32.add (local.get $cell) (i32.const 512)) (i32.const 7))
          (i32.add (local.get $cell) (i32.const 1))
          (i32.eq (local.get $t) (i32.const 7))))
        ;; Look at $nb: a candidate when free (claimed by `claim` next), a meeting when the other side's.
        (local.set $nib (i32.wrap_i64 (i64.shr_u
          (i64.atomic.load (i32.add (local.get $state) (i32.shl (i32.shr_u (local.get $nb) (i32.const 4)) (i32.const 3))))
          (i64.extend_i32_u (i32.shl (i32.and (local.get $nb) (i32.const 15)) (i32.const 2))))))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $nb))
        (local.set $n (i32.add (local.get $n) (i32.eqz (i32.and (local.get $nib) (i32.const 3)))))
        (local.set $met (i32.or (local.get $met)
          (i32.and (i32.shr_u (local.get $nib) (local.get $other)) (i32.xor (i32.shr_u (local.get $nib) (local.get $side)) (i32.const -1)))))
        ;; Axis 1: within the brick, or across to the neighbouring brick's far face.
        (local.set $t (i32.and (local.get $cell) (i32.const 56)))
        (local.set $nb (select
          (i32.sub (local.get $cell) (i32.const 8))
          (i32.add (i32.sub (local.get $cell) (local.get $step1)) (i32.const 56))
          (local.get $t)))
        ;; Look at $nb: a candidate when free (claimed by `claim` next), a meeting when the other side's.
        (local.set $nib (i32.wrap_i64 (i64.shr_u
          (i64.atomic.load (i32.add (local.get $state) (i32.shl (i32.shr_u (local.get $nb) (i32.const 4)) (i32.const 3))))
          (i64.extend_i32_u (i32.shl (i32.and (local.get $nb) (i32.const 15)) (i32.const 2))))))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $nb))
        (local.set $n (i32.add (local.get $n) (i32.eqz (i32.and (local.get $nib) (i32.const 3)))))
        (local.set $met (i32.or (local.get $met)
          (i32.and (i32.shr_u (local.get $nib) (local.get $other)) (i32.xor (i32.shr_u (local.get $nib) (local.get $side)) (i32.const -1)))))
        (local.set $nb (select
          (i32.sub (i32.add (local.get $cell) (local.get $step1)) (i32.const 56))
          (i32.add (local.get $cell) (i32.const 8))
          (i32.eq (local.get $t) (i32.const 56))))
        ;; Look at $nb: a candidate when free (claimed by `claim` next), a meeting when the other side's.
        (local.set $nib (i32.wrap_i64 (i64.shr_u
          (i64.atomic.load (i32.add (local.get $state) (i32.shl (i32.shr_u (local.get $nb) (i32.const 4)) (i32.const 3))))
          (i64.extend_i32_u (i32.shl (i32.and (local.get $nb) (i32.const 15)) (i32.const 2))))))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $nb))
        (local.set $n (i32.add (local.get $n) (i32.eqz (i32.and (local.get $nib) (i32.const 3)))))
        (local.set $met (i32.or (local.get $met)
          (i32.and (i32.shr_u (local.get $nib) (local.get $other)) (i32.xor (i32.shr_u (local.get $nib) (local.get $side)) (i32.const -1)))))
        ;; Axis 0: within the brick, or across to the neighbouring brick's far face.
        (local.set $t (i32.and (local.get $cell) (i32.const 448)))
        (local.set $nb (select
          (i32.sub (local.get $cell) (i32.const 64))
          (i32.add (i32.sub (local.get $cell) (local.get $step0)) (i32.const 448))
          (local.get $t)))
        ;; Look at $nb: a candidate when free (claimed by `claim` next), a meeting when the other side's.
        (local.set $nib (i32.wrap_i64 (i64.shr_u
          (i64.atomic.load (i32.add (local.get $state) (i32.shl (i32.shr_u (local.get $nb) (i32.const 4)) (i32.const 3))))
          (i64.extend_i32_u (i32.shl (i32.and (local.get $nb) (i32.const 15)) (i32.const 2))))))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $nb))
        (local.set $n (i32.add (local.get $n) (i32.eqz (i32.and (local.get $nib) (i32.const 3)))))
        (local.set $met (i32.or (local.get $met)
          (i32.and (i32.shr_u (local.get $nib) (local.get $other)) (i32.xor (i32.shr_u (local.get $nib) (local.get $side)) (i32.const -1)))))
        (local.set $nb (select
          (i32.sub (i32.add (local.get $cell) (local.get $step0)) (i32.const 448))
          (i32.add (local.get $cell) (i32.const 64))
          (i32.eq (local.get $t) (i32.const 448))))
        ;; Look at $nb: a candidate when free (claimed by `claim` next), a meeting when the other side's.
        (local.set $nib (i32.wrap_i64 (i64.shr_u
          (i64.atomic.load (i32.add (local.get $state) (i32.shl (i32.shr_u (local.get $nb) (i32.const 4)) (i32.const 3))))
          (i64.extend_i32_u (i32.shl (i32.and (local.get $nb) (i32.const 15)) (i32.const 2))))))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $nb))
        (local.set $n (i32.add (local.get $n) (i32.eqz (i32.and (local.get $nib) (i32.const 3)))))
        (local.set $met (i32.or (local.get $met)
          (i32.and (i32.shr_u (local.get $nib) (local.get $other)) (i32.xor (i32.shr_u (local.get $nib) (local.get $side)) (i32.const -1)))))
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
  ;; Returns the cells claimed; the contested count goes to res+8. (As wasm/two-sided-bfs.wat's.)
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

  ;; The procedural obstacles (shared/lattice/lowbias32.ts: cell i blocked when lowbias32(h0 + i)
  ;; < threshold, unsigned; 0 hashes nothing) of slab `k0` (brick planes 8·k0 .. 8·k0 + 7 of axis 0)
  ;; as nibbles at `at`, blocked cells and the padding 3, open cells 0; every word of the slab is
  ;; stored. A group is 4 lines of 8 cells along axis 2 in one brick, lines l1 .. l1 + 3 of plane
  ;; l0: 4 consecutive 32-bit words, one lane each, so it is one store. Lane j hashes lattice row
  ;; x1 + j (hash inputs n2 apart), one cell a pass, and ORs 3 into nibble l2 when blocked
  ;; (as wasm/two-sided-bfs.wat's `materialise`). Padded cells are OR-ed from masks: a plane or a
  ;; lane outside the lattice all 3s (no hash), and per brick column the cells before x2 = 0
  ;; and from x2 = n2 (the same nibbles in every lane).
  (func (export "materialise")
    (param $at i32) (param $k0 i32) (param $n0 i32) (param $n1 i32) (param $n2 i32)
    (param $b1 i32) (param $b2 i32) (param $h0 i32) (param $threshold i32)
    (local $l0 i32) (local $x0 i32) (local $planeOpen i32) (local $k1 i32) (local $half i32) (local $x1 i32)
    (local $k2 i32) (local $e i32) (local $edge i32) (local $addr i32) (local $k i32) (local $hashed i32)
    (local $lanes v128) (local $row v128) (local $t v128) (local $h v128) (local $x v128) (local $nib v128) (local $acc v128)
    (local.set $t (i32x4.splat (local.get $threshold)))
    (loop $plane
      (local.set $x0 (i32.sub (i32.add (i32.shl (local.get $k0) (i32.const 3)) (local.get $l0)) (i32.const 1)))
      (local.set $planeOpen (i32.lt_u (local.get $x0) (local.get $n0)))
      (local.set $k1 (i32.const 0))
      (loop $brickRow
        (local.set $half (i32.const 0))
        (loop $group
          (local.set $x1 (i32.sub (i32.add (i32.shl (local.get $k1) (i32.const 3)) (i32.shl (local.get $half) (i32.const 2))) (i32.const 1)))
          ;; Lanes outside the lattice along axis 1 (or the whole plane along axis 0): all 3s.
          (local.set $lanes (v128.and
            (i32x4.ge_u (i32x4.add (i32x4.splat (local.get $x1)) (v128.const i32x4 0 1 2 3)) (i32x4.splat (local.get $n1)))
            (i32x4.splat (i32.const 0x33333333))))
          (if (i32.eqz (local.get $planeOpen)) (then (local.set $lanes (i32x4.splat (i32.const 0x33333333)))))
          (local.set $hashed (i32.and (i32.ne (local.get $threshold) (i32.const 0)) (i32.eqz (i32x4.all_true (local.get $lanes)))))
          ;; Hash input of lane j's cell x2 = -1: ((x0·n1 + x1 + j)·n2 - 1 + h0) mod 2^32.
          (local.set $row (i32x4.add
            (i32x4.splat (i32.add (i32.sub (i32.mul (i32.add (i32.mul (local.get $x0) (local.get $n1)) (local.get $x1)) (local.get $n2)) (i32.const 1)) (local.get $h0)))
            (i32x4.mul (v128.const i32x4 0 1 2 3) (i32x4.splat (local.get $n2)))))
          (local.set $addr (i32.add (local.get $at) (i32.add
            (i32.shl (i32.mul (local.get $k1) (local.get $b2)) (i32.const 8))
            (i32.shl (i32.add (i32.shl (local.get $l0) (i32.const 3)) (i32.shl (local.get $half) (i32.const 2))) (i32.const 2)))))
          (local.set $k2 (i32.const 0))
          (loop $brick
            ;; The padding along axis 2: nibble 0 of the first brick (x2 = -1), nibbles from
            ;; e = n2 + 1 - 8·k2 on (x2 ≥ n2).
            (local.set $e (i32.sub (i32.add (local.get $n2) (i32.const 1)) (i32.shl (local.get $k2) (i32.const 3))))
            (local.set $edge (select (i32.const 0x33333333) (i32.const 0) (i32.le_s (local.get $e) (i32.const 0))))
            (if (i32.and (i32.gt_s (local.get $e) (i32.const 0)) (i32.lt_s (local.get $e) (i32.const 8)))
              (then (local.set $edge (i32.shl (i32.const 0x33333333) (i32.shl (local.get $e) (i32.const 2))))))
            (if (i32.eqz (local.get $k2)) (then (local.set $edge (i32.or (local.get $edge) (i32.const 3)))))
            (local.set $acc (v128.or (local.get $lanes) (i32x4.splat (local.get $edge))))
            (if (local.get $hashed)
              (then
                (local.set $h (i32x4.add (local.get $row) (i32x4.splat (i32.shl (local.get $k2) (i32.const 3)))))
                (local.set $nib (i32x4.splat (i32.const 3)))
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
                  (br_if $cell (i32.lt_u (local.get $k) (i32.const 8))))))
            (v128.store (local.get $addr) (local.get $acc))
            (local.set $addr (i32.add (local.get $addr) (i32.const 256)))
            (local.set $k2 (i32.add (local.get $k2) (i32.const 1)))
            (br_if $brick (i32.lt_u (local.get $k2) (local.get $b2))))
          (local.set $half (i32.add (local.get $half) (i32.const 1)))
          (br_if $group (i32.lt_u (local.get $half) (i32.const 2))))
        (local.set $k1 (i32.add (local.get $k1) (i32.const 1)))
        (br_if $brickRow (i32.lt_u (local.get $k1) (local.get $b1))))
      (local.set $l0 (i32.add (local.get $l0) (i32.const 1)))
      (br_if $plane (i32.lt_u (local.get $l0) (i32.const 8)))))
)
