;; The components kernel's face merge (worker/kernels/face-merge.ts): union-find over every slab's
;; face clusters, joined across touching faces, then the totals of the merged clusters. Addresses
;; are bytes in this module's memory, laid out by face-merge.ts; `parent` is set by `init`.
(module
  (memory (export "memory") 0)
  (global $parent (mut i32) (i32.const 0))

  ;; The root of node x, halving the path on the way.
  (func $find (param $x i32) (result i32)
    (local $p i32) (local $up i32)
    (block $root
      (loop $climb
        (local.set $p (i32.load (i32.add (global.get $parent) (i32.shl (local.get $x) (i32.const 2)))))
        (br_if $root (i32.eq (local.get $p) (local.get $x)))
        (local.set $up (i32.load (i32.add (global.get $parent) (i32.shl (local.get $p) (i32.const 2)))))
        (i32.store (i32.add (global.get $parent) (i32.shl (local.get $x) (i32.const 2))) (local.get $up))
        (local.set $x (local.get $up))
        (br $climb)))
    (local.get $x))

  ;; `total` nodes at `parent`, each its own root.
  (func (export "init") (param $parent i32) (param $total i32)
    (local $i i32)
    (global.set $parent (local.get $parent))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $total)))
        (i32.store (i32.add (local.get $parent) (i32.shl (local.get $i) (i32.const 2))) (local.get $i))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; Joins two faces cell by cell: `lower` and `upper` hold `cells` int32 labels (1 + local id,
  ;; 0 for none) of two touching rows, local id k being node base + k. Neighbouring cells mostly
  ;; repeat the last pair of labels, which needs no second look.
  (func (export "join") (param $lower i32) (param $upper i32) (param $cells i32) (param $baseLower i32) (param $baseUpper i32)
    (local $end i32) (local $a i32) (local $b i32) (local $lastA i32) (local $lastB i32) (local $ra i32) (local $rb i32)
    (local.set $end (i32.add (local.get $lower) (i32.shl (local.get $cells) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $lower) (local.get $end)))
        (local.set $a (i32.load (local.get $lower)))
        (local.set $b (i32.load (local.get $upper)))
        (if (i32.and
              (i32.and (i32.ne (local.get $a) (i32.const 0)) (i32.ne (local.get $b) (i32.const 0)))
              (i32.or (i32.ne (local.get $a) (local.get $lastA)) (i32.ne (local.get $b) (local.get $lastB))))
          (then
            (local.set $lastA (local.get $a))
            (local.set $lastB (local.get $b))
            (local.set $ra (call $find (i32.sub (i32.add (local.get $baseLower) (local.get $a)) (i32.const 1))))
            (local.set $rb (call $find (i32.sub (i32.add (local.get $baseUpper) (local.get $b)) (i32.const 1))))
            (if (i32.ne (local.get $ra) (local.get $rb))
              (then (i32.store (i32.add (global.get $parent) (i32.shl (local.get $ra) (i32.const 2))) (local.get $rb))))))
        (local.set $lower (i32.add (local.get $lower) (i32.const 4)))
        (local.set $upper (i32.add (local.get $upper) (i32.const 4)))
        (br $next))))

  ;; The merged clusters of `total` nodes with float64 sizes at `size` and byte flags at `flags`
  ;; (1 first row of axis 0, 2 last row): each root gathers its nodes' sizes and flags, then
  ;; `out` gets float64 count, largest, 1 when a cluster spans axis 0 (both flags), and the
  ;; counts of the `bins` log2 bins of the roots' sizes (bin 32 from 2^32 up).
  (func (export "finish") (param $total i32) (param $size i32) (param $flags i32) (param $out i32) (param $bins i32)
    (local $i i32) (local $r i32) (local $s f64) (local $bin i32) (local $at i32)
    (local $count f64) (local $largest f64) (local $spans f64)
    (block $zeroed
      (loop $zero
        (br_if $zeroed (i32.ge_u (local.get $i) (i32.add (local.get $bins) (i32.const 3))))
        (f64.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 3))) (f64.const 0))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $zero)))
    (local.set $i (i32.const 0))
    (block $gathered
      (loop $gather
        (br_if $gathered (i32.ge_u (local.get $i) (local.get $total)))
        (local.set $r (call $find (local.get $i)))
        (if (i32.ne (local.get $r) (local.get $i))
          (then
            (local.set $at (i32.add (local.get $size) (i32.shl (local.get $r) (i32.const 3))))
            (f64.store (local.get $at)
              (f64.add (f64.load (local.get $at)) (f64.load (i32.add (local.get $size) (i32.shl (local.get $i) (i32.const 3))))))
            (local.set $at (i32.add (local.get $flags) (local.get $r)))
            (i32.store8 (local.get $at)
              (i32.or (i32.load8_u (local.get $at)) (i32.load8_u (i32.add (local.get $flags) (local.get $i)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $gather)))
    (local.set $i (i32.const 0))
    (block $counted
      (loop $count
        (br_if $counted (i32.ge_u (local.get $i) (local.get $total)))
        (if (i32.eq (i32.load (i32.add (global.get $parent) (i32.shl (local.get $i) (i32.const 2)))) (local.get $i))
          (then
            (local.set $s (f64.load (i32.add (local.get $size) (i32.shl (local.get $i) (i32.const 3)))))
            (local.set $count (f64.add (local.get $count) (f64.const 1)))
            (local.set $largest (f64.max (local.get $largest) (local.get $s)))
            (local.set $bin
              (if (result i32) (f64.ge (local.get $s) (f64.const 4294967296))
                (then (i32.const 32))
                (else (i32.sub (i32.const 31) (i32.clz (i32.trunc_f64_u (local.get $s)))))))
            (local.set $at (i32.add (local.get $out) (i32.shl (i32.add (local.get $bin) (i32.const 3)) (i32.const 3))))
            (f64.store (local.get $at) (f64.add (f64.load (local.get $at)) (f64.const 1)))
            (if (i32.eq (i32.load8_u (i32.add (local.get $flags) (local.get $i))) (i32.const 3))
              (then (local.set $spans (f64.const 1))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $count)))
    (f64.store (local.get $out) (local.get $count))
    (f64.store (i32.add (local.get $out) (i32.const 8)) (local.get $largest))
    (f64.store (i32.add (local.get $out) (i32.const 16)) (local.get $spans)))
)
