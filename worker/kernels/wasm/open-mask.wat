;; The procedural obstacle rule, 16 cells at a time: cell i is open when lowbias32(h0 + i)
;; >= threshold (unsigned; shared/lattice/lowbias32.ts). Output goes to address 0 of this module's
;; memory; worker/kernels/open-mask-wasm.ts copies it where it belongs.
(module
  (memory (export "memory") 17)

  ;; 1 for open, 0 for blocked, on 4 consecutive cells starting at hash input h.
  (func $open4 (param $h v128) (param $threshold v128) (result v128)
    (local $x v128)
    (local.set $x (v128.xor (local.get $h) (i32x4.shr_u (local.get $h) (i32.const 16))))
    (local.set $x (i32x4.mul (local.get $x) (i32x4.splat (i32.const 0x7feb352d))))
    (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 15))))
    (local.set $x (i32x4.mul (local.get $x) (i32x4.splat (i32.const 0x846ca68b))))
    (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 16))))
    (v128.and (i32x4.ge_u (local.get $x) (local.get $threshold)) (i32x4.splat (i32.const 1))))

  ;; 16 cells from hash input h as 16 bytes of 0 or 1.
  (func $open16 (param $h i32) (param $threshold v128) (result v128)
    (local $v v128)
    (local.set $v (i32x4.add (i32x4.splat (local.get $h)) (v128.const i32x4 0 1 2 3)))
    (i8x16.narrow_i16x8_u
      (i16x8.narrow_i32x4_u
        (call $open4 (local.get $v) (local.get $threshold))
        (call $open4 (i32x4.add (local.get $v) (i32x4.splat (i32.const 4))) (local.get $threshold)))
      (i16x8.narrow_i32x4_u
        (call $open4 (i32x4.add (local.get $v) (i32x4.splat (i32.const 8))) (local.get $threshold))
        (call $open4 (i32x4.add (local.get $v) (i32x4.splat (i32.const 12))) (local.get $threshold)))))

  ;; `count` bytes (rounded up to 16) at address 0, cell i from hash input h0 + i.
  (func (export "fillBytes") (param $count i32) (param $h0 i32) (param $threshold i32)
    (local $i i32) (local $t v128)
    (local.set $t (i32x4.splat (local.get $threshold)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (v128.store (local.get $i) (call $open16 (i32.add (local.get $h0) (local.get $i)) (local.get $t)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next))))

  ;; `lines` lines of `n` cells as bit words (worker/kernels/open-mask.ts layout) at address 0:
  ;; line k's cells start at hash input h0 + k·n, and the bits past a line's end are 0.
  (func (export "fillBits") (param $lines i32) (param $n i32) (param $h0 i32) (param $threshold i32)
    (local $line i32) (local $x i32) (local $h i32) (local $word i32) (local $at i32) (local $t v128)
    (local.set $t (i32x4.splat (local.get $threshold)))
    (block $linesDone
      (loop $nextLine
        (br_if $linesDone (i32.ge_u (local.get $line) (local.get $lines)))
        (local.set $h (i32.add (local.get $h0) (i32.mul (local.get $line) (local.get $n))))
        (local.set $x (i32.const 0))
        (block $wordsDone
          (loop $nextWord
            (br_if $wordsDone (i32.ge_u (local.get $x) (local.get $n)))
            (local.set $word
              (i32.or
                (i8x16.bitmask (i8x16.neg (call $open16 (i32.add (local.get $h) (local.get $x)) (local.get $t))))
                (i32.shl
                  (i8x16.bitmask (i8x16.neg (call $open16 (i32.add (i32.add (local.get $h) (local.get $x)) (i32.const 16)) (local.get $t))))
                  (i32.const 16))))
            ;; The last word of a line: clear the bits past its end.
            (if (i32.lt_u (i32.sub (local.get $n) (local.get $x)) (i32.const 32))
              (then (local.set $word (i32.and (local.get $word)
                (i32.sub (i32.shl (i32.const 1) (i32.sub (local.get $n) (local.get $x))) (i32.const 1))))))
            (i32.store (local.get $at) (local.get $word))
            (local.set $at (i32.add (local.get $at) (i32.const 4)))
            (local.set $x (i32.add (local.get $x) (i32.const 32)))
            (br $nextWord)))
        (local.set $line (i32.add (local.get $line) (i32.const 1)))
        (br $nextLine))))
)
