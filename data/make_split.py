"""Fix the train/test split of ``data/problem_statements.csv`` and copy it into the package.

The split is a pure function of the statement ids and codes, so it never changes when rows are
reordered, and statements added in a later batch never move an earlier statement:

* statements come in batches of consecutive ids (``BATCH_STARTS``: the first id number of each);
* within each batch and code, statements are ordered by ``sha256(f"{SEED}:{statement_id}")``;
* the first ``round(TEST_SHARE * n)`` of them (at least one) form the test split, the rest train;
* statements from ``TRAIN_ONLY_FROM`` on are all train: they were written to extend the training
  data after the test split had been measured, so the test split stays the same 156 statements
  and figures stay comparable between releases. New statements are checked against the test
  split for near-copies (``--check`` fails when a train statement from that batch is too similar
  to a test statement, see ``MAX_SIMILARITY``).

Run from the repository root::

    python data/make_split.py          # rewrite the split column, copy to pekso_toolkit/data/
    python data/make_split.py --check  # exit 1 if the stored split or the copy is out of date

The test split is for measuring only: keyword lists are written from the domain and the train
split, never from test statements.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import shutil
import sys
from pathlib import Path

import pandas as pd

SEED = 20121  # fixed once; changing it changes the split
TEST_SHARE = 0.3
BATCH_STARTS = (1, 339)  # ps001-ps338 written first; ps339- written after the keywords were frozen
TRAIN_ONLY_FROM = 495  # ps495-: more training statements, written without reading the test split
MAX_SIMILARITY = 0.7  # difflib ratio (lower-cased) above which a new statement is a near-copy
ROOT = Path(__file__).resolve().parents[1]
MASTER = ROOT / "data" / "problem_statements.csv"
PACKAGE_COPY = ROOT / "pekso_toolkit" / "data" / "problem_statements.csv"
COLUMNS = ["statement_id", "text", "code", "alt_code", "lang", "split"]


def assign_split(statement_ids: pd.Series, codes: pd.Series) -> pd.Series:
    """Return ``"train"`` / ``"test"`` per statement, stratified by code (see module docstring)."""
    keys = statement_ids.map(lambda s: hashlib.sha256(f"{SEED}:{s}".encode()).hexdigest())
    number = statement_ids.str.extract(r"(\d+)$", expand=False).astype(int)
    batch = number.map(lambda n: sum(n >= start for start in BATCH_STARTS))
    train_only = (number >= TRAIN_ONLY_FROM).to_numpy()
    frame = pd.DataFrame(
        {"code": codes.to_numpy(), "batch": batch.to_numpy(), "key": keys.to_numpy()},
        index=codes.index,
    )
    split = pd.Series("train", index=codes.index)
    ranked = frame[~train_only]
    groups = ranked.groupby(["batch", "code"])["key"]
    rank = groups.rank(method="first")
    n_test = (groups.transform("size") * TEST_SHARE).round().clip(lower=1)
    split[rank.index[(rank <= n_test).to_numpy()]] = "test"
    return split


def near_copies(frame: pd.DataFrame) -> list[str]:
    """Ids of statements of the train-only batch too similar to a test statement."""
    number = frame["statement_id"].str.extract(r"(\d+)$", expand=False).astype(int)
    late = frame.loc[number >= TRAIN_ONLY_FROM]
    test = frame.loc[frame["split"] == "test", "text"].str.lower().tolist()
    out = []
    for statement_id, text in zip(late["statement_id"], late["text"].str.lower()):
        matcher = difflib.SequenceMatcher(None, "", text)  # text is seq2: its index is kept
        for other in test:
            matcher.set_seq1(other)
            # the quick ratios are upper bounds of ratio(): cheap tests first
            if (
                matcher.real_quick_ratio() > MAX_SIMILARITY
                and matcher.quick_ratio() > MAX_SIMILARITY
                and matcher.ratio() > MAX_SIMILARITY
            ):
                out.append(statement_id)
                break
    return out


def read_master() -> pd.DataFrame:
    """The master file with empty cells kept as empty strings."""
    return pd.read_csv(MASTER, dtype=str, keep_default_na=False)


def write(frame: pd.DataFrame) -> None:
    """Write the master file and its byte-identical package copy."""
    frame[COLUMNS].to_csv(MASTER, index=False, lineterminator="\n")
    shutil.copyfile(MASTER, PACKAGE_COPY)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check, do not write")
    args = parser.parse_args(argv)
    frame = read_master()
    split = assign_split(frame["statement_id"], frame["code"])
    if args.check:
        stale = (frame["split"] != split).any()
        copy_differs = MASTER.read_bytes() != PACKAGE_COPY.read_bytes()
        if stale or copy_differs:
            print("split or package copy out of date: run python data/make_split.py")
            return 1
        copies = near_copies(frame)
        if copies:
            print(f"near-copies of test statements in the train-only batch: {copies}")
            return 1
        print("split and package copy are up to date")
        return 0
    frame["split"] = split
    write(frame)
    counts = frame.groupby("split").size().to_dict()
    print(f"wrote {len(frame)} statements: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
