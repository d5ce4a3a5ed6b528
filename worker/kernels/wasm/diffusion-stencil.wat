;; The diffusion step's hot loops over rows copied into this module's memory (see
;; worker/kernels/diffusion-wasm.ts for the layout). A cell's code byte is its open-neighbour
;; count n, plus 128 when blocked; an open cell becomes (1 - alpha·n)·u + alpha·(sum of its
;; neighbours), a blocked one 0. Neighbour lines are given as byte offsets from the cell. The SIMD
;; loops read codes as signed bytes: a blocked code is negative, its sign (i32x4.shr_s by 31) is the
;; mask and its self weight, garbage, is masked away; an open code n converts as a signed integer
;; to the same float as unsigned, and x86 has no unsigned i32x4 conversion (V8 emulates it slowly).
(module
  (memory (export "memory") 1)

  ;; `cells` cells from byte addresses out/u/codes, 8 at a time as two independent groups of 4
  ;; (it may write up to 7 cells past the span: the caller pads the rows and computes spans in
  ;; order). Neighbours along the line are taken from u[i-1] and u[i+1] whatever the line:
  ;; `lineEnds` fixes each line's first and last cell.
  (func (export "span")
    (param $out i32) (param $u i32) (param $codes i32) (param $cells i32)
    (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32) (param $alpha f32)
    (local $i i32) (local $p i32) (local $q i32) (local $a v128) (local $one v128) (local $sum v128)
    (local $code v128) (local $self v128) (local $codes8 v128)
    (local.set $a (f32x4.splat (local.get $alpha)))
    (local.set $one (f32x4.splat (f32.const 1)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $cells)))
        (local.set $p (i32.add (local.get $u) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $q (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $codes8 (i16x8.extend_low_i8x16_s (v128.load64_zero (i32.add (local.get $codes) (local.get $i)))))
        (local.set $sum
          (f32x4.add
            (f32x4.add
              (f32x4.add (v128.load (i32.sub (local.get $p) (i32.const 4))) (v128.load offset=4 (local.get $p)))
              (f32x4.add (v128.load (i32.add (local.get $p) (local.get $o0))) (v128.load (i32.add (local.get $p) (local.get $o1)))))
            (f32x4.add (v128.load (i32.add (local.get $p) (local.get $o2))) (v128.load (i32.add (local.get $p) (local.get $o3))))))
        (local.set $code (i32x4.extend_low_i16x8_s (local.get $codes8)))
        (local.set $self
          (f32x4.sub (local.get $one) (f32x4.mul (local.get $a) (f32x4.convert_i32x4_s (local.get $code)))))
        (v128.store (local.get $q)
          (v128.andnot
            (f32x4.add (f32x4.mul (local.get $self) (v128.load (local.get $p))) (f32x4.mul (local.get $a) (local.get $sum)))
            (i32x4.shr_s (local.get $code) (i32.const 31))))
        (local.set $sum
          (f32x4.add
            (f32x4.add
              (f32x4.add (v128.load (i32.add (local.get $p) (i32.const 12))) (v128.load offset=20 (local.get $p)))
              (f32x4.add (v128.load offset=16 (i32.add (local.get $p) (local.get $o0))) (v128.load offset=16 (i32.add (local.get $p) (local.get $o1)))))
            (f32x4.add (v128.load offset=16 (i32.add (local.get $p) (local.get $o2))) (v128.load offset=16 (i32.add (local.get $p) (local.get $o3))))))
        (local.set $code (i32x4.extend_high_i16x8_s (local.get $codes8)))
        (local.set $self
          (f32x4.sub (local.get $one) (f32x4.mul (local.get $a) (f32x4.convert_i32x4_s (local.get $code)))))
        (v128.store offset=16 (local.get $q)
          (v128.andnot
            (f32x4.add (f32x4.mul (local.get $self) (v128.load offset=16 (local.get $p))) (f32x4.mul (local.get $a) (local.get $sum)))
            (i32x4.shr_s (local.get $code) (i32.const 31))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $next)))
  )

  ;; `span` on a 2-D lattice: the two neighbours along the line and the rows at o0 and o1 only.
  ;; Its sums equal `span`'s there, whose o2 and o3 read a row of zeros (x + 0 is x exactly).
  (func $span4 (export "span4")
    (param $out i32) (param $u i32) (param $codes i32) (param $cells i32)
    (param $o0 i32) (param $o1 i32) (param $alpha f32)
    (local $i i32) (local $p i32) (local $q i32) (local $a v128) (local $one v128) (local $sum v128)
    (local $code v128) (local $self v128) (local $codes8 v128)
    (local.set $a (f32x4.splat (local.get $alpha)))
    (local.set $one (f32x4.splat (f32.const 1)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $cells)))
        (local.set $p (i32.add (local.get $u) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $q (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $codes8 (i16x8.extend_low_i8x16_s (v128.load64_zero (i32.add (local.get $codes) (local.get $i)))))
        (local.set $sum
          (f32x4.add
            (f32x4.add (v128.load (i32.sub (local.get $p) (i32.const 4))) (v128.load offset=4 (local.get $p)))
            (f32x4.add (v128.load (i32.add (local.get $p) (local.get $o0))) (v128.load (i32.add (local.get $p) (local.get $o1))))))
        (local.set $code (i32x4.extend_low_i16x8_s (local.get $codes8)))
        (local.set $self
          (f32x4.sub (local.get $one) (f32x4.mul (local.get $a) (f32x4.convert_i32x4_s (local.get $code)))))
        (v128.store (local.get $q)
          (v128.andnot
            (f32x4.add (f32x4.mul (local.get $self) (v128.load (local.get $p))) (f32x4.mul (local.get $a) (local.get $sum)))
            (i32x4.shr_s (local.get $code) (i32.const 31))))
        (local.set $sum
          (f32x4.add
            (f32x4.add (v128.load (i32.add (local.get $p) (i32.const 12))) (v128.load offset=20 (local.get $p)))
            (f32x4.add (v128.load offset=16 (i32.add (local.get $p) (local.get $o0))) (v128.load offset=16 (i32.add (local.get $p) (local.get $o1))))))
        (local.set $code (i32x4.extend_high_i16x8_s (local.get $codes8)))
        (local.set $self
          (f32x4.sub (local.get $one) (f32x4.mul (local.get $a) (f32x4.convert_i32x4_s (local.get $code)))))
        (v128.store offset=16 (local.get $q)
          (v128.andnot
            (f32x4.add (f32x4.mul (local.get $self) (v128.load offset=16 (local.get $p))) (f32x4.mul (local.get $a) (local.get $sum)))
            (i32x4.shr_s (local.get $code) (i32.const 31))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $next)))
  )

  ;; The first and last cell of each of `lines` lines of n cells starting at cell 0 of the span,
  ;; with the neighbours along the line that exist (or wrap, when `wrap` is 1).
  (func $lineEnds (export "lineEnds")
    (param $out i32) (param $u i32) (param $codes i32) (param $lines i32) (param $n i32) (param $wrap i32)
    (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32) (param $alpha f32)
    (local $line i32) (local $x i32) (local $c i32) (local $p i32) (local $sum f32) (local $code i32)
    (block $done
      (loop $nextLine
        (br_if $done (i32.ge_s (local.get $line) (local.get $lines)))
        (local.set $x (i32.const 0))
        (block $endsDone
          (loop $nextEnd
            (local.set $c (i32.add (i32.mul (local.get $line) (local.get $n)) (local.get $x)))
            (local.set $p (i32.add (local.get $u) (i32.shl (local.get $c) (i32.const 2))))
            (local.set $sum
              (f32.add
                (f32.add (f32.load (i32.add (local.get $p) (local.get $o0))) (f32.load (i32.add (local.get $p) (local.get $o1))))
                (f32.add (f32.load (i32.add (local.get $p) (local.get $o2))) (f32.load (i32.add (local.get $p) (local.get $o3))))))
            (if (i32.gt_s (local.get $x) (i32.const 0))
              (then (local.set $sum (f32.add (local.get $sum) (f32.load (i32.sub (local.get $p) (i32.const 4))))))
              (else (if (local.get $wrap)
                (then (local.set $sum (f32.add (local.get $sum)
                  (f32.load (i32.add (local.get $p) (i32.shl (i32.sub (local.get $n) (i32.const 1)) (i32.const 2))))))))))
            (if (i32.lt_s (local.get $x) (i32.sub (local.get $n) (i32.const 1)))
              (then (local.set $sum (f32.add (local.get $sum) (f32.load (i32.add (local.get $p) (i32.const 4))))))
              (else (if (local.get $wrap)
                (then (local.set $sum (f32.add (local.get $sum)
                  (f32.load (i32.sub (local.get $p) (i32.shl (i32.sub (local.get $n) (i32.const 1)) (i32.const 2))))))))))
            (local.set $code (i32.load8_u (i32.add (local.get $codes) (local.get $c))))
            (f32.store
              (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2)))
              (if (result f32) (i32.and (local.get $code) (i32.const 128))
                (then (f32.const 0))
                (else
                  (f32.add
                    (f32.mul
                      (f32.sub (f32.const 1) (f32.mul (local.get $alpha) (f32.convert_i32_u (local.get $code))))
                      (f32.load (local.get $p)))
                    (f32.mul (local.get $alpha) (local.get $sum))))))
            ;; x = 0, then x = n - 1 (once when the line has one cell).
            (br_if $endsDone (i32.ge_s (local.get $x) (i32.sub (local.get $n) (i32.const 1))))
            (local.set $x (i32.sub (local.get $n) (i32.const 1)))
            (br $nextEnd)))
        (local.set $line (i32.add (local.get $line) (i32.const 1)))
        (br $nextLine)))
  )

  ;; Rows [from, to) of a 2-D slab of `rows` rows of n cells, stepped in place in one call (no
  ;; call from JavaScript per row): row r (at field + r·4n, its halo rows at r = -1 and r = rows)
  ;; goes to row buffer r mod 2 by `span4` and `lineEnds`, exactly as `step` computes it per row,
  ;; and row r - 1's buffer is copied back once row r is computed (the last row's at once).
  ;; `zero` is a row of zeros for `lineEnds`' missing middle lines.
  (func (export "rows2d")
    (param $field i32) (param $codes i32) (param $from i32) (param $to i32) (param $rows i32) (param $n i32)
    (param $wrap i32) (param $alpha f32) (param $buf0 i32) (param $buf1 i32) (param $zero i32)
    (local $r i32) (local $rowBytes i32) (local $p i32) (local $c i32) (local $out i32) (local $prev i32)
    (local.set $rowBytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $r (local.get $from))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $r) (local.get $to)))
        (local.set $p (i32.add (local.get $field) (i32.mul (local.get $r) (local.get $rowBytes))))
        (local.set $c (i32.add (local.get $codes) (i32.mul (local.get $r) (local.get $n))))
        (if (i32.and (local.get $r) (i32.const 1))
          (then (local.set $out (local.get $buf1)) (local.set $prev (local.get $buf0)))
          (else (local.set $out (local.get $buf0)) (local.set $prev (local.get $buf1))))
        (call $span4 (local.get $out) (local.get $p) (local.get $c) (local.get $n)
          (i32.sub (i32.const 0) (local.get $rowBytes)) (local.get $rowBytes) (local.get $alpha))
        (call $lineEnds (local.get $out) (local.get $p) (local.get $c) (i32.const 1) (local.get $n) (local.get $wrap)
          (i32.sub (i32.const 0) (local.get $rowBytes)) (local.get $rowBytes)
          (i32.sub (local.get $zero) (local.get $p)) (i32.sub (local.get $zero) (local.get $p)) (local.get $alpha))
        (if (i32.gt_s (local.get $r) (i32.const 0))
          (then (memory.copy (i32.sub (local.get $p) (local.get $rowBytes)) (local.get $prev) (local.get $rowBytes))))
        (if (i32.eq (local.get $r) (i32.sub (local.get $rows) (i32.const 1)))
          (then (memory.copy (local.get $p) (local.get $out) (local.get $rowBytes))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $next))))

  ;; One line's part of a slab's summary: for each of `blocks` runs of cells from x = 0 (run j
  ;; ending before ends[j], an i32 array), the sum of its open cells' values (float64) into sums[j];
  ;; the least and greatest open value and the count of blocked cells carried in `acc` (f32 min,
  ;; f32 max, i32 blocked) from call to call. 4 cells at a time, float64 sums in four lanes.
  (func (export "lineSums")
    (param $field i32) (param $codes i32) (param $ends i32) (param $blocks i32) (param $sums i32) (param $acc i32)
    (local $j i32) (local $x i32) (local $end i32) (local $p i32)
    (local $s01 v128) (local $s23 v128) (local $vmin v128) (local $vmax v128) (local $nb v128) (local $v v128) (local $m v128)
    (local $sum f64) (local $f f32) (local $min f32) (local $max f32) (local $blocked i32)
    (local.set $vmin (f32x4.splat (f32.const inf)))
    (local.set $vmax (f32x4.splat (f32.const -inf)))
    (local.set $min (f32.load (local.get $acc)))
    (local.set $max (f32.load offset=4 (local.get $acc)))
    (local.set $blocked (i32.load offset=8 (local.get $acc)))
    (block $done
      (loop $nextBlock
        (br_if $done (i32.ge_s (local.get $j) (local.get $blocks)))
        (local.set $end (i32.load (i32.add (local.get $ends) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $s01 (f64x2.splat (f64.const 0)))
        (local.set $s23 (f64x2.splat (f64.const 0)))
        (local.set $sum (f64.const 0))
        (block $simdDone
          (loop $nextGroup
            (br_if $simdDone (i32.gt_s (i32.add (local.get $x) (i32.const 4)) (local.get $end)))
            (local.set $m (i32x4.shr_s
              (i32x4.extend_low_i16x8_s (i16x8.extend_low_i8x16_s (v128.load32_zero (i32.add (local.get $codes) (local.get $x)))))
              (i32.const 31)))
            ;; Blocked cells count as 0 whatever the field holds there.
            (local.set $v (v128.andnot (v128.load (i32.add (local.get $field) (i32.shl (local.get $x) (i32.const 2)))) (local.get $m)))
            (local.set $s01 (f64x2.add (local.get $s01) (f64x2.promote_low_f32x4 (local.get $v))))
            (local.set $s23 (f64x2.add (local.get $s23)
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))))
            (local.set $vmin (f32x4.pmin (local.get $vmin) (v128.bitselect (f32x4.splat (f32.const inf)) (local.get $v) (local.get $m))))
            (local.set $vmax (f32x4.pmax (local.get $vmax) (v128.bitselect (f32x4.splat (f32.const -inf)) (local.get $v) (local.get $m))))
            (local.set $nb (i32x4.sub (local.get $nb) (local.get $m)))
            (local.set $x (i32.add (local.get $x) (i32.const 4)))
            (br $nextGroup)))
        (block $tailDone
          (loop $nextCell
            (br_if $tailDone (i32.ge_s (local.get $x) (local.get $end)))
            (if (i32.lt_s (i32.load8_s (i32.add (local.get $codes) (local.get $x))) (i32.const 0))
              (then (local.set $blocked (i32.add (local.get $blocked) (i32.const 1))))
              (else
                (local.set $f (f32.load (i32.add (local.get $field) (i32.shl (local.get $x) (i32.const 2)))))
                (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (local.get $f))))
                (local.set $min (f32.min (local.get $min) (local.get $f)))
                (local.set $max (f32.max (local.get $max) (local.get $f)))))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $nextCell)))
        (f64.store (i32.add (local.get $sums) (i32.shl (local.get $j) (i32.const 3)))
          (f64.add
            (f64.add
              (f64.add (f64x2.extract_lane 0 (local.get $s01)) (f64x2.extract_lane 1 (local.get $s01)))
              (f64.add (f64x2.extract_lane 0 (local.get $s23)) (f64x2.extract_lane 1 (local.get $s23))))
            (local.get $sum)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $nextBlock)))
    (f32.store (local.get $acc)
      (f32.min (local.get $min)
        (f32.min
          (f32.min (f32x4.extract_lane 0 (local.get $vmin)) (f32x4.extract_lane 1 (local.get $vmin)))
          (f32.min (f32x4.extract_lane 2 (local.get $vmin)) (f32x4.extract_lane 3 (local.get $vmin))))))
    (f32.store offset=4 (local.get $acc)
      (f32.max (local.get $max)
        (f32.max
          (f32.max (f32x4.extract_lane 0 (local.get $vmax)) (f32x4.extract_lane 1 (local.get $vmax)))
          (f32.max (f32x4.extract_lane 2 (local.get $vmax)) (f32x4.extract_lane 3 (local.get $vmax))))))
    (i32.store offset=8 (local.get $acc)
      (i32.add (local.get $blocked)
        (i32.add
          (i32.add (i32x4.extract_lane 0 (local.get $nb)) (i32x4.extract_lane 1 (local.get $nb)))
          (i32.add (i32x4.extract_lane 2 (local.get $nb)) (i32x4.extract_lane 3 (local.get $nb)))))))

  ;; Conductance codes of `cells` cells from the open mask (bytes of 0 or 1), 16 at a time (may
  ;; write up to 15 past the span, like `span`): the open neighbours at offsets -1, +1 and o0..o3,
  ;; plus 128 when the cell itself is blocked. `codeEnds` then fixes each line's ends.
  (func (export "codeSpan")
    (param $codes i32) (param $mask i32) (param $cells i32) (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32)
    (local $i i32) (local $p i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $cells)))
        (local.set $p (i32.add (local.get $mask) (local.get $i)))
        (v128.store (i32.add (local.get $codes) (local.get $i))
          (i8x16.add
            (i8x16.add
              (i8x16.add (v128.load (i32.sub (local.get $p) (i32.const 1))) (v128.load (i32.add (local.get $p) (i32.const 1))))
              (i8x16.add (v128.load (i32.add (local.get $p) (local.get $o0))) (v128.load (i32.add (local.get $p) (local.get $o1)))))
            (i8x16.add
              (i8x16.add (v128.load (i32.add (local.get $p) (local.get $o2))) (v128.load (i32.add (local.get $p) (local.get $o3))))
              (i8x16.shl (v128.xor (v128.load (local.get $p)) (i8x16.splat (i32.const 1))) (i32.const 7)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next))))

  ;; codes[i] += mask[i + o] for `cells` cells: a neighbour line past the fourth.
  (func (export "codeAdd") (param $codes i32) (param $mask i32) (param $cells i32) (param $o i32)
    (local $i i32) (local $c i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $cells)))
        (local.set $c (i32.add (local.get $codes) (local.get $i)))
        (v128.store (local.get $c)
          (i8x16.add (v128.load (local.get $c)) (v128.load (i32.add (i32.add (local.get $mask) (local.get $i)) (local.get $o)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next))))

  ;; The ends of `lines` lines of n cells: `codeSpan` counted mask[i-1] and mask[i+1] whatever the
  ;; line; swap in the neighbour along the line that exists (or wraps, when `wrap` is 1), or none.
  (func (export "codeEnds") (param $codes i32) (param $mask i32) (param $lines i32) (param $n i32) (param $wrap i32)
    (local $line i32) (local $first i32) (local $last i32) (local $fix i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $line) (local.get $lines)))
        (local.set $first (i32.mul (local.get $line) (local.get $n)))
        (local.set $last (i32.add (local.get $first) (i32.sub (local.get $n) (i32.const 1))))
        ;; First cell: its left neighbour is none, or the line's last cell.
        (local.set $fix (i32.sub
          (if (result i32) (local.get $wrap) (then (i32.load8_u (i32.add (local.get $mask) (local.get $last)))) (else (i32.const 0)))
          (i32.load8_u (i32.sub (i32.add (local.get $mask) (local.get $first)) (i32.const 1)))))
        (i32.store8 (i32.add (local.get $codes) (local.get $first))
          (i32.add (i32.load8_u (i32.add (local.get $codes) (local.get $first))) (local.get $fix)))
        ;; Last cell: its right neighbour is none, or the line's first cell.
        (local.set $fix (i32.sub
          (if (result i32) (local.get $wrap) (then (i32.load8_u (i32.add (local.get $mask) (local.get $first)))) (else (i32.const 0)))
          (i32.load8_u (i32.add (i32.add (local.get $mask) (local.get $last)) (i32.const 1)))))
        (i32.store8 (i32.add (local.get $codes) (local.get $last))
          (i32.add (i32.load8_u (i32.add (local.get $codes) (local.get $last))) (local.get $fix)))
        (local.set $line (i32.add (local.get $line) (i32.const 1)))
        (br $next))))

  ;; dst[i] = (first ? 0 : dst[i]) + src[i] for `cells` cells (4 at a time, like `span`): sums the
  ;; neighbour lines beyond four (lattices of 4 or more axes) into one.
  (func (export "accumulate") (param $dst i32) (param $src i32) (param $cells i32) (param $first i32)
    (local $i i32) (local $d i32) (local $s v128)
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $cells)))
        (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $s (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))))
        (if (i32.eqz (local.get $first)) (then (local.set $s (f32x4.add (local.get $s) (v128.load (local.get $d))))))
        (v128.store (local.get $d) (local.get $s))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next)))
  )
)
