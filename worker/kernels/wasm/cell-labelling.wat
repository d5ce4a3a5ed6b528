;; Every cell's cluster label, for the components artefact (worker/kernels/component-labels.ts,
;; which lays out this module's memory and grows it as runs accumulate). Runs of open cells are
;; found a row of axis 0 at a time from the row's open bits and kept for the whole lattice, each a
;; record of its start, end (on its line) and union-find parent; each run is joined with the runs
;; it overlaps on the neighbour lines of its row and on the same line of the previous row (and
;; across periodic seams). A link always points at the smaller run, so a cluster's root is its
;; first run in row-major order, and numbering roots in run order numbers clusters by first cell,
;; as scipy.ndimage.label does. Then each row's labels are painted out.
(module
  (memory (export "memory") 1)

  (global $lines (mut i32) (i32.const 0))
  (global $perLine (mut i32) (i32.const 0))
  (global $lineCells (mut i32) (i32.const 0))
  (global $wrapLine (mut i32) (i32.const 0))
  ;; Int32 per (row, line): its first run, then one past the last row (rows·lines + 1 of them).
  (global $lineFirst (mut i32) (i32.const 0))
  ;; Int32: per line its first entry in joinList (lines + 1), then the lines of the row it joins.
  (global $joinFirst (mut i32) (i32.const 0))
  (global $joinList (mut i32) (i32.const 0))
  ;; The row's open bits (line k in words [k·perLine, (k+1)·perLine), bits past its end 0).
  (global $block (mut i32) (i32.const 0))
  ;; Run records of 12 bytes: start, end, parent (after `number`, the label).
  (global $runs (mut i32) (i32.const 0))
  (global $count (mut i32) (i32.const 0))

  (func (export "init")
    (param $lines i32) (param $perLine i32) (param $lineCells i32) (param $wrapLine i32)
    (param $lineFirst i32) (param $joinFirst i32) (param $joinList i32) (param $block i32) (param $runs i32)
    (global.set $lines (local.get $lines))
    (global.set $perLine (local.get $perLine))
    (global.set $lineCells (local.get $lineCells))
    (global.set $wrapLine (local.get $wrapLine))
    (global.set $lineFirst (local.get $lineFirst))
    (global.set $joinFirst (local.get $joinFirst))
    (global.set $joinList (local.get $joinList))
    (global.set $block (local.get $block))
    (global.set $runs (local.get $runs))
    (global.set $count (i32.const 0)))

  ;; The root of run x, halving the path on the way.
  (func $find (param $x i32) (result i32)
    (local $p i32) (local $up i32)
    (block $root
      (loop $climb
        (local.set $p (i32.load offset=8 (i32.add (global.get $runs) (i32.mul (local.get $x) (i32.const 12)))))
        (br_if $root (i32.eq (local.get $p) (local.get $x)))
        (local.set $up (i32.load offset=8 (i32.add (global.get $runs) (i32.mul (local.get $p) (i32.const 12)))))
        (i32.store offset=8 (i32.add (global.get $runs) (i32.mul (local.get $x) (i32.const 12))) (local.get $up))
        (local.set $x (local.get $up))
        (br $climb)))
    (local.get $x))

  ;; Joins the clusters of runs a and b: the larger root points at the smaller.
  (func $union (param $a i32) (param $b i32)
    (local $ra i32) (local $rb i32)
    (local.set $ra (call $find (local.get $a)))
    (local.set $rb (call $find (local.get $b)))
    (if (i32.lt_u (local.get $ra) (local.get $rb))
      (then (i32.store offset=8 (i32.add (global.get $runs) (i32.mul (local.get $rb) (i32.const 12))) (local.get $ra))))
    (if (i32.lt_u (local.get $rb) (local.get $ra))
      (then (i32.store offset=8 (i32.add (global.get $runs) (i32.mul (local.get $ra) (i32.const 12))) (local.get $rb)))))

  ;; Joins the runs [a, a1) of one line with those of [b, b1) of a neighbour line that they overlap,
  ;; walking both lists in order.
  (func $joinRuns (param $a i32) (param $a1 i32) (param $b i32) (param $b1 i32)
    (local $pa i32) (local $pb i32) (local $ea i32) (local $eb i32) (local $x i32) (local $y i32) (local $p i32) (local $up i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $a1)))
        (br_if $done (i32.ge_u (local.get $b) (local.get $b1)))
        (local.set $pa (i32.add (global.get $runs) (i32.mul (local.get $a) (i32.const 12))))
        (local.set $pb (i32.add (global.get $runs) (i32.mul (local.get $b) (i32.const 12))))
        (local.set $ea (i32.load offset=4 (local.get $pa)))
        (local.set $eb (i32.load offset=4 (local.get $pb)))
        ;; They overlap unless one ends before the other starts.
        (if (i32.and (i32.gt_u (local.get $ea) (i32.load (local.get $pb))) (i32.gt_u (local.get $eb) (i32.load (local.get $pa))))
          (then
            ;; The two roots, found inline (a call per find costs more than the find).
            (local.set $x (local.get $a))
            (block $xRoot
              (loop $xClimb
                (local.set $p (i32.load offset=8 (i32.add (global.get $runs) (i32.mul (local.get $x) (i32.const 12)))))
                (br_if $xRoot (i32.eq (local.get $p) (local.get $x)))
                (local.set $up (i32.load offset=8 (i32.add (global.get $runs) (i32.mul (local.get $p) (i32.const 12)))))
                (i32.store offset=8 (i32.add (global.get $runs) (i32.mul (local.get $x) (i32.const 12))) (local.get $up))
                (local.set $x (local.get $up))
                (br $xClimb)))
            (local.set $y (local.get $b))
            (block $yRoot
              (loop $yClimb
                (local.set $p (i32.load offset=8 (i32.add (global.get $runs) (i32.mul (local.get $y) (i32.const 12)))))
                (br_if $yRoot (i32.eq (local.get $p) (local.get $y)))
                (local.set $up (i32.load offset=8 (i32.add (global.get $runs) (i32.mul (local.get $p) (i32.const 12)))))
                (i32.store offset=8 (i32.add (global.get $runs) (i32.mul (local.get $y) (i32.const 12))) (local.get $up))
                (local.set $y (local.get $up))
                (br $yClimb)))
            ;; The larger root points at the smaller.
            (if (i32.lt_u (local.get $x) (local.get $y))
              (then (i32.store offset=8 (i32.add (global.get $runs) (i32.mul (local.get $y) (i32.const 12))) (local.get $x))))
            (if (i32.lt_u (local.get $y) (local.get $x))
              (then (i32.store offset=8 (i32.add (global.get $runs) (i32.mul (local.get $x) (i32.const 12))) (local.get $y))))))
        ;; The run that ends first meets nothing more on the other line.
        (if (i32.le_u (local.get $ea) (local.get $eb))
          (then (local.set $a (i32.add (local.get $a) (i32.const 1))))
          (else (local.set $b (i32.add (local.get $b) (i32.const 1)))))
        (br $next))))

  ;; The first run of (row, line) as an index into lineFirst.
  (func $first (param $at i32) (result i32)
    (i32.load (i32.add (global.get $lineFirst) (i32.shl (local.get $at) (i32.const 2)))))

  ;; Joins every line of row `r` with the same line of row `q` (the previous row, or row 0 across
  ;; the periodic seam of axis 0).
  (func (export "joinRows") (param $r i32) (param $q i32)
    (local $line i32) (local $at i32) (local $bt i32)
    (local.set $at (i32.mul (local.get $r) (global.get $lines)))
    (local.set $bt (i32.mul (local.get $q) (global.get $lines)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $line) (global.get $lines)))
        (call $joinRuns
          (call $first (i32.add (local.get $at) (local.get $line)))
          (call $first (i32.add (local.get $at) (i32.add (local.get $line) (i32.const 1))))
          (call $first (i32.add (local.get $bt) (local.get $line)))
          (call $first (i32.add (local.get $bt) (i32.add (local.get $line) (i32.const 1)))))
        (local.set $line (i32.add (local.get $line) (i32.const 1)))
        (br $next))))

  ;; Row `r`, its open bits in the block: its runs become records from `count` on, each its own
  ;; root, joined along the line's periodic seam and with the listed lines of the row. Returns the
  ;; runs so far.
  (func (export "row") (param $r i32) (result i32)
    (local $line i32) (local $i i32) (local $w i32) (local $word i32) (local $st i32) (local $en i32)
    (local $carry i32) (local $pos i32) (local $n i32) (local $ne i32) (local $at i32) (local $p i32)
    (local $a0 i32) (local $a1 i32) (local $j i32) (local $j1 i32) (local $other i32)
    (local.set $n (global.get $count))
    (local.set $ne (global.get $count))
    (local.set $at (i32.mul (local.get $r) (global.get $lines)))
    (block $linesDone
      (loop $nextLine
        (br_if $linesDone (i32.ge_u (local.get $line) (global.get $lines)))
        (i32.store (i32.add (global.get $lineFirst) (i32.shl (i32.add (local.get $at) (local.get $line)) (i32.const 2))) (local.get $n))
        (local.set $carry (i32.const 0))
        (local.set $pos (i32.const 0))
        (local.set $i (i32.const 0))
        (loop $nextWord
          (local.set $word (i32.load (i32.add (global.get $block) (i32.shl (local.get $w) (i32.const 2)))))
          (local.set $en (i32.or (i32.shl (local.get $word) (i32.const 1)) (local.get $carry)))
          (local.set $st (i32.and (local.get $word) (i32.xor (local.get $en) (i32.const -1))))
          (local.set $en (i32.and (local.get $en) (i32.xor (local.get $word) (i32.const -1))))
          (local.set $carry (i32.shr_u (local.get $word) (i32.const 31)))
          (block $startsDone
            (loop $start
              (br_if $startsDone (i32.eqz (local.get $st)))
              (local.set $p (i32.add (global.get $runs) (i32.mul (local.get $n) (i32.const 12))))
              (i32.store (local.get $p) (i32.add (local.get $pos) (i32.ctz (local.get $st))))
              (i32.store offset=8 (local.get $p) (local.get $n))
              (local.set $n (i32.add (local.get $n) (i32.const 1)))
              (local.set $st (i32.and (local.get $st) (i32.sub (local.get $st) (i32.const 1))))
              (br $start)))
          (block $endsDone
            (loop $end
              (br_if $endsDone (i32.eqz (local.get $en)))
              (i32.store offset=4 (i32.add (global.get $runs) (i32.mul (local.get $ne) (i32.const 12)))
                (i32.add (local.get $pos) (i32.ctz (local.get $en))))
              (local.set $ne (i32.add (local.get $ne) (i32.const 1)))
              (local.set $en (i32.and (local.get $en) (i32.sub (local.get $en) (i32.const 1))))
              (br $end)))
          (local.set $pos (i32.add (local.get $pos) (i32.const 32)))
          (local.set $w (i32.add (local.get $w) (i32.const 1)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $nextWord (i32.lt_u (local.get $i) (global.get $perLine))))
        ;; A run reaching the last bit of a full last word ends at the line's end.
        (if (local.get $carry)
          (then
            (i32.store offset=4 (i32.add (global.get $runs) (i32.mul (local.get $ne) (i32.const 12))) (global.get $lineCells))
            (local.set $ne (i32.add (local.get $ne) (i32.const 1)))))
        (local.set $line (i32.add (local.get $line) (i32.const 1)))
        (br $nextLine)))
    ;; One past the row's last line (the next row's first line says the same).
    (i32.store (i32.add (global.get $lineFirst) (i32.shl (i32.add (local.get $at) (global.get $lines)) (i32.const 2))) (local.get $n))
    (global.set $count (local.get $n))

    (local.set $line (i32.const 0))
    (block $joinsDone
      (loop $joinLine
        (br_if $joinsDone (i32.ge_u (local.get $line) (global.get $lines)))
        (local.set $a0 (call $first (i32.add (local.get $at) (local.get $line))))
        (local.set $a1 (call $first (i32.add (local.get $at) (i32.add (local.get $line) (i32.const 1)))))
        (if (i32.gt_u (local.get $a1) (local.get $a0))
          (then
            ;; The periodic last axis: a run at each end of the line, and they are two.
            (if (i32.and
                  (i32.and (global.get $wrapLine) (i32.gt_u (i32.sub (local.get $a1) (local.get $a0)) (i32.const 1)))
                  (i32.and
                    (i32.eqz (i32.load (i32.add (global.get $runs) (i32.mul (local.get $a0) (i32.const 12)))))
                    (i32.eq (i32.load offset=4 (i32.add (global.get $runs) (i32.mul (i32.sub (local.get $a1) (i32.const 1)) (i32.const 12))))
                      (global.get $lineCells))))
              (then (call $union (local.get $a0) (i32.sub (local.get $a1) (i32.const 1)))))
            (local.set $j (i32.load (i32.add (global.get $joinFirst) (i32.shl (local.get $line) (i32.const 2)))))
            (local.set $j1 (i32.load (i32.add (global.get $joinFirst) (i32.shl (i32.add (local.get $line) (i32.const 1)) (i32.const 2)))))
            (block $listDone
              (loop $listed
                (br_if $listDone (i32.ge_u (local.get $j) (local.get $j1)))
                (local.set $other (i32.add (local.get $at)
                  (i32.load (i32.add (global.get $joinList) (i32.shl (local.get $j) (i32.const 2))))))
                (call $joinRuns (local.get $a0) (local.get $a1)
                  (call $first (local.get $other)) (call $first (i32.add (local.get $other) (i32.const 1))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $listed)))))
        (local.set $line (i32.add (local.get $line) (i32.const 1)))
        (br $joinLine)))
    (local.get $n))

  ;; Labels 1, 2, … for the roots in run order; every run's parent slot becomes its label (its
  ;; parent is an earlier run, already labelled), and the clusters' sizes go to `sizes` (int32 per
  ;; label). Returns the number of clusters.
  (func (export "number") (param $sizes i32) (result i32)
    (local $k i32) (local $p i32) (local $parent i32) (local $label i32) (local $count i32) (local $at i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (global.get $count)))
        (local.set $p (i32.add (global.get $runs) (i32.mul (local.get $k) (i32.const 12))))
        (local.set $parent (i32.load offset=8 (local.get $p)))
        (if (i32.eq (local.get $parent) (local.get $k))
          (then
            (local.set $count (i32.add (local.get $count) (i32.const 1)))
            (local.set $label (local.get $count))
            (i32.store (i32.add (local.get $sizes) (i32.shl (i32.sub (local.get $label) (i32.const 1)) (i32.const 2))) (i32.const 0)))
          (else (local.set $label (i32.load offset=8 (i32.add (global.get $runs) (i32.mul (local.get $parent) (i32.const 12)))))))
        (i32.store offset=8 (local.get $p) (local.get $label))
        (local.set $at (i32.add (local.get $sizes) (i32.shl (i32.sub (local.get $label) (i32.const 1)) (i32.const 2))))
        (i32.store (local.get $at) (i32.add (i32.load (local.get $at))
          (i32.sub (i32.load offset=4 (local.get $p)) (i32.load (local.get $p)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (local.get $count))

  ;; Row r's labels (uint32 per cell, 0 for blocked) at `out`.
  (func (export "paint") (param $r i32) (param $out i32)
    (local $line i32) (local $k i32) (local $k1 i32) (local $p i32) (local $c i32) (local $e i32) (local $label i32) (local $base i32)
    (memory.fill (local.get $out) (i32.const 0)
      (i32.shl (i32.mul (global.get $lines) (global.get $lineCells)) (i32.const 2)))
    (block $linesDone
      (loop $nextLine
        (br_if $linesDone (i32.ge_u (local.get $line) (global.get $lines)))
        (local.set $k (call $first (i32.add (i32.mul (local.get $r) (global.get $lines)) (local.get $line))))
        (local.set $k1 (call $first (i32.add (i32.mul (local.get $r) (global.get $lines)) (i32.add (local.get $line) (i32.const 1)))))
        (local.set $base (i32.add (local.get $out) (i32.shl (i32.mul (local.get $line) (global.get $lineCells)) (i32.const 2))))
        (block $runsDone
          (loop $nextRun
            (br_if $runsDone (i32.ge_u (local.get $k) (local.get $k1)))
            (local.set $p (i32.add (global.get $runs) (i32.mul (local.get $k) (i32.const 12))))
            (local.set $label (i32.load offset=8 (local.get $p)))
            (local.set $c (i32.add (local.get $base) (i32.shl (i32.load (local.get $p)) (i32.const 2))))
            (local.set $e (i32.add (local.get $base) (i32.shl (i32.load offset=4 (local.get $p)) (i32.const 2))))
            (block $cellsDone
              (loop $cell
                (br_if $cellsDone (i32.ge_u (local.get $c) (local.get $e)))
                (i32.store (local.get $c) (local.get $label))
                (local.set $c (i32.add (local.get $c) (i32.const 4)))
                (br $cell)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $nextRun)))
        (local.set $line (i32.add (local.get $line) (i32.const 1)))
        (br $nextLine))))

  (func (export "fillProcedural") (param $h0 i32) (param $threshold i32)
    (local $line i32) (local $x i32) (local $at i32) (local $word i32) (local $half i32) (local $bits i32)
    (local $t v128) (local $c1 v128) (local $c2 v128) (local $four v128) (local $v v128) (local $y v128)
    (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $q3 v128)
    (local.set $t (i32x4.splat (local.get $threshold)))
    (local.set $c1 (i32x4.splat (i32.const 0x7feb352d)))
    (local.set $c2 (i32x4.splat (i32.const 0x846ca68b)))
    (local.set $four (i32x4.splat (i32.const 4)))
    (local.set $at (global.get $block))
    (block $linesDone
      (loop $nextLine
        (br_if $linesDone (i32.ge_u (local.get $line) (global.get $lines)))
        (local.set $x (i32.const 0))
        (local.set $v (i32x4.add
          (i32x4.splat (i32.add (local.get $h0) (i32.mul (local.get $line) (global.get $lineCells))))
          (v128.const i32x4 0 1 2 3)))
        (block $wordsDone
          (loop $nextWord
            (br_if $wordsDone (i32.ge_u (local.get $x) (global.get $lineCells)))
            (local.set $word (i32.const 0))
            (local.set $half (i32.const 0))
            ;; Two halves of 16 cells: four groups of four, narrowed to 16 bytes of -1 or 0.
            (loop $nextHalf
              (local.set $y (local.get $v))
              (local.set $y (v128.xor (local.get $y) (i32x4.shr_u (local.get $y) (i32.const 16))))
              (local.set $y (i32x4.mul (local.get $y) (local.get $c1)))
              (local.set $y (v128.xor (local.get $y) (i32x4.shr_u (local.get $y) (i32.const 15))))
              (local.set $y (i32x4.mul (local.get $y) (local.get $c2)))
              (local.set $q0 (i32x4.ge_u (v128.xor (local.get $y) (i32x4.shr_u (local.get $y) (i32.const 16))) (local.get $t)))
              (local.set $v (i32x4.add (local.get $v) (local.get $four)))
              (local.set $y (local.get $v))
              (local.set $y (v128.xor (local.get $y) (i32x4.shr_u (local.get $y) (i32.const 16))))
              (local.set $y (i32x4.mul (local.get $y) (local.get $c1)))
              (local.set $y (v128.xor (local.get $y) (i32x4.shr_u (local.get $y) (i32.const 15))))
              (local.set $y (i32x4.mul (local.get $y) (local.get $c2)))
              (local.set $q1 (i32x4.ge_u (v128.xor (local.get $y) (i32x4.shr_u (local.get $y) (i32.const 16))) (local.get $t)))
              (local.set $v (i32x4.add (local.get $v) (local.get $four)))
              (local.set $y (local.get $v))
              (local.set $y (v128.xor (local.get $y) (i32x4.shr_u (local.get $y) (i32.const 16))))
              (local.set $y (i32x4.mul (local.get $y) (local.get $c1)))
              (local.set $y (v128.xor (local.get $y) (i32x4.shr_u (local.get $y) (i32.const 15))))
              (local.set $y (i32x4.mul (local.get $y) (local.get $c2)))
              (local.set $q2 (i32x4.ge_u (v128.xor (local.get $y) (i32x4.shr_u (local.get $y) (i32.const 16))) (local.get $t)))
              (local.set $v (i32x4.add (local.get $v) (local.get $four)))
              (local.set $y (local.get $v))
              (local.set $y (v128.xor (local.get $y) (i32x4.shr_u (local.get $y) (i32.const 16))))
              (local.set $y (i32x4.mul (local.get $y) (local.get $c1)))
              (local.set $y (v128.xor (local.get $y) (i32x4.shr_u (local.get $y) (i32.const 15))))
              (local.set $y (i32x4.mul (local.get $y) (local.get $c2)))
              (local.set $q3 (i32x4.ge_u (v128.xor (local.get $y) (i32x4.shr_u (local.get $y) (i32.const 16))) (local.get $t)))
              (local.set $v (i32x4.add (local.get $v) (local.get $four)))
              (local.set $bits (i8x16.bitmask (i8x16.narrow_i16x8_s
                (i16x8.narrow_i32x4_s (local.get $q0) (local.get $q1))
                (i16x8.narrow_i32x4_s (local.get $q2) (local.get $q3)))))
              (local.set $word (i32.or (local.get $word) (i32.shl (local.get $bits) (local.get $half))))
              (local.set $half (i32.add (local.get $half) (i32.const 16)))
              (br_if $nextHalf (i32.lt_u (local.get $half) (i32.const 32))))
            ;; The last word of a line: clear the bits past its end.
            (if (i32.lt_u (i32.sub (global.get $lineCells) (local.get $x)) (i32.const 32))
              (then (local.set $word (i32.and (local.get $word)
                (i32.sub (i32.shl (i32.const 1) (i32.sub (global.get $lineCells) (local.get $x))) (i32.const 1))))))
            (i32.store (local.get $at) (local.get $word))
            (local.set $at (i32.add (local.get $at) (i32.const 4)))
            (local.set $x (i32.add (local.get $x) (i32.const 32)))
            (br $nextWord)))
        (local.set $line (i32.add (local.get $line) (i32.const 1)))
        (br $nextLine))))

)
