;; The CSV scanner's fast path (see csv_kernel.ts): finds the line ends and
;; the first field starts of quote-free records, 16 bytes at a time.
;;
;; Build: deno task build-kernel (writes csv_kernel_wasm.ts from this file).
;;
;; scan(pos, end, limit, out, maxRows) reads the bytes in [pos, end) and, for
;; each complete line (ending in LF) without a quote byte, writes a row of
;; limit + 3 little-endian i32 at out:
;;   [0] the LF's address
;;   [1] the number of fields (commas + 1)
;;   [2 + i] the address of field i's first byte, for i = 0 .. min(fields - 1, limit)
;; It stops before the first line holding a quote (the caller parses it), at
;; the last complete line, or after maxRows rows, and returns the rows written.
;; The global `next` is then the address where the caller goes on, and
;; `stop` says why it stopped: 0 no complete line left, 1 a quote, 2 maxRows.
;; The 15 bytes after `end` must be readable (they are ignored).
(module
  (memory (export "memory") 1)
  (global $next (export "next") (mut i32) (i32.const 0))
  (global $stop (export "stop") (mut i32) (i32.const 0))
  (func (export "scan")
    (param $pos i32) (param $end i32) (param $limit i32) (param $out i32) (param $maxRows i32)
    (result i32)
    (local $rows i32)
    (local $block i32)
    (local $mask i32)
    (local $at i32)
    (local $byte i32)
    (local $field i32)
    (local $row i32)
    (local $stride i32)
    (local $v v128)
    (global.set $next (local.get $pos))
    (global.set $stop (i32.const 0))
    (if (i32.or (i32.eqz (local.get $maxRows)) (i32.ge_u (local.get $pos) (local.get $end)))
      (then (return (i32.const 0))))
    (local.set $stride (i32.shl (i32.add (local.get $limit) (i32.const 3)) (i32.const 2)))
    (local.set $row (local.get $out))
    (i32.store offset=8 (local.get $row) (local.get $pos))
    (local.set $block (local.get $pos))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $block) (local.get $end)))
        (local.set $v (v128.load (local.get $block)))
        (local.set $mask
          (i8x16.bitmask
            (v128.or
              (v128.or
                (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x2c)))
                (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x0a))))
              (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x22))))))
        ;; The last block may reach past `end`: drop those bytes.
        (if (i32.gt_u (i32.add (local.get $block) (i32.const 16)) (local.get $end))
          (then
            (local.set $mask
              (i32.and
                (local.get $mask)
                (i32.sub
                  (i32.shl (i32.const 1) (i32.sub (local.get $end) (local.get $block)))
                  (i32.const 1))))))
        (block $bitsDone
          (loop $bits
            (br_if $bitsDone (i32.eqz (local.get $mask)))
            (local.set $at (i32.add (local.get $block) (i32.ctz (local.get $mask))))
            (local.set $mask (i32.and (local.get $mask) (i32.sub (local.get $mask) (i32.const 1))))
            (local.set $byte (i32.load8_u (local.get $at)))
            ;; A comma: the next field starts after it.
            (if (i32.eq (local.get $byte) (i32.const 0x2c))
              (then
                (local.set $field (i32.add (local.get $field) (i32.const 1)))
                (if (i32.le_u (local.get $field) (local.get $limit))
                  (then
                    (i32.store offset=8
                      (i32.add (local.get $row) (i32.shl (local.get $field) (i32.const 2)))
                      (i32.add (local.get $at) (i32.const 1)))))
                (br $bits)))
            ;; A line feed: the row is complete.
            (if (i32.eq (local.get $byte) (i32.const 0x0a))
              (then
                (i32.store (local.get $row) (local.get $at))
                (i32.store offset=4 (local.get $row) (i32.add (local.get $field) (i32.const 1)))
                (local.set $rows (i32.add (local.get $rows) (i32.const 1)))
                (global.set $next (i32.add (local.get $at) (i32.const 1)))
                (if (i32.eq (local.get $rows) (local.get $maxRows))
                  (then
                    (global.set $stop (i32.const 2))
                    (br $done)))
                (local.set $row (i32.add (local.get $row) (local.get $stride)))
                (i32.store offset=8 (local.get $row) (i32.add (local.get $at) (i32.const 1)))
                (local.set $field (i32.const 0))
                (br $bits)))
            ;; A quote: the caller parses this line.
            (global.set $stop (i32.const 1))
            (br $done)))
        (local.set $block (i32.add (local.get $block) (i32.const 16)))
        (br $blocks)))
    (local.get $rows)))
