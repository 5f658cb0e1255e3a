"""The Python polars contender of the benchmark: the job as a lazy query.

``scan_csv`` over every file of the day (all columns read as strings, in
the contract's processing order: keys sorted), the id and datetime trimmed,
IMPRESSION_DATETIME parsed into a UTC instant with nanoseconds (``T`` or a
space, 0 to 9 fraction digits, ``Z``, ``+HH:MM`` or no offset, which means
UTC; anything else, or an out-of-range part, stops the query), ``unique``
on (IMPRESSION_ID, instant) keeping the first row, the rows on the
partition's UTC date counted with ``group_by`` per CAMPAIGN_ID and hour,
all run by the streaming engine. Campaign ids are then canonicalised like
the pipeline does (``09624`` and ``9624.0`` are 9624; a non-integer stops
the query) and written in the pipeline's exact output format (header
``CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT``, campaigns in numeric
order with the empty campaign last, then hours).

Usage::

    python bench/polars_agg.py --date 2021-01-30 --out /tmp/polars.csv FILE.csv...
"""

import datetime
import sys

import polars as pl

from peer_args import parse_peer_args

ID = "IMPRESSION_ID"
DATETIME = "IMPRESSION_DATETIME"
CAMPAIGN = "CAMPAIGN_ID"


def instant(column):
    """The UTC instant of a trimmed IMPRESSION_DATETIME text, in nanoseconds."""
    text = column.str.replace("T", " ", literal=True)
    # chrono's %:z wants +HH:MM: Z becomes +00:00, and no offset means UTC.
    text = (
        pl.when(text.str.ends_with("Z"))
        .then(text.str.strip_suffix("Z") + "+00:00")
        .when(text.str.contains(r"[+-]\d\d:\d\d$"))
        .then(text)
        .otherwise(text + "+00:00")
    )
    return text.str.strptime(
        pl.Datetime("ns", "UTC"), "%Y-%m-%d %H:%M:%S%.f%:z", strict=True, exact=True
    )


def main(argv):
    args = parse_peer_args(argv)

    start = datetime.datetime.fromisoformat(args.date).replace(tzinfo=datetime.timezone.utc)
    end = start + datetime.timedelta(days=1)
    frames = [
        pl.scan_csv(
            f,
            infer_schema=False,
            empty_string_is_null=False,
            # Header names are matched after trimming spaces and a BOM.
            with_column_names=lambda names: [n.strip().lstrip("\ufeff").strip() for n in names],
        )
        .select(
            pl.col(ID).str.strip_chars(),
            instant(pl.col(DATETIME).str.strip_chars()).alias(DATETIME),
            pl.col(CAMPAIGN).str.strip_chars(),
        )
        for f in sorted(args.files)
    ]
    counts = (
        pl.concat(frames, how="vertical")
        .unique(subset=[ID, DATETIME], keep="first")
        .filter((pl.col(DATETIME) >= start) & (pl.col(DATETIME) < end))
        .group_by(CAMPAIGN, pl.col(DATETIME).dt.hour().cast(pl.Int32).alias("IMPRESSION_HOUR"))
        .agg(pl.len().alias("IMPRESSION_COUNT"))
        .collect(engine="streaming")
    )

    # Campaign ids as the pipeline writes them, merged and in its order (the
    # empty campaign is null and sorts last).
    counts = (
        counts.with_columns(
            pl.col(CAMPAIGN)
            .replace("", None)
            .str.replace(r"\.0+$", "")
            .cast(pl.Int64, strict=True)
        )
        .group_by(CAMPAIGN, "IMPRESSION_HOUR")
        .agg(pl.col("IMPRESSION_COUNT").sum())
        .sort([CAMPAIGN, "IMPRESSION_HOUR"], nulls_last=True)
    )
    counts.write_csv(args.out, line_terminator="\n", null_value="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
