"""The pandas contender of the benchmark, written the way users write it today.

Reads every CSV file of the day with ``read_csv`` (all columns as strings),
normalises IMPRESSION_DATETIME into a UTC instant (so ``12:15:02`` and
``12:15:02.000`` are the same instant and no offset means UTC),
``drop_duplicates`` on (IMPRESSION_ID, instant), keeps the rows on the
partition's UTC date and counts them with ``groupby`` per CAMPAIGN_ID and
hour. Writes the pipeline's exact output format (header
``CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT``, campaigns in numeric
order with the empty campaign last, then hours).

Usage::

    python3 bench/pandas_agg.py --date 2021-01-30 --out /tmp/pandas.csv FILE.csv...
"""

import re
import sys

import pandas as pd

from peer_args import parse_peer_args


def canonical_campaign(text):
    """``09624`` and ``9624.0`` are 9624; empty stays empty."""
    text = text.strip()
    if text == "":
        return ""
    return str(int(re.sub(r"\.0+$", "", text)))


def main(argv):
    args = parse_peer_args(argv)

    df = pd.concat(
        [pd.read_csv(f, dtype=str, keep_default_na=False) for f in args.files],
        ignore_index=True,
    )
    df["IMPRESSION_ID"] = df["IMPRESSION_ID"].str.strip()
    df["IMPRESSION_DATETIME"] = pd.to_datetime(df["IMPRESSION_DATETIME"].str.strip(), utc=True)
    df = df.drop_duplicates(subset=["IMPRESSION_ID", "IMPRESSION_DATETIME"])

    start = pd.Timestamp(args.date, tz="UTC")
    end = start + pd.Timedelta(days=1)
    day = df[(df["IMPRESSION_DATETIME"] >= start) & (df["IMPRESSION_DATETIME"] < end)]
    counts = (
        day.assign(IMPRESSION_HOUR=day["IMPRESSION_DATETIME"].dt.hour)
        .groupby(["CAMPAIGN_ID", "IMPRESSION_HOUR"])
        .size()
        .reset_index(name="IMPRESSION_COUNT")
    )

    # Campaign ids as the pipeline writes them, merged and in its order.
    counts["CAMPAIGN_ID"] = counts["CAMPAIGN_ID"].map(canonical_campaign)
    counts = counts.groupby(["CAMPAIGN_ID", "IMPRESSION_HOUR"], as_index=False)[
        "IMPRESSION_COUNT"
    ].sum()
    counts["_empty"] = counts["CAMPAIGN_ID"] == ""
    counts["_number"] = counts["CAMPAIGN_ID"].map(lambda c: int(c) if c else 0)
    counts = counts.sort_values(["_empty", "_number", "IMPRESSION_HOUR"])
    counts[["CAMPAIGN_ID", "IMPRESSION_HOUR", "IMPRESSION_COUNT"]].to_csv(
        args.out, index=False, lineterminator="\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
