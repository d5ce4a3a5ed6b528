;; Dial's buckets for least costs on a cost map (worker/kernels/dial-wasm.ts). A path's cost is
;; the sum of the costs of the cells it enters, so the first time a cell is reached, from the
;; cheapest settled neighbour, is final: its cost byte is zeroed (reached), the move that reached
;; it recorded when asked, and it goes to the bucket of its cost; no distance is stored and no
;; entry goes stale. The ring of maxCost + 1 buckets is of stacks of 4 KiB chunks (a link and 1023
;; cells) from a free list, grown with the memory. A cell's neighbours are its index plus the
;; offsets of its class's row (which faces it is on): no coordinate is computed. The state lives
;; in the header, so `run` stops after `budget` settled cells (a cancel check) or when the chunks
;; run out, and the next call resumes. Header (i32 at byte offset): 0 cost, 4 slot, 8 pending,
;; 12 settled, 16 cells settled at the current cost, 20 free chunk list, 24 free chunks, 28 bump
;; pointer, 32 class rows, 36 bytes of a row, 40 bucket heads, 44 bucket fills, 48 costs,
;; 52 classes, 56 moves (0: not recorded), 60 ring, 64 end cell (-1: none), 68 most neighbours.
(module
  ;; Called once per cost that settled cells: (cost, cells settled at it).
  (import "dial" "level" (func $level (param i32 i32)))
  (memory (export "memory") 1)

  ;; The public cost rule (shared/lattice/cost-rule.ts) over the open cells of `costs` (non-zero
  ;; bytes), cells [0, cells): 1 + lowbias32(i + offset) mod max. Returns the open cells.
  (func (export "fillCosts") (param $costs i32) (param $cells i32) (param $offset i32) (param $max i32) (result i32)
    (local $i i32) (local $at i32) (local $x i32) (local $open i32)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $cells)))
        (local.set $at (i32.add (local.get $costs) (local.get $i)))
        (if (i32.load8_u (local.get $at))
          (then
            (local.set $x (i32.add (local.get $i) (local.get $offset)))
            (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 16))))
            (local.set $x (i32.mul (local.get $x) (i32.const 0x7feb352d)))
            (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 15))))
            (local.set $x (i32.mul (local.get $x) (i32.const 0x846ca68b)))
            (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 16))))
            (i32.store8 (local.get $at) (i32.add (i32.const 1) (i32.rem_u (local.get $x) (local.get $max))))
            (local.set $open (i32.add (local.get $open) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (local.get $open))

  ;; Makes `want` free chunks available from the bump area; returns 0 when the memory is too small.
  (func $reserve (param $want i32) (result i32)
    (local $free i32) (local $nfree i32) (local $bump i32) (local $end i32)
    (local.set $free (i32.load (i32.const 20)))
    (local.set $nfree (i32.load (i32.const 24)))
    (local.set $bump (i32.load (i32.const 28)))
    (local.set $end (i32.shl (memory.size) (i32.const 16)))
    (block $full
      (loop $more
        (br_if $full (i32.ge_u (local.get $nfree) (local.get $want)))
        (br_if $full (i32.gt_u (i32.add (local.get $bump) (i32.const 4096)) (local.get $end)))
        (i32.store (local.get $bump) (local.get $free))
        (local.set $free (local.get $bump))
        (local.set $bump (i32.add (local.get $bump) (i32.const 4096)))
        (local.set $nfree (i32.add (local.get $nfree) (i32.const 1)))
        (br $more)))
    (i32.store (i32.const 20) (local.get $free))
    (i32.store (i32.const 24) (local.get $nfree))
    (i32.store (i32.const 28) (local.get $bump))
    (i32.ge_u (local.get $nfree) (local.get $want)))

  ;; A source: reached, in the bucket of cost 0. Returns 0 when no chunk is left (grow, call again).
  (func (export "source") (param $cell i32) (result i32)
    (local $chunk i32) (local $fill i32) (local $fresh i32)
    (if (i32.eqz (call $reserve (i32.const 1))) (then (return (i32.const 0))))
    (i32.store8 (i32.add (i32.load (i32.const 48)) (local.get $cell)) (i32.const 0))
    (local.set $chunk (i32.load (i32.load (i32.const 40))))
    (local.set $fill (i32.load (i32.load (i32.const 44))))
    (if (i32.or (i32.eqz (local.get $chunk)) (i32.eq (local.get $fill) (i32.const 1023)))
      (then
        (local.set $fresh (i32.load (i32.const 20)))
        (i32.store (i32.const 20) (i32.load (local.get $fresh)))
        (i32.store (i32.const 24) (i32.sub (i32.load (i32.const 24)) (i32.const 1)))
        (i32.store (local.get $fresh) (local.get $chunk))
        (i32.store (i32.load (i32.const 40)) (local.get $fresh))
        (local.set $chunk (local.get $fresh))
        (local.set $fill (i32.const 0))))
    (i32.store offset=4 (i32.add (local.get $chunk) (i32.shl (local.get $fill) (i32.const 2))) (local.get $cell))
    (i32.store (i32.load (i32.const 44)) (i32.add (local.get $fill) (i32.const 1)))
    (i32.store (i32.const 8) (i32.add (i32.load (i32.const 8)) (i32.const 1)))
    (i32.const 1))

  ;; Settles up to `budget` cells. Returns 0 when no cell is pending, 1 when the end cell is
  ;; settled, 2 when the budget is spent, 3 when the chunks ran out (grow the memory, call again).
  (func (export "run") (param $budget i32) (result i32)
    (local $cost i32) (local $slot i32) (local $pending i32) (local $settled i32) (local $here i32)
    (local $free i32) (local $nfree i32)
    (local $tables i32) (local $rowBytes i32) (local $heads i32) (local $fills i32)
    (local $costs i32) (local $classes i32) (local $moves i32) (local $ring i32) (local $end i32) (local $most i32)
    (local $ha i32) (local $fa i32) (local $chunk i32) (local $fill i32) (local $cell i32)
    (local $p i32) (local $last i32) (local $nb i32) (local $c i32)
    (local $to i32) (local $th i32) (local $tf i32) (local $tc i32) (local $tn i32) (local $status i32)
    (local.set $cost (i32.load (i32.const 0)))
    (local.set $slot (i32.load (i32.const 4)))
    (local.set $pending (i32.load (i32.const 8)))
    (local.set $settled (i32.load (i32.const 12)))
    (local.set $here (i32.load (i32.const 16)))
    (local.set $tables (i32.load (i32.const 32)))
    (local.set $rowBytes (i32.load (i32.const 36)))
    (local.set $heads (i32.load (i32.const 40)))
    (local.set $fills (i32.load (i32.const 44)))
    (local.set $costs (i32.load (i32.const 48)))
    (local.set $classes (i32.load (i32.const 52)))
    (local.set $moves (i32.load (i32.const 56)))
    (local.set $ring (i32.load (i32.const 60)))
    (local.set $end (i32.load (i32.const 64)))
    (local.set $most (i32.load (i32.const 68)))
    (block $exit
      (loop $levels
        (if (i32.eqz (local.get $pending)) (then (local.set $status (i32.const 0)) (br $exit)))
        (local.set $ha (i32.add (local.get $heads) (i32.shl (local.get $slot) (i32.const 2))))
        (local.set $fa (i32.add (local.get $fills) (i32.shl (local.get $slot) (i32.const 2))))
        (block $level
          (loop $cells
            (local.set $chunk (i32.load (local.get $ha)))
            (br_if $level (i32.eqz (local.get $chunk)))
            (if (i32.eqz (local.get $budget)) (then (local.set $status (i32.const 2)) (br $exit)))
            ;; Room for every neighbour to open a chunk.
            (if (i32.lt_u (i32.load (i32.const 24)) (local.get $most))
              (then
                (if (i32.eqz (call $reserve (local.get $most)))
                  (then (local.set $status (i32.const 3)) (br $exit)))))
            (local.set $free (i32.load (i32.const 20)))
            (local.set $nfree (i32.load (i32.const 24)))
            ;; Pop the bucket's last cell; an emptied chunk goes back to the free list.
            (local.set $fill (i32.sub (i32.load (local.get $fa)) (i32.const 1)))
            (local.set $cell (i32.load offset=4 (i32.add (local.get $chunk) (i32.shl (local.get $fill) (i32.const 2)))))
            (if (i32.eqz (local.get $fill))
              (then
                (i32.store (local.get $ha) (i32.load (local.get $chunk)))
                (i32.store (local.get $fa) (i32.const 1023))
                (i32.store (local.get $chunk) (local.get $free))
                (local.set $free (local.get $chunk))
                (local.set $nfree (i32.add (local.get $nfree) (i32.const 1))))
              (else (i32.store (local.get $fa) (local.get $fill))))
            (local.set $pending (i32.sub (local.get $pending) (i32.const 1)))
            (local.set $settled (i32.add (local.get $settled) (i32.const 1)))
            (local.set $here (i32.add (local.get $here) (i32.const 1)))
            (local.set $budget (i32.sub (local.get $budget) (i32.const 1)))
            (if (i32.eq (local.get $cell) (local.get $end))
              (then
                (i32.store (i32.const 20) (local.get $free))
                (i32.store (i32.const 24) (local.get $nfree))
                (local.set $status (i32.const 1))
                (br $exit)))
            ;; The class row: its count, then (offset, move) pairs.
            (local.set $p (i32.add (local.get $tables) (i32.mul (i32.load8_u (i32.add (local.get $classes) (local.get $cell))) (local.get $rowBytes))))
            (local.set $last (i32.add (local.get $p) (i32.shl (i32.load (local.get $p)) (i32.const 3))))
            (block $around
              (loop $each
                (br_if $around (i32.ge_u (local.get $p) (local.get $last)))
                (local.set $p (i32.add (local.get $p) (i32.const 8)))
                ;; The pair at p - 4: offset, then move.
                (local.set $nb (i32.add (local.get $cell) (i32.load (i32.sub (local.get $p) (i32.const 4)))))
                (local.set $c (i32.load8_u (i32.add (local.get $costs) (local.get $nb))))
                (if (local.get $c)
                  (then
                    (i32.store8 (i32.add (local.get $costs) (local.get $nb)) (i32.const 0))
                    (if (local.get $moves)
                      (then (i32.store8 (i32.add (local.get $moves) (local.get $nb)) (i32.load (local.get $p)))))
                    (local.set $to (i32.add (local.get $slot) (local.get $c)))
                    (if (i32.ge_u (local.get $to) (local.get $ring)) (then (local.set $to (i32.sub (local.get $to) (local.get $ring)))))
                    (local.set $th (i32.add (local.get $heads) (i32.shl (local.get $to) (i32.const 2))))
                    (local.set $tf (i32.add (local.get $fills) (i32.shl (local.get $to) (i32.const 2))))
                    (local.set $tc (i32.load (local.get $th)))
                    (local.set $tn (i32.load (local.get $tf)))
                    (if (i32.or (i32.eqz (local.get $tc)) (i32.eq (local.get $tn) (i32.const 1023)))
                      (then
                        (local.set $c (local.get $free))
                        (local.set $free (i32.load (local.get $free)))
                        (local.set $nfree (i32.sub (local.get $nfree) (i32.const 1)))
                        (i32.store (local.get $c) (local.get $tc))
                        (i32.store (local.get $th) (local.get $c))
                        (local.set $tc (local.get $c))
                        (local.set $tn (i32.const 0))))
                    (i32.store offset=4 (i32.add (local.get $tc) (i32.shl (local.get $tn) (i32.const 2))) (local.get $nb))
                    (i32.store (local.get $tf) (i32.add (local.get $tn) (i32.const 1)))
                    (local.set $pending (i32.add (local.get $pending) (i32.const 1)))))
                (br $each)))
            (i32.store (i32.const 20) (local.get $free))
            (i32.store (i32.const 24) (local.get $nfree))
            (br $cells)))
        (if (local.get $here)
          (then
            (call $level (local.get $cost) (local.get $here))
            (local.set $here (i32.const 0))))
        (local.set $cost (i32.add (local.get $cost) (i32.const 1)))
        (local.set $slot (i32.add (local.get $slot) (i32.const 1)))
        (if (i32.eq (local.get $slot) (local.get $ring)) (then (local.set $slot (i32.const 0))))
        (br $levels)))
    (i32.store (i32.const 0) (local.get $cost))
    (i32.store (i32.const 4) (local.get $slot))
    (i32.store (i32.const 8) (local.get $pending))
    (i32.store (i32.const 12) (local.get $settled))
    (i32.store (i32.const 16) (local.get $here))
    (local.get $status)))
