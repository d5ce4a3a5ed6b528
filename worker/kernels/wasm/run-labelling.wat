;; Connected components of one slab, a row at a time: the hot loop of
;; worker/kernels/run-labelling-wasm.ts, which lays out this module's memory
;; (shared/lattice/run-labelling-layout.ts) and fills each row's open bits before calling `row`.
;; The algorithm is worker/kernels/run-labelling.ts's (docs/architecture.md › Kernels):
;; runs of open cells found word by word, joined by union-find with the runs they overlap on
;; neighbour lines of the same row and on the same line of the previous row, two rows alive.
;;
;; A row block holds, for one row: its open bits (line k in words [k·perLine, (k+1)·perLine),
;; bits past a line's end 0), the first cell of each run in the same layout, per word the runs
;; that start before it (its rank), and per run its start, end and (after the row) cluster id.
;; Union-find nodes: the previous row's clusters 0..alive-1, then this row's runs.
(module
  (memory (export "memory") 1)

  (global $lines (mut i32) (i32.const 0))
  (global $perLine (mut i32) (i32.const 0))
  (global $lineCells (mut i32) (i32.const 0))
  (global $wrapLine (mut i32) (i32.const 0))
  ;; Addresses of the union-find arrays (i32 or f64 per node) and the join table.
  (global $parent (mut i32) (i32.const 0))
  (global $size (mut i32) (i32.const 0))
  (global $firstOf (mut i32) (i32.const 0))
  (global $remap (mut i32) (i32.const 0))
  (global $nextSize (mut i32) (i32.const 0))
  (global $nextFirst (mut i32) (i32.const 0))
  (global $group (mut i32) (i32.const 0))
  (global $groupSize (mut i32) (i32.const 0))
  (global $joinFirst (mut i32) (i32.const 0))
  (global $joinList (mut i32) (i32.const 0))
  ;; The `full` connectivity (set by `setFull`): runs join diagonal neighbours too, and each
  ;; line joins the previous row's lines listed for it (prevFirst/prevList), not only its own.
  (global $full (mut i32) (i32.const 0))
  (global $prevFirst (mut i32) (i32.const 0))
  (global $prevList (mut i32) (i32.const 0))
  ;; f64: finished clusters, the largest, then 33 log2 histogram bins.
  (global $stats (mut i32) (i32.const 0))
  ;; Byte offsets of a row block's arrays from its base.
  (global $oStarts (mut i32) (i32.const 0))
  (global $oRank (mut i32) (i32.const 0))
  (global $oRunStart (mut i32) (i32.const 0))
  (global $oRunEnd (mut i32) (i32.const 0))
  (global $oLabel (mut i32) (i32.const 0))
  ;; Clusters alive on the previous row.
  (global $alive (mut i32) (i32.const 0))

  (func (export "init")
    (param $lines i32) (param $perLine i32) (param $lineCells i32) (param $wrapLine i32)
    (param $parent i32) (param $size i32) (param $firstOf i32) (param $remap i32)
    (param $nextSize i32) (param $nextFirst i32) (param $group i32) (param $groupSize i32)
    (param $joinFirst i32) (param $joinList i32) (param $stats i32)
    (param $oStarts i32) (param $oRank i32) (param $oRunStart i32) (param $oRunEnd i32) (param $oLabel i32)
    (global.set $lines (local.get $lines))
    (global.set $perLine (local.get $perLine))
    (global.set $lineCells (local.get $lineCells))
    (global.set $wrapLine (local.get $wrapLine))
    (global.set $parent (local.get $parent))
    (global.set $size (local.get $size))
    (global.set $firstOf (local.get $firstOf))
    (global.set $remap (local.get $remap))
    (global.set $nextSize (local.get $nextSize))
    (global.set $nextFirst (local.get $nextFirst))
    (global.set $group (local.get $group))
    (global.set $groupSize (local.get $groupSize))
    (global.set $joinFirst (local.get $joinFirst))
    (global.set $joinList (local.get $joinList))
    (global.set $stats (local.get $stats))
    (global.set $oStarts (local.get $oStarts))
    (global.set $oRank (local.get $oRank))
    (global.set $oRunStart (local.get $oRunStart))
    (global.set $oRunEnd (local.get $oRunEnd))
    (global.set $oLabel (local.get $oLabel))
    (global.set $full (i32.const 0))
    (global.set $alive (i32.const 0)))

  ;; After `init`: the `full` connectivity, with the previous row's lines each line joins.
  (func (export "setFull") (param $prevFirst i32) (param $prevList i32)
    (global.set $full (i32.const 1))
    (global.set $prevFirst (local.get $prevFirst))
    (global.set $prevList (local.get $prevList)))

  (func (export "alive") (result i32) (global.get $alive))

  ;; The root of a node, halving the path on the way.
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

  ;; The root of a face group (first-row runs joined as their clusters join).
  (func $findGroup (param $x i32) (result i32)
    (local $p i32) (local $up i32)
    (block $root
      (loop $climb
        (local.set $p (i32.load (i32.add (global.get $group) (i32.shl (local.get $x) (i32.const 2)))))
        (br_if $root (i32.eq (local.get $p) (local.get $x)))
        (local.set $up (i32.load (i32.add (global.get $group) (i32.shl (local.get $p) (i32.const 2)))))
        (i32.store (i32.add (global.get $group) (i32.shl (local.get $x) (i32.const 2))) (local.get $up))
        (local.set $x (local.get $up))
        (br $climb)))
    (local.get $x))

  ;; Joins two clusters by their roots: the older (smaller) root stays, face groups join. Sizes are
  ;; not added here but when the row is renumbered (each node's own cells to its root's new id):
  ;; an add per link chained every overlap of a large cluster through its root's size.
  (func $link (param $ra i32) (param $rb i32)
    (local $t i32)
    (if (i32.lt_u (local.get $rb) (local.get $ra))
      (then
        (local.set $t (local.get $ra))
        (local.set $ra (local.get $rb))
        (local.set $rb (local.get $t))))
    (i32.store (i32.add (global.get $parent) (i32.shl (local.get $rb) (i32.const 2))) (local.get $ra))
    (if (i32.ge_s (i32.load (i32.add (global.get $firstOf) (i32.shl (local.get $rb) (i32.const 2)))) (i32.const 0))
      (then (call $joinFirsts (local.get $ra) (local.get $rb)))))

  ;; After root rb joined root ra, where rb's cluster holds first-row runs: ra's cluster holds
  ;; them too, and their face groups join.
  (func $joinFirsts (param $ra i32) (param $rb i32)
    (local $fa i32) (local $fb i32) (local $ga i32) (local $gb i32)
    (local.set $fb (i32.load (i32.add (global.get $firstOf) (i32.shl (local.get $rb) (i32.const 2)))))
    (local.set $fa (i32.load (i32.add (global.get $firstOf) (i32.shl (local.get $ra) (i32.const 2)))))
    (if (i32.lt_s (local.get $fa) (i32.const 0))
      (then (i32.store (i32.add (global.get $firstOf) (i32.shl (local.get $ra) (i32.const 2))) (local.get $fb)))
      (else
        (local.set $ga (call $findGroup (local.get $fa)))
        (local.set $gb (call $findGroup (local.get $fb)))
        (if (i32.ne (local.get $ga) (local.get $gb))
          (then (i32.store (i32.add (global.get $group) (i32.shl (local.get $gb) (i32.const 2))) (local.get $ga)))))))

  ;; Joins two nodes' clusters (rare paths: the hot loops find their roots inline, then link).
  (func $union (param $a i32) (param $b i32)
    (local $ra i32) (local $rb i32)
    (local.set $ra (call $find (local.get $a)))
    (local.set $rb (call $find (local.get $b)))
    (if (i32.ne (local.get $ra) (local.get $rb)) (then (call $link (local.get $ra) (local.get $rb)))))

  ;; Joins the runs of line `la` of block `a` (this row: run j is node base + j) with the runs
  ;; they overlap on line `lb` of block `b`: this row again (`labels` 0) or the previous row
  ;; (`labels` 1: run j is node label[j]). Every overlap is a run of (a AND b); the two runs it
  ;; lies in are found by rank, so runs that overlap nothing cost nothing.
  (func $joinLines (param $a i32) (param $la i32) (param $b i32) (param $lb i32) (param $labels i32) (param $base i32)
    (local $wa i32) (local $wb i32) (local $end i32) (local $both i32) (local $first i32) (local $carry i32)
    (local $low i32) (local $upTo i32)
    (local $x i32) (local $y i32) (local $p i32) (local $up i32) (local $ne i32)
    (local $par i32) (local $firsts i32) (local $startsA i32) (local $startsB i32) (local $nodeA i32) (local $nodeB i32) (local $labelB i32)
    ;; The arrays' addresses in locals: a global is read from the instance at every use.
    (local.set $par (global.get $parent))
    (local.set $firsts (global.get $firstOf))
    (local.set $labelB (i32.add (local.get $b) (global.get $oLabel)))
    (local.set $wa (i32.add (local.get $a) (i32.shl (i32.mul (local.get $la) (global.get $perLine)) (i32.const 2))))
    (local.set $wb (i32.add (local.get $b) (i32.shl (i32.mul (local.get $lb) (global.get $perLine)) (i32.const 2))))
    (local.set $end (i32.add (local.get $wa) (i32.shl (global.get $perLine) (i32.const 2))))
    (block $done
      (loop $word
        (local.set $both (i32.and (i32.load (local.get $wa)) (i32.load (local.get $wb))))
        (local.set $first (i32.and (local.get $both)
          (i32.xor (i32.or (i32.shl (local.get $both) (i32.const 1)) (local.get $carry)) (i32.const -1))))
        (local.set $carry (i32.shr_u (local.get $both) (i32.const 31)))
        ;; The word's run starts and ranks, read once for all its overlaps (the stores to parent
        ;; below could alias them for all the compiler knows). A run's node: the word's first
        ;; run's node - 1, plus the starts up to the overlap.
        (local.set $startsA (i32.load (i32.add (local.get $wa) (global.get $oStarts))))
        (local.set $startsB (i32.load (i32.add (local.get $wb) (global.get $oStarts))))
        (local.set $nodeA (i32.add (local.get $base) (i32.sub (i32.load (i32.add (local.get $wa) (global.get $oRank))) (i32.const 1))))
        (local.set $nodeB (i32.sub (i32.load (i32.add (local.get $wb) (global.get $oRank))) (i32.const 1)))
        (local.set $nodeB (select (local.get $nodeB) (i32.add (local.get $base) (local.get $nodeB)) (local.get $labels)))
        (block $overlapsDone
          (loop $overlap
            (br_if $overlapsDone (i32.eqz (local.get $first)))
            (local.set $low (i32.and (local.get $first) (i32.sub (i32.const 0) (local.get $first))))
            (local.set $first (i32.xor (local.get $first) (local.get $low)))
            (local.set $upTo (i32.sub (i32.shl (local.get $low) (i32.const 1)) (i32.const 1)))
            ;; The two runs' roots, found inline (a call per find costs more than the find).
            (local.set $x (i32.add (local.get $nodeA) (i32.popcnt (i32.and (local.get $startsA) (local.get $upTo)))))
            ;; Two hops answer depths 0 and 1 without a loop exit to mispredict; deeper nodes climb.
            (local.set $p (i32.load (i32.add (local.get $par) (i32.shl (local.get $x) (i32.const 2)))))
            (local.set $up (i32.load (i32.add (local.get $par) (i32.shl (local.get $p) (i32.const 2)))))
            (if (i32.eq (local.get $p) (local.get $up))
              (then (local.set $x (local.get $p)))
              (else
                (block $xRoot
                  (loop $xClimb
                    (local.set $p (i32.load (i32.add (local.get $par) (i32.shl (local.get $x) (i32.const 2)))))
                    (br_if $xRoot (i32.eq (local.get $p) (local.get $x)))
                    (local.set $up (i32.load (i32.add (local.get $par) (i32.shl (local.get $p) (i32.const 2)))))
                    (i32.store (i32.add (local.get $par) (i32.shl (local.get $x) (i32.const 2))) (local.get $up))
                    (local.set $x (local.get $up))
                    (br $xClimb)))))
            (local.set $y (i32.add (local.get $nodeB) (i32.popcnt (i32.and (local.get $startsB) (local.get $upTo)))))
            (if (local.get $labels)
              (then (local.set $y (i32.load (i32.add (local.get $labelB) (i32.shl (local.get $y) (i32.const 2)))))))
            ;; Two hops answer depths 0 and 1 without a loop exit to mispredict; deeper nodes climb.
            (local.set $p (i32.load (i32.add (local.get $par) (i32.shl (local.get $y) (i32.const 2)))))
            (local.set $up (i32.load (i32.add (local.get $par) (i32.shl (local.get $p) (i32.const 2)))))
            (if (i32.eq (local.get $p) (local.get $up))
              (then (local.set $y (local.get $p)))
              (else
                (block $yRoot
                  (loop $yClimb
                    (local.set $p (i32.load (i32.add (local.get $par) (i32.shl (local.get $y) (i32.const 2)))))
                    (br_if $yRoot (i32.eq (local.get $p) (local.get $y)))
                    (local.set $up (i32.load (i32.add (local.get $par) (i32.shl (local.get $p) (i32.const 2)))))
                    (i32.store (i32.add (local.get $par) (i32.shl (local.get $y) (i32.const 2))) (local.get $up))
                    (local.set $y (local.get $up))
                    (br $yClimb)))))
            ;; $link without a branch (whether the two are joined already is a coin toss): the
            ;; smaller root stays. Equal roots store to the scratch word at address 0, not to
            ;; their own parent: where one cluster takes most overlaps, each store to its root's
            ;; parent and the next overlap's read of it chained every overlap through memory.
            (local.set $ne (i32.ne (local.get $x) (local.get $y)))
            (local.set $p (select (local.get $x) (local.get $y) (i32.lt_u (local.get $x) (local.get $y))))
            (local.set $up (i32.xor (i32.xor (local.get $x) (local.get $y)) (local.get $p)))
            (i32.store
              (select (i32.add (local.get $par) (i32.shl (local.get $up) (i32.const 2))) (i32.const 0) (local.get $ne))
              (local.get $p))
            (if (i32.and (local.get $ne)
                  (i32.ge_s (i32.load (i32.add (local.get $firsts) (i32.shl (local.get $up) (i32.const 2)))) (i32.const 0)))
              (then (call $joinFirsts (local.get $p) (local.get $up))))
            (br $overlap)))
        (local.set $wa (i32.add (local.get $wa) (i32.const 4)))
        (local.set $wb (i32.add (local.get $wb) (i32.const 4)))
        (br_if $word (i32.lt_u (local.get $wa) (local.get $end))))))

  ;; $joinLines for this row's line `la` joined first (with line `lb` of the same row), on a row
  ;; after the slab's first (no face groups to join: a run of `la` holds no first-row run). Every
  ;; run of `la` is then still its own root, so its root needs no find: the run itself at its
  ;; first overlap, after that the root its previous overlap left. A run of `la` is newer than
  ;; every run of `lb` and so than every root found there: at its first overlap it is the node
  ;; linked, by a store to its own node (an address known before any find). Only an overlap of
  ;; the same run whose root differs links a second root, behind a branch rarely taken where
  ;; most cells are open (joinLines stored every link to an address known only after both finds,
  ;; which the next overlap's loads had to wait for, and read the run's root back from memory).
  (func $joinFresh (param $a i32) (param $la i32) (param $lb i32) (param $base i32)
    (local $wa i32) (local $wb i32) (local $end i32) (local $both i32) (local $first i32) (local $carry i32)
    (local $low i32) (local $upTo i32)
    (local $x i32) (local $y i32) (local $p i32) (local $up i32) (local $ne i32)
    (local $lastX i32) (local $lastRoot i32) (local $rx i32)
    (local $par i32) (local $firsts i32) (local $startsA i32) (local $startsB i32) (local $nodeA i32) (local $nodeB i32)
    (local.set $par (global.get $parent))
    (local.set $firsts (global.get $firstOf))
    (local.set $lastX (i32.const -1))
    (local.set $wa (i32.add (local.get $a) (i32.shl (i32.mul (local.get $la) (global.get $perLine)) (i32.const 2))))
    (local.set $wb (i32.add (local.get $a) (i32.shl (i32.mul (local.get $lb) (global.get $perLine)) (i32.const 2))))
    (local.set $end (i32.add (local.get $wa) (i32.shl (global.get $perLine) (i32.const 2))))
    (block $done
      (loop $word
        (local.set $both (i32.and (i32.load (local.get $wa)) (i32.load (local.get $wb))))
        (local.set $first (i32.and (local.get $both)
          (i32.xor (i32.or (i32.shl (local.get $both) (i32.const 1)) (local.get $carry)) (i32.const -1))))
        (local.set $carry (i32.shr_u (local.get $both) (i32.const 31)))
        (local.set $startsA (i32.load (i32.add (local.get $wa) (global.get $oStarts))))
        (local.set $startsB (i32.load (i32.add (local.get $wb) (global.get $oStarts))))
        (local.set $nodeA (i32.add (local.get $base) (i32.sub (i32.load (i32.add (local.get $wa) (global.get $oRank))) (i32.const 1))))
        (local.set $nodeB (i32.add (local.get $base) (i32.sub (i32.load (i32.add (local.get $wb) (global.get $oRank))) (i32.const 1))))
        (block $overlapsDone
          (loop $overlap
            (br_if $overlapsDone (i32.eqz (local.get $first)))
            (local.set $low (i32.and (local.get $first) (i32.sub (i32.const 0) (local.get $first))))
            (local.set $first (i32.xor (local.get $first) (local.get $low)))
            (local.set $upTo (i32.sub (i32.shl (local.get $low) (i32.const 1)) (i32.const 1)))
            (local.set $x (i32.add (local.get $nodeA) (i32.popcnt (i32.and (local.get $startsA) (local.get $upTo)))))
            (local.set $rx (select (local.get $lastRoot) (local.get $x) (i32.eq (local.get $x) (local.get $lastX))))
            (local.set $y (i32.add (local.get $nodeB) (i32.popcnt (i32.and (local.get $startsB) (local.get $upTo)))))
            ;; Two hops answer depths 0 and 1 without a loop exit to mispredict; deeper nodes climb.
            (local.set $p (i32.load (i32.add (local.get $par) (i32.shl (local.get $y) (i32.const 2)))))
            (local.set $up (i32.load (i32.add (local.get $par) (i32.shl (local.get $p) (i32.const 2)))))
            (if (i32.eq (local.get $p) (local.get $up))
              (then (local.set $y (local.get $p)))
              (else
                (block $yRoot
                  (loop $yClimb
                    (local.set $p (i32.load (i32.add (local.get $par) (i32.shl (local.get $y) (i32.const 2)))))
                    (br_if $yRoot (i32.eq (local.get $p) (local.get $y)))
                    (local.set $up (i32.load (i32.add (local.get $par) (i32.shl (local.get $p) (i32.const 2)))))
                    (i32.store (i32.add (local.get $par) (i32.shl (local.get $y) (i32.const 2))) (local.get $up))
                    (local.set $y (local.get $up))
                    (br $yClimb)))))
            ;; The smaller root stays. The run's own node points at it (its first overlap: the
            ;; link itself); a second root of the run's cluster that differs is linked too, its
            ;; store otherwise going to the scratch word at address 0.
            (local.set $ne (i32.ne (local.get $rx) (local.get $y)))
            (local.set $p (select (local.get $rx) (local.get $y) (i32.lt_u (local.get $rx) (local.get $y))))
            (local.set $up (i32.xor (i32.xor (local.get $rx) (local.get $y)) (local.get $p)))
            (i32.store (i32.add (local.get $par) (i32.shl (local.get $x) (i32.const 2))) (local.get $p))
            (if (i32.and (local.get $ne) (i32.eq (local.get $x) (local.get $lastX)))
              (then
                (i32.store (i32.add (local.get $par) (i32.shl (local.get $up) (i32.const 2))) (local.get $p))
                (if (i32.ge_s (i32.load (i32.add (local.get $firsts) (i32.shl (local.get $up) (i32.const 2)))) (i32.const 0))
                  (then (call $joinFirsts (local.get $p) (local.get $up))))))
            (local.set $lastX (local.get $x))
            (local.set $lastRoot (local.get $p))
            (br $overlap)))
        (local.set $wa (i32.add (local.get $wa) (i32.const 4)))
        (local.set $wb (i32.add (local.get $wb) (i32.const 4)))
        (br_if $word (i32.lt_u (local.get $wa) (local.get $end))))))

  ;; $joinLines for the previous row (`labels` 1) under the `axis` connectivity, where line `lq`
  ;; is a line of this row already joined with `la` whose own previous-row joins are done, and
  ;; an overlap that holds a cell open on all four lines (la and lq in both rows) is skipped: the
  ;; runs it would join are joined already, through lq's run in this row, lq's run in the
  ;; previous row (joined with it then or, skipped, already) and the previous row's join of lq
  ;; and la. Where one cluster fills the lattice that is most previous-row overlaps.
  (func $joinPrevQuad (param $a i32) (param $la i32) (param $b i32) (param $lb i32) (param $base i32) (param $lq i32)
    (local $wq i32) (local $q i32)
    (local $wa i32) (local $wb i32) (local $end i32) (local $both i32) (local $first i32) (local $carry i32)
    (local $low i32) (local $upTo i32)
    (local $x i32) (local $y i32) (local $p i32) (local $up i32) (local $ne i32)
    (local $par i32) (local $firsts i32) (local $startsA i32) (local $startsB i32) (local $nodeA i32) (local $nodeB i32) (local $labelB i32)
    ;; The arrays' addresses in locals: a global is read from the instance at every use.
    (local.set $par (global.get $parent))
    (local.set $firsts (global.get $firstOf))
    (local.set $labelB (i32.add (local.get $b) (global.get $oLabel)))
    (local.set $wa (i32.add (local.get $a) (i32.shl (i32.mul (local.get $la) (global.get $perLine)) (i32.const 2))))
    (local.set $wb (i32.add (local.get $b) (i32.shl (i32.mul (local.get $lb) (global.get $perLine)) (i32.const 2))))
    (local.set $end (i32.add (local.get $wa) (i32.shl (global.get $perLine) (i32.const 2))))
    ;; Line lq's word in this row's block at wq, in the previous row's at wq + (b - a).
    (local.set $wq (i32.add (local.get $a) (i32.shl (i32.mul (local.get $lq) (global.get $perLine)) (i32.const 2))))
    (block $done
      (loop $word
        (local.set $both (i32.and (i32.load (local.get $wa)) (i32.load (local.get $wb))))
        (local.set $first (i32.and (local.get $both)
          (i32.xor (i32.or (i32.shl (local.get $both) (i32.const 1)) (local.get $carry)) (i32.const -1))))
        (local.set $carry (i32.shr_u (local.get $both) (i32.const 31)))
        ;; Cells open on all four lines (q). An overlap that starts in this word is joined when
        ;; it holds none of them in this word (one reaching into the next word is not seen, and
        ;; is joined): its start plus its cells that are not four-way carries from the start
        ;; through the overlap and past its end, where the sum leaves `both`; a four-way cell
        ;; stops the carry inside `both`. The bit past the end, one down, is the overlap's last
        ;; cell, which finds both runs as its start would. In 64 bits: an overlap may end at bit 31.
        (local.set $q (i32.and (local.get $both)
          (i32.and (i32.load (local.get $wq)) (i32.load (i32.add (local.get $wq) (i32.sub (local.get $b) (local.get $a)))))))
        (local.set $first (i32.wrap_i64 (i64.shr_u
          (i64.and
            (i64.add (i64.extend_i32_u (local.get $first))
              (i64.extend_i32_u (i32.and (local.get $both) (i32.xor (local.get $q) (i32.const -1)))))
            (i64.xor (i64.extend_i32_u (local.get $both)) (i64.const -1)))
          (i64.const 1))))
        (local.set $wq (i32.add (local.get $wq) (i32.const 4)))
        ;; The word's run starts and ranks, read once for all its overlaps (the stores to parent
        ;; below could alias them for all the compiler knows). A run's node: the word's first
        ;; run's node - 1, plus the starts up to the overlap.
        (local.set $startsA (i32.load (i32.add (local.get $wa) (global.get $oStarts))))
        (local.set $startsB (i32.load (i32.add (local.get $wb) (global.get $oStarts))))
        (local.set $nodeA (i32.add (local.get $base) (i32.sub (i32.load (i32.add (local.get $wa) (global.get $oRank))) (i32.const 1))))
        (local.set $nodeB (i32.sub (i32.load (i32.add (local.get $wb) (global.get $oRank))) (i32.const 1)))
        (block $overlapsDone
          (loop $overlap
            (br_if $overlapsDone (i32.eqz (local.get $first)))
            (local.set $low (i32.and (local.get $first) (i32.sub (i32.const 0) (local.get $first))))
            (local.set $first (i32.xor (local.get $first) (local.get $low)))
            (local.set $upTo (i32.sub (i32.shl (local.get $low) (i32.const 1)) (i32.const 1)))
            ;; The two runs' roots, found inline (a call per find costs more than the find).
            (local.set $x (i32.add (local.get $nodeA) (i32.popcnt (i32.and (local.get $startsA) (local.get $upTo)))))
            ;; Two hops answer depths 0 and 1 without a loop exit to mispredict; deeper nodes climb.
            (local.set $p (i32.load (i32.add (local.get $par) (i32.shl (local.get $x) (i32.const 2)))))
            (local.set $up (i32.load (i32.add (local.get $par) (i32.shl (local.get $p) (i32.const 2)))))
            (if (i32.eq (local.get $p) (local.get $up))
              (then (local.set $x (local.get $p)))
              (else
                (block $xRoot
                  (loop $xClimb
                    (local.set $p (i32.load (i32.add (local.get $par) (i32.shl (local.get $x) (i32.const 2)))))
                    (br_if $xRoot (i32.eq (local.get $p) (local.get $x)))
                    (local.set $up (i32.load (i32.add (local.get $par) (i32.shl (local.get $p) (i32.const 2)))))
                    (i32.store (i32.add (local.get $par) (i32.shl (local.get $x) (i32.const 2))) (local.get $up))
                    (local.set $x (local.get $up))
                    (br $xClimb)))))
            (local.set $y (i32.add (local.get $nodeB) (i32.popcnt (i32.and (local.get $startsB) (local.get $upTo)))))
            (local.set $y (i32.load (i32.add (local.get $labelB) (i32.shl (local.get $y) (i32.const 2)))))
            ;; Two hops answer depths 0 and 1 without a loop exit to mispredict; deeper nodes climb.
            (local.set $p (i32.load (i32.add (local.get $par) (i32.shl (local.get $y) (i32.const 2)))))
            (local.set $up (i32.load (i32.add (local.get $par) (i32.shl (local.get $p) (i32.const 2)))))
            (if (i32.eq (local.get $p) (local.get $up))
              (then (local.set $y (local.get $p)))
              (else
                (block $yRoot
                  (loop $yClimb
                    (local.set $p (i32.load (i32.add (local.get $par) (i32.shl (local.get $y) (i32.const 2)))))
                    (br_if $yRoot (i32.eq (local.get $p) (local.get $y)))
                    (local.set $up (i32.load (i32.add (local.get $par) (i32.shl (local.get $p) (i32.const 2)))))
                    (i32.store (i32.add (local.get $par) (i32.shl (local.get $y) (i32.const 2))) (local.get $up))
                    (local.set $y (local.get $up))
                    (br $yClimb)))))
            ;; $link without a branch (whether the two are joined already is a coin toss): the
            ;; smaller root stays. Equal roots store to the scratch word at address 0, not to
            ;; their own parent: where one cluster takes most overlaps, each store to its root's
            ;; parent and the next overlap's read of it chained every overlap through memory.
            (local.set $ne (i32.ne (local.get $x) (local.get $y)))
            (local.set $p (select (local.get $x) (local.get $y) (i32.lt_u (local.get $x) (local.get $y))))
            (local.set $up (i32.xor (i32.xor (local.get $x) (local.get $y)) (local.get $p)))
            (i32.store
              (select (i32.add (local.get $par) (i32.shl (local.get $up) (i32.const 2))) (i32.const 0) (local.get $ne))
              (local.get $p))
            (if (i32.and (local.get $ne)
                  (i32.ge_s (i32.load (i32.add (local.get $firsts) (i32.shl (local.get $up) (i32.const 2)))) (i32.const 0)))
              (then (call $joinFirsts (local.get $p) (local.get $up))))
            (br $overlap)))
        (local.set $wa (i32.add (local.get $wa) (i32.const 4)))
        (local.set $wb (i32.add (local.get $wb) (i32.const 4)))
        (br_if $word (i32.lt_u (local.get $wa) (local.get $end))))))

  ;; Joins the runs of line `la` of block `a` with the runs of line `lb` of block `b` that touch
  ;; them only one cell along the line (cell p of a with cell p + s of b, s = -1 or 1): the
  ;; diagonal half of the `full` connectivity. Runs that overlap are $joinLines's; runs that only
  ;; touch diagonally meet end to start, so the candidates are single bits: s = 1, a run of a
  ;; ending at p where a run of b starts at p + 1; s = -1, a run of a starting at p where one of
  ;; b ends at p - 1.
  (func $joinShifted (param $a i32) (param $la i32) (param $b i32) (param $lb i32) (param $labels i32) (param $base i32) (param $s i32)
    (local $wa i32) (local $wb i32) (local $i i32) (local $aw i32) (local $bw i32) (local $near i32) (local $m i32)
    (local $low i32) (local $ra i32) (local $rb i32) (local $last i32)
    (local.set $wa (i32.add (local.get $a) (i32.shl (i32.mul (local.get $la) (global.get $perLine)) (i32.const 2))))
    (local.set $wb (i32.add (local.get $b) (i32.shl (i32.mul (local.get $lb) (global.get $perLine)) (i32.const 2))))
    (local.set $last (i32.sub (global.get $perLine) (i32.const 1)))
    (block $done
      (loop $word
        (br_if $done (i32.ge_u (local.get $i) (global.get $perLine)))
        (local.set $aw (i32.load (local.get $wa)))
        (local.set $bw (i32.load (local.get $wb)))
        (if (i32.gt_s (local.get $s) (i32.const 0))
          (then
            ;; a open at p and blocked at p + 1; b starting at p + 1 (bits of the next word).
            (local.set $near (if (result i32) (i32.lt_u (local.get $i) (local.get $last))
              (then (i32.shl (i32.load offset=4 (local.get $wa)) (i32.const 31))) (else (i32.const 0))))
            (local.set $m (i32.and (local.get $aw)
              (i32.xor (i32.or (i32.shr_u (local.get $aw) (i32.const 1)) (local.get $near)) (i32.const -1))))
            (local.set $near (if (result i32) (i32.lt_u (local.get $i) (local.get $last))
              (then (i32.shl (i32.load offset=4 (i32.add (local.get $wb) (global.get $oStarts))) (i32.const 31))) (else (i32.const 0))))
            (local.set $m (i32.and (local.get $m)
              (i32.or (i32.shr_u (i32.load (i32.add (local.get $wb) (global.get $oStarts))) (i32.const 1)) (local.get $near)))))
          (else
            ;; a starting at p; b open at p - 1 and blocked at p.
            (local.set $near (if (result i32) (local.get $i)
              (then (i32.shr_u (i32.load (i32.sub (local.get $wb) (i32.const 4))) (i32.const 31))) (else (i32.const 0))))
            (local.set $m (i32.and (i32.load (i32.add (local.get $wa) (global.get $oStarts)))
              (i32.and (i32.or (i32.shl (local.get $bw) (i32.const 1)) (local.get $near)) (i32.xor (local.get $bw) (i32.const -1)))))))
        (block $pairsDone
          (loop $pair
            (br_if $pairsDone (i32.eqz (local.get $m)))
            (local.set $low (i32.and (local.get $m) (i32.sub (i32.const 0) (local.get $m))))
            (local.set $m (i32.xor (local.get $m) (local.get $low)))
            (local.set $ra (i32.sub
              (i32.add
                (i32.load (i32.add (local.get $wa) (global.get $oRank)))
                (i32.popcnt (i32.and (i32.load (i32.add (local.get $wa) (global.get $oStarts)))
                  (i32.sub (i32.shl (local.get $low) (i32.const 1)) (i32.const 1)))))
              (i32.const 1)))
            ;; The cell of b, p + s, may lie in the next or previous word.
            (local.set $rb (call $runAt (local.get $b) (local.get $lb)
              (i32.add (i32.add (i32.shl (local.get $i) (i32.const 5)) (i32.ctz (local.get $low))) (local.get $s))))
            (call $union (i32.add (local.get $base) (local.get $ra))
              (if (result i32) (local.get $labels)
                (then (i32.load (i32.add (i32.add (local.get $b) (global.get $oLabel)) (i32.shl (local.get $rb) (i32.const 2)))))
                (else (i32.add (local.get $base) (local.get $rb)))))
            (br $pair)))
        (local.set $wa (i32.add (local.get $wa) (i32.const 4)))
        (local.set $wb (i32.add (local.get $wb) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $word))))

  ;; The run of line `line` of `block` that holds open cell `q`: the runs starting before its word
  ;; (rank) and those starting in it up to q.
  (func $runAt (param $block i32) (param $line i32) (param $q i32) (result i32)
    (local $w i32)
    (local.set $w (i32.add (local.get $block)
      (i32.shl (i32.add (i32.mul (local.get $line) (global.get $perLine)) (i32.shr_u (local.get $q) (i32.const 5))) (i32.const 2))))
    (i32.sub
      (i32.add
        (i32.load (i32.add (local.get $w) (global.get $oRank)))
        (i32.popcnt (i32.and (i32.load (i32.add (local.get $w) (global.get $oStarts)))
          (i32.sub (i32.shl (i32.const 2) (i32.and (local.get $q) (i32.const 31))) (i32.const 1)))))
      (i32.const 1)))

  ;; Whether cell q of line `line` of `block` is open.
  (func $openAt (param $block i32) (param $line i32) (param $q i32) (result i32)
    (i32.and
      (i32.shr_u
        (i32.load (i32.add (local.get $block)
          (i32.shl (i32.add (i32.mul (local.get $line) (global.get $perLine)) (i32.shr_u (local.get $q) (i32.const 5))) (i32.const 2))))
        (i32.and (local.get $q) (i32.const 31)))
      (i32.const 1)))

  ;; Joins line `la` of `a` with line `lb` of `b` under the row's connectivity: overlapping runs,
  ;; and under `full` runs one cell apart along the line, also across a periodic line's seam.
  (func $joinNear (param $a i32) (param $la i32) (param $b i32) (param $lb i32) (param $labels i32) (param $base i32)
    (local $last i32)
    (call $joinLines (local.get $a) (local.get $la) (local.get $b) (local.get $lb) (local.get $labels) (local.get $base))
    (if (global.get $full)
      (then
        (call $joinShifted (local.get $a) (local.get $la) (local.get $b) (local.get $lb) (local.get $labels) (local.get $base) (i32.const -1))
        (call $joinShifted (local.get $a) (local.get $la) (local.get $b) (local.get $lb) (local.get $labels) (local.get $base) (i32.const 1))
        (if (global.get $wrapLine)
          (then
            (local.set $last (i32.sub (global.get $lineCells) (i32.const 1)))
            (call $joinCells (local.get $a) (local.get $la) (i32.const 0) (local.get $b) (local.get $lb) (local.get $last) (local.get $labels) (local.get $base))
            (call $joinCells (local.get $a) (local.get $la) (local.get $last) (local.get $b) (local.get $lb) (i32.const 0) (local.get $labels) (local.get $base)))))))

  ;; Joins cell qa of line la of `a` with cell qb of line lb of `b` when both are open.
  (func $joinCells (param $a i32) (param $la i32) (param $qa i32) (param $b i32) (param $lb i32) (param $qb i32) (param $labels i32) (param $base i32)
    (local $rb i32)
    (if (i32.and (call $openAt (local.get $a) (local.get $la) (local.get $qa)) (call $openAt (local.get $b) (local.get $lb) (local.get $qb)))
      (then
        (local.set $rb (call $runAt (local.get $b) (local.get $lb) (local.get $qb)))
        (call $union (i32.add (local.get $base) (call $runAt (local.get $a) (local.get $la) (local.get $qa)))
          (if (result i32) (local.get $labels)
            (then (i32.load (i32.add (i32.add (local.get $b) (global.get $oLabel)) (i32.shl (local.get $rb) (i32.const 2)))))
            (else (i32.add (local.get $base) (local.get $rb))))))))

  ;; The open bits of the row in `block` under the procedural rule, written in place of a fill
  ;; from JavaScript: cell x of line k is open when lowbias32(h0 + k·lineCells + x) >= threshold
  ;; (unsigned; shared/lattice/lowbias32.ts), 32 cells a word, bits past a line's end 0. The hash is
  ;; written out for each group of four cells: a call per group costs more than the hash.
  (func (export "fillProcedural") (param $block i32) (param $h0 i32) (param $threshold i32)
    (local $line i32) (local $x i32) (local $at i32) (local $word i32) (local $half i32) (local $bits i32)
    (local $t v128) (local $c1 v128) (local $c2 v128) (local $four v128) (local $v v128) (local $y v128)
    (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $q3 v128)
    (local.set $t (i32x4.splat (local.get $threshold)))
    (local.set $c1 (i32x4.splat (i32.const 0x7feb352d)))
    (local.set $c2 (i32x4.splat (i32.const 0x846ca68b)))
    (local.set $four (i32x4.splat (i32.const 4)))
    (local.set $at (local.get $block))
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

  ;; Labels the row whose open bits are in block `cur`, joined with the previous row in block
  ;; `prev` unless this is the slab's first row (`first` 1: its runs start the face groups).
  ;; Afterwards the row's clusters are numbered 0..m-1 (label per run), the previous row's
  ;; clusters that no run joined are finished, and m clusters are alive. Returns the row's runs.
  (func (export "row") (param $cur i32) (param $prev i32) (param $first i32) (result i32)
    (local $line i32) (local $i i32) (local $w i32) (local $word i32) (local $st i32) (local $en i32)
    (local $carry i32) (local $pos i32) (local $n i32) (local $ne i32) (local $k i32) (local $node i32)
    (local $a0 i32) (local $a1 i32) (local $j i32) (local $j1 i32) (local $alive i32) (local $m i32)
    (local $root i32) (local $id i32) (local $f i32) (local $p i32) (local $up i32)
    (local $starts i32) (local $rank i32) (local $runStart i32) (local $runEnd i32) (local $label i32)
    (local $at i32) (local $stop i32) (local $lq i32) (local $open i32) (local $quad i32)
    (local $done i32) (local $bin i32) (local $cells i64) (local $s f64) (local $add f64) (local $count f64) (local $largest f64)
    (local $nodes v128) (local $lastRoot i32) (local $lastId i32) (local $run i64)
    (local.set $alive (global.get $alive))
    (local.set $starts (i32.add (local.get $cur) (global.get $oStarts)))
    (local.set $rank (i32.add (local.get $cur) (global.get $oRank)))
    (local.set $runStart (i32.add (local.get $cur) (global.get $oRunStart)))
    (local.set $runEnd (i32.add (local.get $cur) (global.get $oRunEnd)))
    (local.set $label (i32.add (local.get $cur) (global.get $oLabel)))

    ;; Runs, a word at a time: starts are open cells after a blocked one, ends blocked cells
    ;; after an open one (or the line's end), each found by counting trailing zeros.
    (block $linesDone
      (loop $nextLine
        (br_if $linesDone (i32.ge_u (local.get $line) (global.get $lines)))
        (local.set $carry (i32.const 0))
        (local.set $pos (i32.const 0))
        (local.set $i (i32.const 0))
        (loop $nextWord
          (local.set $word (i32.load (i32.add (local.get $cur) (i32.shl (local.get $w) (i32.const 2)))))
          (local.set $open (i32.add (local.get $open) (i32.popcnt (local.get $word))))
          (local.set $en (i32.or (i32.shl (local.get $word) (i32.const 1)) (local.get $carry)))
          (local.set $st (i32.and (local.get $word) (i32.xor (local.get $en) (i32.const -1))))
          (local.set $en (i32.and (local.get $en) (i32.xor (local.get $word) (i32.const -1))))
          (local.set $carry (i32.shr_u (local.get $word) (i32.const 31)))
          (i32.store (i32.add (local.get $starts) (i32.shl (local.get $w) (i32.const 2))) (local.get $st))
          (i32.store (i32.add (local.get $rank) (i32.shl (local.get $w) (i32.const 2))) (local.get $n))
          ;; Eight positions per turn, written whether there are that many or not (ctz of 0 is 32;
          ;; the arrays have room past their end): most words take one turn, so the loop's exit is
          ;; predictable where a turn per position mispredicts once a word.
          (local.set $at (i32.add (local.get $runStart) (i32.shl (local.get $n) (i32.const 2))))
          (local.set $n (i32.add (local.get $n) (i32.popcnt (local.get $st))))
          (local.set $stop (i32.add (local.get $runStart) (i32.shl (local.get $n) (i32.const 2))))
          (if (local.get $st)
            (then
              (loop $start
              (i32.store offset=0 (local.get $at) (i32.add (local.get $pos) (i32.ctz (local.get $st))))
              (local.set $st (i32.and (local.get $st) (i32.sub (local.get $st) (i32.const 1))))
              (i32.store offset=4 (local.get $at) (i32.add (local.get $pos) (i32.ctz (local.get $st))))
              (local.set $st (i32.and (local.get $st) (i32.sub (local.get $st) (i32.const 1))))
              (i32.store offset=8 (local.get $at) (i32.add (local.get $pos) (i32.ctz (local.get $st))))
              (local.set $st (i32.and (local.get $st) (i32.sub (local.get $st) (i32.const 1))))
              (i32.store offset=12 (local.get $at) (i32.add (local.get $pos) (i32.ctz (local.get $st))))
              (local.set $st (i32.and (local.get $st) (i32.sub (local.get $st) (i32.const 1))))
              (i32.store offset=16 (local.get $at) (i32.add (local.get $pos) (i32.ctz (local.get $st))))
              (local.set $st (i32.and (local.get $st) (i32.sub (local.get $st) (i32.const 1))))
              (i32.store offset=20 (local.get $at) (i32.add (local.get $pos) (i32.ctz (local.get $st))))
              (local.set $st (i32.and (local.get $st) (i32.sub (local.get $st) (i32.const 1))))
              (i32.store offset=24 (local.get $at) (i32.add (local.get $pos) (i32.ctz (local.get $st))))
              (local.set $st (i32.and (local.get $st) (i32.sub (local.get $st) (i32.const 1))))
              (i32.store offset=28 (local.get $at) (i32.add (local.get $pos) (i32.ctz (local.get $st))))
              (local.set $st (i32.and (local.get $st) (i32.sub (local.get $st) (i32.const 1))))
              (local.set $at (i32.add (local.get $at) (i32.const 32)))
              (br_if $start (i32.lt_u (local.get $at) (local.get $stop))))))
          ;; Eight positions per turn, written whether there are that many or not (ctz of 0 is 32;
          ;; the arrays have room past their end): most words take one turn, so the loop's exit is
          ;; predictable where a turn per position mispredicts once a word.
          (local.set $at (i32.add (local.get $runEnd) (i32.shl (local.get $ne) (i32.const 2))))
          (local.set $ne (i32.add (local.get $ne) (i32.popcnt (local.get $en))))
          (local.set $stop (i32.add (local.get $runEnd) (i32.shl (local.get $ne) (i32.const 2))))
          (if (local.get $en)
            (then
              (loop $end
              (i32.store offset=0 (local.get $at) (i32.add (local.get $pos) (i32.ctz (local.get $en))))
              (local.set $en (i32.and (local.get $en) (i32.sub (local.get $en) (i32.const 1))))
              (i32.store offset=4 (local.get $at) (i32.add (local.get $pos) (i32.ctz (local.get $en))))
              (local.set $en (i32.and (local.get $en) (i32.sub (local.get $en) (i32.const 1))))
              (i32.store offset=8 (local.get $at) (i32.add (local.get $pos) (i32.ctz (local.get $en))))
              (local.set $en (i32.and (local.get $en) (i32.sub (local.get $en) (i32.const 1))))
              (i32.store offset=12 (local.get $at) (i32.add (local.get $pos) (i32.ctz (local.get $en))))
              (local.set $en (i32.and (local.get $en) (i32.sub (local.get $en) (i32.const 1))))
              (i32.store offset=16 (local.get $at) (i32.add (local.get $pos) (i32.ctz (local.get $en))))
              (local.set $en (i32.and (local.get $en) (i32.sub (local.get $en) (i32.const 1))))
              (i32.store offset=20 (local.get $at) (i32.add (local.get $pos) (i32.ctz (local.get $en))))
              (local.set $en (i32.and (local.get $en) (i32.sub (local.get $en) (i32.const 1))))
              (i32.store offset=24 (local.get $at) (i32.add (local.get $pos) (i32.ctz (local.get $en))))
              (local.set $en (i32.and (local.get $en) (i32.sub (local.get $en) (i32.const 1))))
              (i32.store offset=28 (local.get $at) (i32.add (local.get $pos) (i32.ctz (local.get $en))))
              (local.set $en (i32.and (local.get $en) (i32.sub (local.get $en) (i32.const 1))))
              (local.set $at (i32.add (local.get $at) (i32.const 32)))
              (br_if $end (i32.lt_u (local.get $at) (local.get $stop))))))
          (local.set $pos (i32.add (local.get $pos) (i32.const 32)))
          (local.set $w (i32.add (local.get $w) (i32.const 1)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $nextWord (i32.lt_u (local.get $i) (global.get $perLine))))
        ;; A run reaching the last bit of a full last word ends at the line's end.
        (if (local.get $carry)
          (then
            (i32.store (i32.add (local.get $runEnd) (i32.shl (local.get $ne) (i32.const 2))) (global.get $lineCells))
            (local.set $ne (i32.add (local.get $ne) (i32.const 1)))))
        (local.set $line (i32.add (local.get $line) (i32.const 1)))
        (br $nextLine)))

;; A node per run: its own root, and on the first row its face group (its cells are counted
    ;; from its start and end after the joins). After the first row a run has no face group:
    ;; -1 for all at once, and the roots four nodes a store.
    (if (local.get $first)
      (then
        (local.set $k (i32.const 0))
        (block $nodesDone
          (loop $nextNode
            (br_if $nodesDone (i32.ge_u (local.get $k) (local.get $n)))
            (local.set $node (i32.add (local.get $alive) (local.get $k)))
            (i32.store (i32.add (global.get $parent) (i32.shl (local.get $node) (i32.const 2))) (local.get $node))
            (i32.store (i32.add (global.get $firstOf) (i32.shl (local.get $node) (i32.const 2))) (local.get $k))
            (i32.store (i32.add (global.get $group) (i32.shl (local.get $k) (i32.const 2))) (local.get $k))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $nextNode))))
      (else
        (memory.fill (i32.add (global.get $firstOf) (i32.shl (local.get $alive) (i32.const 2))) (i32.const 0xff)
          (i32.shl (local.get $n) (i32.const 2)))
        (local.set $at (i32.add (global.get $parent) (i32.shl (local.get $alive) (i32.const 2))))
        (local.set $stop (i32.add (local.get $at) (i32.shl (local.get $n) (i32.const 2))))
        (local.set $nodes (i32x4.add (i32x4.splat (local.get $alive)) (v128.const i32x4 0 1 2 3)))
        (block $fourDone
          (loop $four
            (br_if $fourDone (i32.gt_u (i32.add (local.get $at) (i32.const 16)) (local.get $stop)))
            (v128.store (local.get $at) (local.get $nodes))
            (local.set $nodes (i32x4.add (local.get $nodes) (v128.const i32x4 4 4 4 4)))
            (local.set $at (i32.add (local.get $at) (i32.const 16)))
            (br $four)))
        ;; The last one to three nodes (the array may end there).
        (local.set $node (i32x4.extract_lane 0 (local.get $nodes)))
        (block $restDone
          (loop $rest
            (br_if $restDone (i32.ge_u (local.get $at) (local.get $stop)))
            (i32.store (local.get $at) (local.get $node))
            (local.set $node (i32.add (local.get $node) (i32.const 1)))
            (local.set $at (i32.add (local.get $at) (i32.const 4)))
            (br $rest)))))

    ;; The four-way skip of the previous row's joins (joinLines) pays for its masks only where
    ;; at least 2/5 of the row's cells are open: below that, few overlaps hold a four-way cell.
    (local.set $quad (i64.ge_u (i64.mul (i64.extend_i32_u (local.get $open)) (i64.const 5))
      (i64.mul (i64.extend_i32_u (i32.mul (global.get $lines) (global.get $lineCells))) (i64.const 2))))
    ;; Joins: the periodic last axis, the lines listed for each line (middle axes), the previous row.
    (local.set $line (i32.const 0))
    (block $joinsDone
      (loop $joinLine
        (br_if $joinsDone (i32.ge_u (local.get $line) (global.get $lines)))
        (local.set $a0 (i32.load (i32.add (local.get $rank) (i32.shl (i32.mul (local.get $line) (global.get $perLine)) (i32.const 2)))))
        (local.set $a1
          (if (result i32) (i32.lt_u (i32.add (local.get $line) (i32.const 1)) (global.get $lines))
            (then (i32.load (i32.add (local.get $rank)
              (i32.shl (i32.mul (i32.add (local.get $line) (i32.const 1)) (global.get $perLine)) (i32.const 2)))))
            (else (local.get $n))))
        (if (i32.gt_u (local.get $a1) (local.get $a0))
          (then
            (local.set $j (i32.load (i32.add (global.get $joinFirst) (i32.shl (local.get $line) (i32.const 2)))))
            (local.set $j1 (i32.load (i32.add (global.get $joinFirst) (i32.shl (i32.add (local.get $line) (i32.const 1)) (i32.const 2)))))
            ;; The first line listed for this one (-1: none), for the previous row's join below.
            (local.set $lq (select
              (i32.load (i32.add (global.get $joinList) (i32.shl (local.get $j) (i32.const 2))))
              (i32.const -1)
              (i32.lt_u (local.get $j) (local.get $j1))))
            ;; The line's first join, while its runs are their own roots (joinFresh); the
            ;; periodic last axis's seam is joined after the listed lines for that reason.
            (if (i32.and (i32.eqz (i32.or (global.get $full) (local.get $first))) (i32.ge_s (local.get $lq) (i32.const 0)))
              (then
                (call $joinFresh (local.get $cur) (local.get $line) (local.get $lq) (local.get $alive))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))))
            (block $listDone
              (loop $listed
                (br_if $listDone (i32.ge_u (local.get $j) (local.get $j1)))
                (call $joinNear (local.get $cur) (local.get $line) (local.get $cur)
                  (i32.load (i32.add (global.get $joinList) (i32.shl (local.get $j) (i32.const 2))))
                  (i32.const 0) (local.get $alive))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $listed)))
            (if (i32.and
                  (i32.and (global.get $wrapLine) (i32.gt_u (i32.sub (local.get $a1) (local.get $a0)) (i32.const 1)))
                  (i32.and
                    (i32.eqz (i32.load (i32.add (local.get $runStart) (i32.shl (local.get $a0) (i32.const 2)))))
                    (i32.eq (i32.load (i32.add (local.get $runEnd) (i32.shl (i32.sub (local.get $a1) (i32.const 1)) (i32.const 2))))
                      (global.get $lineCells))))
              (then (call $union (i32.add (local.get $alive) (local.get $a0))
                (i32.add (local.get $alive) (i32.sub (local.get $a1) (i32.const 1))))))
            (if (i32.eqz (local.get $first))
              (then
                (if (global.get $full)
                  (then
                    ;; Under `full`, every previous-row line listed for this one.
                    (local.set $j (i32.load (i32.add (global.get $prevFirst) (i32.shl (local.get $line) (i32.const 2)))))
                    (local.set $j1 (i32.load (i32.add (global.get $prevFirst) (i32.shl (i32.add (local.get $line) (i32.const 1)) (i32.const 2)))))
                    (block $prevDone
                      (loop $prevListed
                        (br_if $prevDone (i32.ge_u (local.get $j) (local.get $j1)))
                        (call $joinNear (local.get $cur) (local.get $line) (local.get $prev)
                          (i32.load (i32.add (global.get $prevList) (i32.shl (local.get $j) (i32.const 2))))
                          (i32.const 1) (local.get $alive))
                        (local.set $j (i32.add (local.get $j) (i32.const 1)))
                        (br $prevListed))))
                  (else
                    (if (i32.and (local.get $quad) (i32.ge_s (local.get $lq) (i32.const 0)))
                      (then (call $joinPrevQuad (local.get $cur) (local.get $line) (local.get $prev) (local.get $line)
                        (local.get $alive) (local.get $lq)))
                      (else (call $joinLines (local.get $cur) (local.get $line) (local.get $prev) (local.get $line)
                        (i32.const 1) (local.get $alive))))))))))
        (local.set $line (i32.add (local.get $line) (i32.const 1)))
        (br $joinLine)))

    ;; Renumber this row's clusters 0..m-1 (remap is -1 on entry for every node). In a dense row
    ;; (quad) one cluster holds most runs, so a root equal to the previous run's takes its id from
    ;; a register, behind a branch taken nearly always there, and its cells add up in a register
    ;; until the root changes (no loop of its own for the sizes); elsewhere that branch is a coin
    ;; toss and the loop has none.
    (if (local.get $quad)
      (then
        (local.set $k (i32.const 0))
        (local.set $lastRoot (i32.const -1))
        (local.set $bin (i32.const 8))
        (local.set $cells (i64.const 0))
        (block $denseDone
          (loop $nextDense
            (br_if $denseDone (i32.ge_u (local.get $k) (local.get $n)))
            (local.set $root (i32.add (local.get $alive) (local.get $k)))
            ;; Two hops answer depths 0 and 1 without a loop exit to mispredict; deeper nodes climb.
            (local.set $p (i32.load (i32.add (global.get $parent) (i32.shl (local.get $root) (i32.const 2)))))
            (local.set $up (i32.load (i32.add (global.get $parent) (i32.shl (local.get $p) (i32.const 2)))))
            (if (i32.eq (local.get $p) (local.get $up))
              (then (local.set $root (local.get $p)))
              (else
                (block $denseFound
                  (loop $denseClimb
                    (local.set $p (i32.load (i32.add (global.get $parent) (i32.shl (local.get $root) (i32.const 2)))))
                    (br_if $denseFound (i32.eq (local.get $p) (local.get $root)))
                    (local.set $up (i32.load (i32.add (global.get $parent) (i32.shl (local.get $p) (i32.const 2)))))
                    (i32.store (i32.add (global.get $parent) (i32.shl (local.get $root) (i32.const 2))) (local.get $up))
                    (local.set $root (local.get $up))
                    (br $denseClimb)))))
            (local.set $run (i64.extend_i32_u (i32.sub
              (i32.load (i32.add (local.get $runEnd) (i32.shl (local.get $k) (i32.const 2))))
              (i32.load (i32.add (local.get $runStart) (i32.shl (local.get $k) (i32.const 2)))))))
            (if (i32.eq (local.get $root) (local.get $lastRoot))
              (then
                (i32.store (i32.add (local.get $label) (i32.shl (local.get $k) (i32.const 2))) (local.get $lastId))
                (local.set $cells (i64.add (local.get $cells) (local.get $run))))
              (else
                ;; The last root's cells to its slot (the scratch word at 8 before the first).
                (f64.store (local.get $bin) (f64.add (f64.load (local.get $bin)) (f64.convert_i64_u (local.get $cells))))
                ;; As in the loop below.
                (local.set $id (i32.load (i32.add (global.get $remap) (i32.shl (local.get $root) (i32.const 2)))))
                (local.set $f (i32.lt_s (local.get $id) (i32.const 0)))
                (local.set $id (select (local.get $m) (local.get $id) (local.get $f)))
                (local.set $m (i32.add (local.get $m) (local.get $f)))
                (i32.store (select (i32.add (global.get $remap) (i32.shl (local.get $root) (i32.const 2))) (i32.const 0) (local.get $f))
                  (local.get $id))
                (i32.store (select (i32.add (global.get $nextFirst) (i32.shl (local.get $id) (i32.const 2))) (i32.const 0) (local.get $f))
                  (i32.load (i32.add (global.get $firstOf) (i32.shl (local.get $root) (i32.const 2)))))
                (i32.store (i32.add (local.get $label) (i32.shl (local.get $k) (i32.const 2))) (local.get $id))
                ;; A new id's slot starts at 0 (the scratch word at 8 for a known one).
                (f64.store (select (i32.add (global.get $nextSize) (i32.shl (local.get $id) (i32.const 3))) (i32.const 8) (local.get $f))
                  (f64.const 0))
                (local.set $bin (i32.add (global.get $nextSize) (i32.shl (local.get $id) (i32.const 3))))
                (local.set $cells (local.get $run))
                (local.set $lastRoot (local.get $root))
                (local.set $lastId (local.get $id))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $nextDense)))
        (f64.store (local.get $bin) (f64.add (f64.load (local.get $bin)) (f64.convert_i64_u (local.get $cells)))))
      (else
        (local.set $k (i32.const 0))
        (block $labelsDone
          (loop $nextLabel
            (br_if $labelsDone (i32.ge_u (local.get $k) (local.get $n)))
            (local.set $root (i32.add (local.get $alive) (local.get $k)))
            ;; Two hops answer depths 0 and 1 without a loop exit to mispredict; deeper nodes climb.
            (local.set $p (i32.load (i32.add (global.get $parent) (i32.shl (local.get $root) (i32.const 2)))))
            (local.set $up (i32.load (i32.add (global.get $parent) (i32.shl (local.get $p) (i32.const 2)))))
            (if (i32.eq (local.get $p) (local.get $up))
              (then (local.set $root (local.get $p)))
              (else
                (block $found
                  (loop $climb
                    (local.set $p (i32.load (i32.add (global.get $parent) (i32.shl (local.get $root) (i32.const 2)))))
                    (br_if $found (i32.eq (local.get $p) (local.get $root)))
                    (local.set $up (i32.load (i32.add (global.get $parent) (i32.shl (local.get $p) (i32.const 2)))))
                    (i32.store (i32.add (global.get $parent) (i32.shl (local.get $root) (i32.const 2))) (local.get $up))
                    (local.set $root (local.get $up))
                    (br $climb)))))
            ;; A root seen first takes the next id. Without a branch (whether a root is new is a coin
            ;; toss where clusters are small): a root seen before stores to the scratch word at
            ;; address 0 (a store of its id to its own slot, read by its next run, chained every run
            ;; of a large cluster through memory).
            (local.set $id (i32.load (i32.add (global.get $remap) (i32.shl (local.get $root) (i32.const 2)))))
            (local.set $f (i32.lt_s (local.get $id) (i32.const 0)))
            (local.set $id (select (local.get $m) (local.get $id) (local.get $f)))
            (local.set $m (i32.add (local.get $m) (local.get $f)))
            (i32.store (select (i32.add (global.get $remap) (i32.shl (local.get $root) (i32.const 2))) (i32.const 0) (local.get $f))
              (local.get $id))
            (i32.store (select (i32.add (global.get $nextFirst) (i32.shl (local.get $id) (i32.const 2))) (i32.const 0) (local.get $f))
              (i32.load (i32.add (global.get $firstOf) (i32.shl (local.get $root) (i32.const 2)))))
            (i32.store (i32.add (local.get $label) (i32.shl (local.get $k) (i32.const 2))) (local.get $id))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $nextLabel)))))
    ;; The new clusters' sizes: each run's cells, then each joined previous cluster's (below).
    ;; Runs in a row that share an id (most of them where one cluster fills the lattice) add up in
    ;; a register and reach memory when the id changes; until then the slot's value goes to the
    ;; scratch word at address 8. Without a branch (whether the id changes is a coin toss where
    ;; clusters are small), and without chaining the runs of one id through a store and a load
    ;; of its slot.
    ;; A dense row's runs were added while it was renumbered (above).
    (memory.fill (global.get $nextSize) (i32.const 0) (i32.shl (select (i32.const 0) (local.get $m) (local.get $quad)) (i32.const 3)))
    (if (i32.and (i32.ne (local.get $n) (i32.const 0)) (i32.eqz (local.get $quad)))
      (then
        (local.set $id (i32.load (local.get $label)))
        (local.set $cells (i64.const 0))
        (local.set $k (i32.const 0))
        (loop $runSize
          (local.set $f (i32.load (i32.add (local.get $label) (i32.shl (local.get $k) (i32.const 2)))))
          (local.set $bin (i32.add (global.get $nextSize) (i32.shl (local.get $id) (i32.const 3))))
          (local.set $done (i32.eq (local.get $f) (local.get $id)))
          (f64.store (select (i32.const 8) (local.get $bin) (local.get $done))
            (f64.add (f64.load (local.get $bin)) (f64.convert_i64_u (local.get $cells))))
          (local.set $cells (i64.add
            (select (local.get $cells) (i64.const 0) (local.get $done))
            (i64.extend_i32_u (i32.sub
              (i32.load (i32.add (local.get $runEnd) (i32.shl (local.get $k) (i32.const 2))))
              (i32.load (i32.add (local.get $runStart) (i32.shl (local.get $k) (i32.const 2))))))))
          (local.set $id (local.get $f))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $runSize (i32.lt_u (local.get $k) (local.get $n))))
        (local.set $bin (i32.add (global.get $nextSize) (i32.shl (local.get $id) (i32.const 3))))
        (f64.store (local.get $bin) (f64.add (f64.load (local.get $bin)) (f64.convert_i64_u (local.get $cells))))))
    ;; The previous row's clusters: a joined one takes its root's new id (its cells are added
    ;; below); one that no run joined is done: finished, or sized in its face group. Every link
    ;; joins a run of this row, so a root that a run's renumbering did not reach is a cluster
    ;; alone. Without a branch on whether a cluster is done (a coin toss where clusters are
    ;; small): its finished counts add 0 or 1.
    (local.set $k (i32.const 0))
    (local.set $count (f64.load (global.get $stats)))
    (local.set $largest (f64.load offset=8 (global.get $stats)))
    (block $doneDone
      (loop $nextDone
        (br_if $doneDone (i32.ge_u (local.get $k) (local.get $alive)))
        (local.set $root (local.get $k))
        (local.set $p (i32.load (i32.add (global.get $parent) (i32.shl (local.get $root) (i32.const 2)))))
        (local.set $up (i32.load (i32.add (global.get $parent) (i32.shl (local.get $p) (i32.const 2)))))
        (if (i32.eq (local.get $p) (local.get $up))
          (then (local.set $root (local.get $p)))
          (else (local.set $root (call $find (local.get $root)))))
        (local.set $id (i32.load (i32.add (global.get $remap) (i32.shl (local.get $root) (i32.const 2)))))
        (local.set $done (i32.eq (local.get $id) (i32.const -1)))
        (local.set $f (i32.load (i32.add (global.get $firstOf) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $s (f64.load (i32.add (global.get $size) (i32.shl (local.get $k) (i32.const 3)))))
        ;; Its new id for the loop below, in its first-row slot (read no more: the live clusters'
        ;; are rewritten below).
        (i32.store (i32.add (global.get $firstOf) (i32.shl (local.get $k) (i32.const 2))) (local.get $id))
        (if (i32.and (local.get $done) (i32.ge_s (local.get $f) (i32.const 0)))
          (then (f64.store (i32.add (global.get $groupSize) (i32.shl (call $findGroup (local.get $f)) (i32.const 3))) (local.get $s))))
        (local.set $done (i32.and (local.get $done) (i32.lt_s (local.get $f) (i32.const 0))))
        (local.set $add (f64.convert_i32_u (local.get $done)))
        (local.set $count (f64.add (local.get $count) (local.get $add)))
        (local.set $largest (f64.max (local.get $largest) (f64.mul (local.get $s) (local.get $add))))
        ;; Its log2 bin (a cluster has a cell at least).
        (local.set $bin (i32.add (global.get $stats)
          (i32.shl (i32.sub (i32.const 63) (i32.wrap_i64 (i64.clz (i64.trunc_f64_u (local.get $s))))) (i32.const 3))))
        (f64.store offset=16 (local.get $bin) (f64.add (f64.load offset=16 (local.get $bin)) (local.get $add)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $nextDone)))
    (f64.store (global.get $stats) (local.get $count))
    (f64.store offset=8 (global.get $stats) (local.get $largest))
    ;; Joined previous clusters' cells to their new ids (a done one's to its own size slot, read no
    ;; more: the live clusters' sizes are rewritten below).
    (local.set $k (i32.const 0))
    (block $prevSizesDone
      (loop $prevSize
        (br_if $prevSizesDone (i32.ge_u (local.get $k) (local.get $alive)))
        (local.set $id (i32.load (i32.add (global.get $firstOf) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $bin (select
          (i32.add (global.get $size) (i32.shl (local.get $k) (i32.const 3)))
          (i32.add (global.get $nextSize) (i32.shl (local.get $id) (i32.const 3)))
          (i32.lt_s (local.get $id) (i32.const 0))))
        (f64.store (local.get $bin) (f64.add (f64.load (local.get $bin))
          (f64.load (i32.add (global.get $size) (i32.shl (local.get $k) (i32.const 3))))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $prevSize)))
    (memory.fill (global.get $remap) (i32.const 0xff) (i32.shl (i32.add (local.get $alive) (local.get $n)) (i32.const 2)))
    ;; The live clusters become nodes 0..m-1, each its own root.
    (local.set $id (i32.const 0))
    (block $liveDone
      (loop $nextLive
        (br_if $liveDone (i32.ge_u (local.get $id) (local.get $m)))
        (i32.store (i32.add (global.get $parent) (i32.shl (local.get $id) (i32.const 2))) (local.get $id))
        (f64.store (i32.add (global.get $size) (i32.shl (local.get $id) (i32.const 3)))
          (f64.load (i32.add (global.get $nextSize) (i32.shl (local.get $id) (i32.const 3)))))
        (i32.store (i32.add (global.get $firstOf) (i32.shl (local.get $id) (i32.const 2)))
          (i32.load (i32.add (global.get $nextFirst) (i32.shl (local.get $id) (i32.const 2)))))
        (local.set $id (i32.add (local.get $id) (i32.const 1)))
        (br $nextLive)))
    (global.set $alive (local.get $m))
    (local.get $n))
)
