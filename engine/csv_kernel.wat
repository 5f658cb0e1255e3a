;; The CSV scanner's fast path (see csv_kernel.ts): finds the line ends and
;; the first field starts of quote-free records, 32 bytes at a time.
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
;; The 31 bytes after `end` must be readable (they are ignored).
;;
;; parse(rows, limit, out, id, datetime, campaign, fields, dst) then reads the
;; three required fields of each row that scan wrote at out, and writes 64
;; bytes per row at dst (see csv_kernel.ts): [0] 1 when the row took the fast
;; path, else 0 (the caller parses it in JS, which has the last word); [4..20)
;; the key's four hash lanes (hash128.ts's hashWords of the packed id with the
;; instant); [20..36) the packed id (id_key.ts); [36] nanoseconds; [40] the
;; instant's seconds (f64); [48] the campaign (f64). The fast path takes a row
;; only when it has `fields` fields, its id is a lowercase UUID (36 bytes, no
;; blanks), its datetime is `YYYY-MM-DD[ T]HH:MM:SS[.f{1,9}][Z]` with every
;; part in range and a year from 1, and its campaign is 1 to 15 digits without
;; a leading zero; anything else, valid or not, goes to JS.
(module
  (memory (export "memory") 1)
  (global $next (export "next") (mut i32) (i32.const 0))
  (global $stop (export "stop") (mut i32) (i32.const 0))
  ;; Set to -1 by $uuid when a digit is not lowercase hex.
  (global $bad (mut i32) (i32.const 0))
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
    (local $v2 v128)
    (local $commas i32)
    (local $below i32)
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
        ;; 32 bytes a block, as two 16-byte halves.
        (local.set $v (v128.load (local.get $block)))
        (local.set $v2 (v128.load offset=16 (local.get $block)))
        (local.set $commas
          (i32.or
            (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x2c))))
            (i32.shl
              (i8x16.bitmask (i8x16.eq (local.get $v2) (i8x16.splat (i32.const 0x2c))))
              (i32.const 16))))
        (local.set $mask
          (i32.or
            (i8x16.bitmask
              (v128.or
                (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x0a)))
                (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x22)))))
            (i32.shl
              (i8x16.bitmask
                (v128.or
                  (i8x16.eq (local.get $v2) (i8x16.splat (i32.const 0x0a)))
                  (i8x16.eq (local.get $v2) (i8x16.splat (i32.const 0x22)))))
              (i32.const 16))))
        ;; The last block may reach past `end`: drop those bytes.
        (if (i32.gt_u (i32.add (local.get $block) (i32.const 32)) (local.get $end))
          (then
            (local.set $below
              (i32.sub
                (i32.shl (i32.const 1) (i32.sub (local.get $end) (local.get $block)))
                (i32.const 1)))
            (local.set $mask (i32.and (local.get $mask) (local.get $below)))
            (local.set $commas (i32.and (local.get $commas) (local.get $below)))))
        ;; $commas: the block's commas not handled yet; $mask: its line feeds and quotes.
        (block $bitsDone
          (loop $bits
            (if (i32.ge_u (local.get $field) (local.get $limit))
              (then
                ;; Past the fields whose starts are kept: count the commas up
                ;; to the next line feed or quote at once.
                (if (i32.eqz (local.get $mask))
                  (then
                    (local.set $field
                      (i32.add (local.get $field) (i32.popcnt (local.get $commas))))
                    (br $bitsDone)))
                (local.set $below
                  (i32.sub
                    (i32.and (local.get $mask) (i32.sub (i32.const 0) (local.get $mask)))
                    (i32.const 1)))
                (local.set $field
                  (i32.add
                    (local.get $field)
                    (i32.popcnt (i32.and (local.get $commas) (local.get $below)))))
                (local.set $commas
                  (i32.and (local.get $commas) (i32.xor (local.get $below) (i32.const -1)))))
              (else
                (br_if $bitsDone (i32.eqz (i32.or (local.get $commas) (local.get $mask))))
                (local.set $at
                  (i32.ctz (i32.or (local.get $commas) (local.get $mask))))
                ;; A comma: the next field starts after it.
                (if (i32.and (local.get $commas) (i32.shl (i32.const 1) (local.get $at)))
                  (then
                    (local.set $commas
                      (i32.and (local.get $commas) (i32.sub (local.get $commas) (i32.const 1))))
                    (local.set $field (i32.add (local.get $field) (i32.const 1)))
                    (i32.store offset=8
                      (i32.add (local.get $row) (i32.shl (local.get $field) (i32.const 2)))
                      (i32.add (i32.add (local.get $block) (local.get $at)) (i32.const 1)))
                    (br $bits)))))
            ;; The lowest bit of $mask: a line feed or a quote.
            (local.set $at (i32.add (local.get $block) (i32.ctz (local.get $mask))))
            (local.set $mask (i32.and (local.get $mask) (i32.sub (local.get $mask) (i32.const 1))))
            (local.set $byte (i32.load8_u (local.get $at)))
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
        (local.set $block (i32.add (local.get $block) (i32.const 32)))
        (br $blocks)))
    (local.get $rows))
;; The 32 hex digits of the UUID at s (its dashes already checked) as
  ;; id_key.ts's packUuid words, in the four lanes; sets $bad to -1 when a
  ;; digit is not lowercase hex.
  (func $uuid (param $s i32) (result v128)
    (local $b v128)
    (local $hi v128)
    (local $lo v128)
    (local $d v128)
    (local $l v128)
    (local $digit v128)
    (local $ok v128)
    (local.set $b (v128.load offset=16 (local.get $s)))
    ;; Digits 0-15 (characters 0-7, 9-12, 14-17) and 16-31 (19-22, 24-35).
    (local.set $hi
      (i8x16.shuffle 0 1 2 3 4 5 6 7 9 10 11 12 14 15 16 17
        (v128.load (local.get $s)) (local.get $b)))
    (local.set $lo
      (i8x16.shuffle 3 4 5 6 8 9 10 11 12 13 14 15 28 29 30 31
        (local.get $b) (v128.load offset=20 (local.get $s))))
    ;; Each digit's value: c - '0' for 0-9, c - 'a' + 10 for a-f.
    (local.set $d (i8x16.sub (local.get $hi) (i8x16.splat (i32.const 0x30))))
    (local.set $l (i8x16.sub (local.get $hi) (i8x16.splat (i32.const 0x61))))
    (local.set $digit (i8x16.lt_u (local.get $d) (i8x16.splat (i32.const 10))))
    (local.set $ok
      (v128.or (local.get $digit) (i8x16.lt_u (local.get $l) (i8x16.splat (i32.const 6)))))
    (local.set $hi
      (v128.bitselect
        (local.get $d)
        (i8x16.add (local.get $l) (i8x16.splat (i32.const 10)))
        (local.get $digit)))
    (local.set $d (i8x16.sub (local.get $lo) (i8x16.splat (i32.const 0x30))))
    (local.set $l (i8x16.sub (local.get $lo) (i8x16.splat (i32.const 0x61))))
    (local.set $digit (i8x16.lt_u (local.get $d) (i8x16.splat (i32.const 10))))
    (local.set $ok
      (v128.and
        (local.get $ok)
        (v128.or (local.get $digit) (i8x16.lt_u (local.get $l) (i8x16.splat (i32.const 6))))))
    (local.set $lo
      (v128.bitselect
        (local.get $d)
        (i8x16.add (local.get $l) (i8x16.splat (i32.const 10)))
        (local.get $digit)))
    (if (i32.eqz (i8x16.all_true (local.get $ok)))
      (then (global.set $bad (i32.const -1))))
    ;; Two digits a byte (the first the high nibble), then each group of
    ;; four bytes reversed: a 32-bit word of eight digits, first digit highest.
    (local.set $hi
      (v128.and
        (v128.or (i16x8.shl (local.get $hi) (i32.const 4)) (i16x8.shr_u (local.get $hi) (i32.const 8)))
        (i16x8.splat (i32.const 0xff))))
    (local.set $lo
      (v128.and
        (v128.or (i16x8.shl (local.get $lo) (i32.const 4)) (i16x8.shr_u (local.get $lo) (i32.const 8)))
        (i16x8.splat (i32.const 0xff))))
    (local.set $b (i8x16.narrow_i16x8_u (local.get $hi) (local.get $lo)))
    (i8x16.shuffle 3 2 1 0 7 6 5 4 11 10 9 8 15 14 13 12 (local.get $b) (local.get $b)))

    ;; The decimal digits in [p, p + n), n from 1 to 15, as a number; -1 if one is not a digit.
  (func $dec (param $p i32) (param $n i32) (result i64)
    (local $v i64)
    (local $d i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (loop $digits
      (local.set $d (i32.sub (i32.load8_u (local.get $p)) (i32.const 0x30)))
      (if (i32.gt_u (local.get $d) (i32.const 9)) (then (return (i64.const -1))))
      (local.set $v
        (i64.add (i64.mul (local.get $v) (i64.const 10)) (i64.extend_i32_u (local.get $d))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $digits (i32.lt_u (local.get $p) (local.get $end))))
    (local.get $v))

  ;; Two decimal digits at p, or -1.
  (func $two (param $p i32) (result i32)
    (local $hi i32)
    (local $lo i32)
    (local.set $hi (i32.sub (i32.load8_u (local.get $p)) (i32.const 0x30)))
    (local.set $lo (i32.sub (i32.load8_u offset=1 (local.get $p)) (i32.const 0x30)))
    (if (result i32) (i32.or (i32.gt_u (local.get $hi) (i32.const 9)) (i32.gt_u (local.get $lo) (i32.const 9)))
      (then (i32.const -1))
      (else (i32.add (i32.mul (local.get $hi) (i32.const 10)) (local.get $lo)))))

  ;; Start of field f of the scanned row at `row`.
  (func $start (param $row i32) (param $f i32) (result i32)
    (i32.load offset=8 (i32.add (local.get $row) (i32.shl (local.get $f) (i32.const 2)))))

  ;; End (exclusive) of field f of the scanned row at `row` with `count` fields:
  ;; before the next comma, or before the LF (and a CR before it) for the last.
  (func $end (param $row i32) (param $f i32) (param $count i32) (result i32)
    (local $e i32)
    (if (i32.lt_u (i32.add (local.get $f) (i32.const 1)) (local.get $count))
      (then (return (i32.sub (call $start (local.get $row) (i32.add (local.get $f) (i32.const 1))) (i32.const 1)))))
    (local.set $e (i32.load (local.get $row)))
    (if (result i32)
      (i32.and
        (i32.gt_u (local.get $e) (call $start (local.get $row) (local.get $f)))
        (i32.eq (i32.load8_u (i32.sub (local.get $e) (i32.const 1))) (i32.const 0x0d)))
      (then (i32.sub (local.get $e) (i32.const 1)))
      (else (local.get $e))))

  ;; MurmurHash3's (x86, 128-bit) finalization mix.
  (func $fmix (param $h i32) (result i32)
    (local.set $h (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 16))))
    (local.set $h (i32.mul (local.get $h) (i32.const 0x85ebca6b)))
    (local.set $h (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 13))))
    (local.set $h (i32.mul (local.get $h) (i32.const 0xc2b2ae35)))
    (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 16))))

  (func (export "parse")
    (param $rows i32) (param $limit i32) (param $out i32) (param $id i32) (param $datetime i32)
    (param $campaign i32) (param $fields i32) (param $dst i32)
    (local $r i32)
    (local $row i32)
    (local $rec i32)
    (local $stride i32)
    (local $count i32)
    (local $s i32)
    (local $e i32)
    (local $w0 i32)
    (local $w1 i32)
    (local $w2 i32)
    (local $w3 i32)
    (local $year i32)
    (local $month i32)
    (local $day i32)
    (local $hour i32)
    (local $minute i32)
    (local $second i32)
    (local $dim i32)
    (local $pos i32)
    (local $digits i32)
    (local $nanos i32)
    (local $y i32)
    (local $era i32)
    (local $yoe i32)
    (local $mp i32)
    (local $days i32)
    (local $seconds i64)
    (local $value i64)
    (local $h1 i32)
    (local $h2 i32)
    (local $h3 i32)
    (local $h4 i32)
    (local $id128 v128)
    (local.set $stride (i32.shl (i32.add (local.get $limit) (i32.const 3)) (i32.const 2)))
    (local.set $row (local.get $out))
    (local.set $rec (local.get $dst))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (i32.store (local.get $rec) (i32.const 0))
        (block $slow
          (local.set $count (i32.load offset=4 (local.get $row)))
          (br_if $slow (i32.ne (local.get $count) (local.get $fields)))

          ;; IMPRESSION_ID: a lowercase UUID, packed as id_key.ts's packUuid.
          (local.set $s (call $start (local.get $row) (local.get $id)))
          (local.set $e (call $end (local.get $row) (local.get $id) (local.get $count)))
          (br_if $slow (i32.ne (i32.sub (local.get $e) (local.get $s)) (i32.const 36)))
          (br_if $slow
            (i32.or
              (i32.or
                (i32.ne (i32.load8_u offset=8 (local.get $s)) (i32.const 0x2d))
                (i32.ne (i32.load8_u offset=13 (local.get $s)) (i32.const 0x2d)))
              (i32.or
                (i32.ne (i32.load8_u offset=18 (local.get $s)) (i32.const 0x2d))
                (i32.ne (i32.load8_u offset=23 (local.get $s)) (i32.const 0x2d)))))
          (global.set $bad (i32.const 0))
          (local.set $id128 (call $uuid (local.get $s)))
          (br_if $slow (i32.lt_s (global.get $bad) (i32.const 0)))
          (local.set $w0 (i32x4.extract_lane 0 (local.get $id128)))
          (local.set $w1 (i32x4.extract_lane 1 (local.get $id128)))
          (local.set $w2 (i32x4.extract_lane 2 (local.get $id128)))
          (local.set $w3 (i32x4.extract_lane 3 (local.get $id128)))

          ;; IMPRESSION_DATETIME, as datetime.ts's parseDatetime.
          (local.set $s (call $start (local.get $row) (local.get $datetime)))
          (local.set $e (call $end (local.get $row) (local.get $datetime) (local.get $count)))
          (br_if $slow (i32.lt_s (i32.sub (local.get $e) (local.get $s)) (i32.const 19)))
          (br_if $slow
            (i32.or
              (i32.or
                (i32.ne (i32.load8_u offset=4 (local.get $s)) (i32.const 0x2d))
                (i32.ne (i32.load8_u offset=7 (local.get $s)) (i32.const 0x2d)))
              (i32.or
                (i32.and
                  (i32.ne (i32.load8_u offset=10 (local.get $s)) (i32.const 0x20))
                  (i32.ne (i32.load8_u offset=10 (local.get $s)) (i32.const 0x54)))
                (i32.or
                  (i32.ne (i32.load8_u offset=13 (local.get $s)) (i32.const 0x3a))
                  (i32.ne (i32.load8_u offset=16 (local.get $s)) (i32.const 0x3a))))))
          (local.set $year (i32.wrap_i64 (call $dec (local.get $s) (i32.const 4))))
          (local.set $month (call $two (i32.add (local.get $s) (i32.const 5))))
          (local.set $day (call $two (i32.add (local.get $s) (i32.const 8))))
          (local.set $hour (call $two (i32.add (local.get $s) (i32.const 11))))
          (local.set $minute (call $two (i32.add (local.get $s) (i32.const 14))))
          (local.set $second (call $two (i32.add (local.get $s) (i32.const 17))))
          (br_if $slow (i32.lt_s (local.get $year) (i32.const 1)))
          (br_if $slow
            (i32.lt_s
              (i32.or (i32.or (local.get $month) (local.get $day))
                (i32.or (local.get $hour) (i32.or (local.get $minute) (local.get $second))))
              (i32.const 0)))
          (br_if $slow
            (i32.or
              (i32.or (i32.lt_s (local.get $month) (i32.const 1)) (i32.gt_s (local.get $month) (i32.const 12)))
              (i32.or
                (i32.gt_s (local.get $hour) (i32.const 23))
                (i32.or (i32.gt_s (local.get $minute) (i32.const 59)) (i32.gt_s (local.get $second) (i32.const 59))))))
          ;; Days in the month: 30 or 31 by the month's parity (flipped from August), February 28 or 29.
          (local.set $dim
            (if (result i32) (i32.eq (local.get $month) (i32.const 2))
              (then
                (if (result i32)
                  (i32.or
                    (i32.and
                      (i32.eqz (i32.rem_u (local.get $year) (i32.const 4)))
                      (i32.ne (i32.rem_u (local.get $year) (i32.const 100)) (i32.const 0)))
                    (i32.eqz (i32.rem_u (local.get $year) (i32.const 400))))
                  (then (i32.const 29))
                  (else (i32.const 28))))
              (else
                (i32.add (i32.const 30)
                  (i32.and
                    (i32.add (local.get $month) (i32.shr_u (local.get $month) (i32.const 3)))
                    (i32.const 1))))))
          (br_if $slow (i32.or (i32.lt_s (local.get $day) (i32.const 1)) (i32.gt_s (local.get $day) (local.get $dim))))
          (local.set $pos (i32.add (local.get $s) (i32.const 19)))
          (local.set $nanos (i32.const 0))
          (if (i32.and (i32.lt_u (local.get $pos) (local.get $e))
                (i32.eq (i32.load8_u (local.get $pos)) (i32.const 0x2e)))
            (then
              (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
              (local.set $s (local.get $pos))
              (block $fractionDone
                (loop $fraction
                  (br_if $fractionDone (i32.ge_u (local.get $pos) (local.get $e)))
                  (br_if $fractionDone
                    (i32.gt_u (i32.sub (i32.load8_u (local.get $pos)) (i32.const 0x30)) (i32.const 9)))
                  (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
                  (br $fraction)))
              (local.set $digits (i32.sub (local.get $pos) (local.get $s)))
              (br_if $slow
                (i32.or (i32.lt_s (local.get $digits) (i32.const 1)) (i32.gt_s (local.get $digits) (i32.const 9))))
              (local.set $nanos (i32.wrap_i64 (call $dec (local.get $s) (local.get $digits))))
              (block $scaled
                (loop $scale
                  (br_if $scaled (i32.ge_s (local.get $digits) (i32.const 9)))
                  (local.set $nanos (i32.mul (local.get $nanos) (i32.const 10)))
                  (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
                  (br $scale)))))
          ;; Nothing after the time but a final Z (offsets go to JS).
          (if (i32.lt_u (local.get $pos) (local.get $e))
            (then
              (br_if $slow
                (i32.or
                  (i32.ne (i32.load8_u (local.get $pos)) (i32.const 0x5a))
                  (i32.ne (i32.add (local.get $pos) (i32.const 1)) (local.get $e))))))
          ;; Days from 1970-01-01, as datetime.ts's daysFromCivil (here the year is at least 1).
          (local.set $y
            (i32.sub (local.get $year) (i32.le_s (local.get $month) (i32.const 2))))
          (local.set $era (i32.div_u (local.get $y) (i32.const 400)))
          (local.set $yoe (i32.sub (local.get $y) (i32.mul (local.get $era) (i32.const 400))))
          (local.set $mp (i32.rem_u (i32.add (local.get $month) (i32.const 9)) (i32.const 12)))
          (local.set $days
            (i32.sub
              (i32.add
                (i32.mul (local.get $era) (i32.const 146097))
                (i32.add
                  (i32.sub
                    (i32.add
                      (i32.mul (local.get $yoe) (i32.const 365))
                      (i32.div_u (local.get $yoe) (i32.const 4)))
                    (i32.div_u (local.get $yoe) (i32.const 100)))
                  (i32.add
                    (i32.div_u
                      (i32.add (i32.mul (i32.const 153) (local.get $mp)) (i32.const 2))
                      (i32.const 5))
                    (i32.sub (local.get $day) (i32.const 1)))))
              (i32.const 719468)))
          (local.set $seconds
            (i64.add
              (i64.mul (i64.extend_i32_s (local.get $days)) (i64.const 86400))
              (i64.extend_i32_s
                (i32.add
                  (i32.add (i32.mul (local.get $hour) (i32.const 3600)) (i32.mul (local.get $minute) (i32.const 60)))
                  (local.get $second)))))

          ;; CAMPAIGN_ID: 1 to 15 digits, no leading zero (a lone 0 is fine).
          (local.set $s (call $start (local.get $row) (local.get $campaign)))
          (local.set $e (call $end (local.get $row) (local.get $campaign) (local.get $count)))
          (local.set $digits (i32.sub (local.get $e) (local.get $s)))
          (br_if $slow
            (i32.or (i32.lt_s (local.get $digits) (i32.const 1)) (i32.gt_s (local.get $digits) (i32.const 15))))
          (br_if $slow
            (i32.and
              (i32.eq (i32.load8_u (local.get $s)) (i32.const 0x30))
              (i32.ne (local.get $digits) (i32.const 1))))
          (local.set $value (call $dec (local.get $s) (local.get $digits)))
          (br_if $slow (i64.lt_s (local.get $value) (i64.const 0)))

          ;; The key's hash: hash128.ts's hashWords of the 16 packed bytes and the instant.
          (local.set $h1 (i32.const 0x9747b28c))
          (local.set $h2 (i32.const 0x1b873593))
          (local.set $h3 (i32.const 0x52dce729))
          (local.set $h4 (i32.const 0x38495ab5))
          (call $round (local.get $w0) (local.get $w1) (local.get $w2) (local.get $w3)
            (local.get $h1) (local.get $h2) (local.get $h3) (local.get $h4))
          (local.set $h4) (local.set $h3) (local.set $h2) (local.set $h1)
          (call $round
            (i32.wrap_i64 (local.get $seconds))
            (i32.wrap_i64 (i64.shr_s (local.get $seconds) (i64.const 32)))
            (local.get $nanos)
            (i32.const 16)
            (local.get $h1) (local.get $h2) (local.get $h3) (local.get $h4))
          (local.set $h4) (local.set $h3) (local.set $h2) (local.set $h1)
          ;; Finalization, over 32 bytes (one block of id, one of instant).
          (local.set $h1 (i32.xor (local.get $h1) (i32.const 32)))
          (local.set $h2 (i32.xor (local.get $h2) (i32.const 32)))
          (local.set $h3 (i32.xor (local.get $h3) (i32.const 32)))
          (local.set $h4 (i32.xor (local.get $h4) (i32.const 32)))
          (local.set $h1 (i32.add (i32.add (local.get $h1) (local.get $h2)) (i32.add (local.get $h3) (local.get $h4))))
          (local.set $h2 (i32.add (local.get $h2) (local.get $h1)))
          (local.set $h3 (i32.add (local.get $h3) (local.get $h1)))
          (local.set $h4 (i32.add (local.get $h4) (local.get $h1)))
          (local.set $h1 (call $fmix (local.get $h1)))
          (local.set $h2 (call $fmix (local.get $h2)))
          (local.set $h3 (call $fmix (local.get $h3)))
          (local.set $h4 (call $fmix (local.get $h4)))
          (local.set $h1 (i32.add (i32.add (local.get $h1) (local.get $h2)) (i32.add (local.get $h3) (local.get $h4))))
          (i32.store offset=4 (local.get $rec) (local.get $h1))
          (i32.store offset=8 (local.get $rec) (i32.add (local.get $h2) (local.get $h1)))
          (i32.store offset=12 (local.get $rec) (i32.add (local.get $h3) (local.get $h1)))
          (i32.store offset=16 (local.get $rec) (i32.add (local.get $h4) (local.get $h1)))
          (i32.store offset=20 (local.get $rec) (local.get $w0))
          (i32.store offset=24 (local.get $rec) (local.get $w1))
          (i32.store offset=28 (local.get $rec) (local.get $w2))
          (i32.store offset=32 (local.get $rec) (local.get $w3))
          (i32.store offset=36 (local.get $rec) (local.get $nanos))
          (f64.store offset=40 (local.get $rec) (f64.convert_i64_s (local.get $seconds)))
          (f64.store offset=48 (local.get $rec) (f64.convert_i64_s (local.get $value)))
          (i32.store (local.get $rec) (i32.const 1)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (local.set $row (i32.add (local.get $row) (local.get $stride)))
        (local.set $rec (i32.add (local.get $rec) (i32.const 64)))
        (br $rowLoop))))

  ;; One 16-byte block of hash128.ts's hash: the words w0-w3 into lanes h1-h4.
  (func $round
    (param $w0 i32) (param $w1 i32) (param $w2 i32) (param $w3 i32)
    (param $h1 i32) (param $h2 i32) (param $h3 i32) (param $h4 i32)
    (result i32 i32 i32 i32)
    (local.set $h1
      (i32.add
        (i32.mul
          (i32.add
            (i32.rotl
              (i32.xor (local.get $h1)
                (i32.mul (i32.rotl (i32.mul (local.get $w0) (i32.const 0x239b961b)) (i32.const 15)) (i32.const 0xab0e9789)))
              (i32.const 19))
            (local.get $h2))
          (i32.const 5))
        (i32.const 0x561ccd1b)))
    (local.set $h2
      (i32.add
        (i32.mul
          (i32.add
            (i32.rotl
              (i32.xor (local.get $h2)
                (i32.mul (i32.rotl (i32.mul (local.get $w1) (i32.const 0xab0e9789)) (i32.const 16)) (i32.const 0x38b34ae5)))
              (i32.const 17))
            (local.get $h3))
          (i32.const 5))
        (i32.const 0x0bcaa747)))
    (local.set $h3
      (i32.add
        (i32.mul
          (i32.add
            (i32.rotl
              (i32.xor (local.get $h3)
                (i32.mul (i32.rotl (i32.mul (local.get $w2) (i32.const 0x38b34ae5)) (i32.const 17)) (i32.const 0xa1e38b93)))
              (i32.const 15))
            (local.get $h4))
          (i32.const 5))
        (i32.const 0x96cd1c35)))
    (local.set $h4
      (i32.add
        (i32.mul
          (i32.add
            (i32.rotl
              (i32.xor (local.get $h4)
                (i32.mul (i32.rotl (i32.mul (local.get $w3) (i32.const 0xa1e38b93)) (i32.const 18)) (i32.const 0x239b961b)))
              (i32.const 13))
            (local.get $h1))
          (i32.const 5))
        (i32.const 0x32ac3b17)))
    (local.get $h1) (local.get $h2) (local.get $h3) (local.get $h4))
)
