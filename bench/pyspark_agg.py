"""The PySpark contender of the benchmark: the engine of the original Glue
job, in local mode on both cores (``local[2]``).

Every file of the day is read as CSV (all columns strings; RFC 4180 quoting
with doubled quotes and line breaks inside quotes, so ``multiLine``), each
file on its own so that header names are matched after trimming spaces and
a BOM, whatever their order; the files are taken in the contract's
processing order (keys sorted) and every row gets an increasing number in
that order. The id and datetime are trimmed, IMPRESSION_DATETIME becomes a
UTC instant (``T`` or a space, 0 to 9 fraction digits, ``Z``, ``+HH:MM``
or no offset, which means UTC; ANSI mode makes a bad value stop the job),
one row per (IMPRESSION_ID, instant) is kept, the first in processing
order (``min_by`` on the row number), and the rows on the partition's UTC
date are counted per CAMPAIGN_ID and hour. Campaign ids are canonicalised
like the pipeline does (``09624`` and ``9624.0`` are 9624) and written in
the pipeline's exact output format (header
``CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT``, campaigns in numeric
order with the empty campaign last, then hours).

Spark keeps microseconds, the pipeline nanoseconds: instants that differ
only below the microsecond would merge here (the synthetic days have
milliseconds at most).

The JVM is a child process: after the job the script closes its stdin
(which makes it exit) and waits for it, so that its CPU time counts in
this process's. Just before, it prints ``process_tree_peak_rss_kib N`` on
stdout: the sum of the peak RSS (``VmHWM``) of this process and every
process below it, because a timer sees the peak of the largest single
process only.

Usage::

    python bench/pyspark_agg.py --date 2021-01-30 --out /tmp/pyspark.csv FILE.csv...
"""

import datetime
import os
import sys

from pyspark import SparkContext
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from peer_args import parse_peer_args

ID = "IMPRESSION_ID"
DATETIME = "IMPRESSION_DATETIME"
CAMPAIGN = "CAMPAIGN_ID"


def instant(column):
    """The UTC instant of a trimmed IMPRESSION_DATETIME text."""
    text = F.regexp_replace(column, "T", " ")
    text = F.regexp_replace(text, "Z$", "+00:00")
    text = F.when(text.rlike(r"[+-]\d\d:\d\d$"), text).otherwise(F.concat(text, F.lit("+00:00")))
    return F.to_timestamp(text, "yyyy-MM-dd HH:mm:ss[.SSSSSSSSS]XXX")


def tree_peak_rss_kib(pid):
    """The sum of VmHWM over ``pid`` and the processes below it (the JVM)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(entry))
    total = 0
    stack = [pid]
    while stack:
        child = stack.pop()
        stack.extend(children.get(child, []))
        try:
            with open(f"/proc/{child}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def main(argv):
    args = parse_peer_args(argv)

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("impressions-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "true")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")

    frames = []
    for f in sorted(args.files):
        raw = spark.read.csv(f, header=True, multiLine=True, escape='"', inferSchema=False)
        raw = raw.toDF(*[c.strip().lstrip("\ufeff").strip() for c in raw.columns])
        frames.append(
            raw.select(
                F.trim(F.coalesce(F.col(ID), F.lit(""))).alias(ID),
                F.trim(F.coalesce(F.col(DATETIME), F.lit(""))).alias(DATETIME),
                F.trim(F.coalesce(F.col(CAMPAIGN), F.lit(""))).alias(CAMPAIGN),
            )
        )
    rows = frames[0]
    for frame in frames[1:]:
        rows = rows.unionAll(frame)
    # Partitions follow the files' order, so these numbers follow processing order.
    rows = rows.withColumn("_row", F.monotonically_increasing_id())
    rows = rows.withColumn(DATETIME, instant(F.col(DATETIME)))

    # The UTC day in microseconds since the epoch (no time zone conversion anywhere).
    start = datetime.datetime.fromisoformat(args.date).replace(tzinfo=datetime.timezone.utc)
    start_us = int(start.timestamp()) * 1_000_000
    end_us = start_us + 86_400_000_000
    deduped = rows.groupBy(ID, DATETIME).agg(F.min_by(CAMPAIGN, "_row").alias(CAMPAIGN))
    counts = (
        deduped.where(F.unix_micros(DATETIME).between(start_us, end_us - 1))
        .groupBy(CAMPAIGN, F.hour(DATETIME).alias("IMPRESSION_HOUR"))
        .count()
        .withColumn(
            CAMPAIGN,
            F.when(F.col(CAMPAIGN) == "", F.lit(None)).otherwise(
                F.regexp_replace(F.col(CAMPAIGN), r"\.0+$", "").cast("bigint")
            ),
        )
        .groupBy(CAMPAIGN, "IMPRESSION_HOUR")
        .agg(F.sum("count").alias("IMPRESSION_COUNT"))
        .orderBy(F.col(CAMPAIGN).asc_nulls_last(), "IMPRESSION_HOUR")
        .collect()
    )
    tree_kib = tree_peak_rss_kib(os.getpid())
    spark.stop()
    jvm = SparkContext._gateway.proc if SparkContext._gateway is not None else None
    if jvm is not None and jvm.stdin is not None:
        jvm.stdin.close()
        jvm.wait(timeout=120)

    with open(args.out, "w", newline="\n") as out:
        out.write("CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n")
        for row in counts:
            campaign = "" if row[CAMPAIGN] is None else str(row[CAMPAIGN])
            out.write(f"{campaign},{row['IMPRESSION_HOUR']},{row['IMPRESSION_COUNT']}\n")
    print(f"process_tree_peak_rss_kib {tree_kib}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
