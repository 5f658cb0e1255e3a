"""The command line every Python peer of the benchmark takes.

``--date YYYY-MM-DD --out COUNTS.csv FILE.csv...``: the partition date, where
the counts go, and the day's files in processing order.
"""

import argparse


def parse_peer_args(argv):
    """The peer's arguments: ``date``, ``out`` and ``files``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--date", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("files", nargs="+")
    return parser.parse_args(argv)
