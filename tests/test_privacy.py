"""suppress_small_cells on tables whose correct suppression is worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pekso_toolkit.publish.disclosure import suppress_small_cells


def masked(table: pd.DataFrame, col: str) -> list[bool]:
    return table[col].isna().tolist()


def test_primary_and_one_complement_in_a_column() -> None:
    t = pd.DataFrame({"stage": ["a", "b", "c", "d"], "n": [0, 5, 30, 50]})
    out = suppress_small_cells(t)
    # 5 is masked; 0 is not; 30 (smallest non-zero other) protects it from total - rest
    assert masked(out, "n") == [False, True, True, False]
    assert out.n.iloc[0] == 0 and out.n.iloc[3] == 50
    assert out.n.dtype == "Int64"
    assert out.suppressed.tolist() == ["", "n", "n", ""]
    assert out.suppressed.dtype == "string"
    # nothing changed in the input
    assert t.n.tolist() == [0, 5, 30, 50]


def test_no_complement_when_two_cells_are_already_masked() -> None:
    t = pd.DataFrame({"n": [4, 7, 100]})
    assert masked(suppress_small_cells(t), "n") == [True, True, False]
    # and none at all without secondary suppression
    t = pd.DataFrame({"n": [4, 70, 100]})
    assert masked(suppress_small_cells(t, secondary=False), "n") == [True, False, False]


def test_threshold_is_configurable_and_zeros_are_never_partners() -> None:
    t = pd.DataFrame({"n": [4, 5, 6]})
    assert masked(suppress_small_cells(t, threshold=5), "n") == [True, True, False]
    assert masked(suppress_small_cells(t, threshold=4), "n") == [False, False, False]
    # the only other cell is a zero: masking it would not help (a reader can pin a zero); the
    # total (3) is itself a small count, so it is withheld instead
    t = pd.DataFrame({"n": [0, 3]})
    out = suppress_small_cells(t)
    assert masked(out, "n") == [False, True]
    assert out.attrs["withheld_totals"] == [("n", (), ())]
    with pytest.raises(ValueError):
        suppress_small_cells(t, threshold=0)


def test_derived_figures_are_masked_with_their_counts() -> None:
    t = pd.DataFrame(
        {
            "stage": ["a", "b", "c"],
            "n_stays": [120, 8, 300],
            "n_open": [3, 0, 40],
            "median_days": [5.0, 9.0, 40.0],
            "target_days": [7.0, 14.0, 60.0],
        }
    )
    out = suppress_small_cells(
        t,
        count_cols=["n_stays", "n_open"],
        derived={"median_days": "n_stays"},
        secondary=False,
    )
    assert masked(out, "n_stays") == [False, True, False]
    assert masked(out, "n_open") == [True, False, False]
    assert masked(out, "median_days") == [False, True, False]  # follows n_stays only
    assert masked(out, "target_days") == [False, False, False]  # not derived
    assert out.suppressed.tolist() == ["n_open", "n_stays, median_days", ""]
    # default: every other numeric column counts as derived from every count (the safe choice)
    safe = suppress_small_cells(t, count_cols=["n_stays", "n_open"], secondary=False)
    assert masked(safe, "median_days") == [True, True, False]
    assert masked(safe, "target_days") == [True, True, False]
    assert np.isnan(safe.median_days.iloc[0])


def test_long_table_with_office_and_stage_totals() -> None:
    # office A: 20, 3, 40; office B: 30, 50, 60 (stages s1, s2, s3)
    t = pd.DataFrame(
        {
            "office": ["A", "A", "A", "B", "B", "B"],
            "stage": ["s1", "s2", "s3"] * 2,
            "n": [20, 3, 40, 30, 50, 60],
        }
    )
    out = suppress_small_cells(t, margins=["office", "stage"])
    # A.s2 (3) primary; A.s1 (20) protects it within office A; then s1 and s2 each have one
    # masked cell across offices, so B.s1 (30) and B.s2 (50) are masked too.
    assert masked(out, "n") == [True, True, False, True, True, False]
    # with the whole table as the only margin, one complement suffices
    assert masked(suppress_small_cells(t), "n") == [True, True, False, False, False, False]


def test_cross_table_with_row_and_column_totals() -> None:
    t = pd.DataFrame(
        {"stage": ["s1", "s2", "s3"], "A": [25, 12, 50], "B": [4, 40, 60], "C": [30, 0, 70]}
    )
    out = suppress_small_cells(t, row_total=True)
    # B.s1 = 4 primary; column B -> B.s2 (40); row s1 -> A.s1 (25); row s2 -> A.s2 (12);
    # column A then has two masked cells, column C none: stable.
    assert masked(out, "A") == [True, True, False]
    assert masked(out, "B") == [True, True, False]
    assert masked(out, "C") == [False, False, False]
    assert out.suppressed.tolist() == ["A, B", "A, B", ""]
    # every row and every column with a masked cell has at least two
    grid = out[["A", "B", "C"]].isna().to_numpy()
    assert all(row.sum() != 1 for row in grid) and all(col.sum() != 1 for col in grid.T)


def test_missing_counts_are_left_alone_and_flags_accumulate() -> None:
    t = pd.DataFrame({"n": pd.array([None, 2, 40, 90], dtype="Int64")})
    out = suppress_small_cells(t)
    assert masked(out, "n") == [True, True, True, False]
    assert out.suppressed.tolist() == ["", "n", "n", ""]
    again = suppress_small_cells(out.assign(m=[50, 50, 3, 50]), count_cols=["m"], derived=[])
    assert again.suppressed.tolist() == ["m", "n", "n, m", ""]  # ties: the first row
    with pytest.raises(KeyError):
        suppress_small_cells(t, count_cols=["nope"])


# ------------------------------------------------------------------------ linear-programming audit
# An audit written independently of pekso_toolkit.publish.audit: a two-way table of counts
# (rows x columns) is published with its row totals, column totals and grand total (each total
# published unless the suppression withheld it). For every masked cell the reader's best bounds
# are the optimum of two linear programs over the masked cells and withheld totals (counts >= 0,
# integrality relaxed). The protection rule: no masked cell may be pinned to an interval narrower
# than the threshold, i.e. max - min >= threshold (a masked 1-10 can never be narrowed to within
# the 10 values that the threshold protects).


def audit_two_way(
    grid: np.ndarray, cell_mask: np.ndarray, withheld: list[tuple[object, ...]]
) -> np.ndarray:
    """(min, max) of every masked cell of ``grid``, row-major; totals as described above."""
    from scipy.optimize import linprog

    n_r, n_c = grid.shape
    hidden_rows = {g[2][0] for g in withheld if g[1] == ("r",)}
    hidden_cols = {g[2][0] for g in withheld if g[1] == ("c",)}
    grand_hidden = any(g[1] == () for g in withheld)
    cells = [(i, j) for i in range(n_r) for j in range(n_c) if cell_mask[i, j]]
    names = cells + [("R", i) for i in hidden_rows] + [("C", j) for j in hidden_cols]
    names += [("G",)] if grand_hidden else []
    pos = {name: k for k, name in enumerate(names)}
    eqs, rhs = [], []

    def add(terms: list[tuple[object, float]], known: float) -> None:
        row = np.zeros(len(names))
        for name, sign in terms:
            row[pos[name]] += sign
        if row.any():
            eqs.append(row)
            rhs.append(known)

    def value(name: tuple[object, ...]) -> tuple[bool, float]:
        if name in pos:
            return True, 0.0
        if name[0] == "R":
            return False, float(grid[name[1]].sum())
        if name[0] == "C":
            return False, float(grid[:, name[1]].sum())
        if name[0] == "G":
            return False, float(grid.sum())
        return False, float(grid[name])

    def relation(parts: list[tuple[object, ...]], total: tuple[object, ...]) -> None:
        terms, known = [], 0.0
        for name, sign in [*((p, 1.0) for p in parts), (total, -1.0)]:
            unknown, v = value(name)
            if unknown:
                terms.append((name, sign))
            else:
                known -= sign * v
        add(terms, known)

    for i in range(n_r):
        relation([(i, j) for j in range(n_c)], ("R", i))
    for j in range(n_c):
        relation([(i, j) for i in range(n_r)], ("C", j))
    relation([("R", i) for i in range(n_r)], ("G",))
    relation([("C", j) for j in range(n_c)], ("G",))
    bounds = np.zeros((len(cells), 2))
    for k in range(len(cells)):
        c = np.zeros(len(names))
        c[k] = 1
        lo = linprog(c, A_eq=np.array(eqs) if eqs else None, b_eq=rhs or None, method="highs")
        hi = linprog(-c, A_eq=np.array(eqs) if eqs else None, b_eq=rhs or None, method="highs")
        bounds[k] = [lo.fun if lo.status == 0 else -np.inf, -hi.fun if hi.status == 0 else np.inf]
    return bounds


def publish_two_way(grid: np.ndarray, threshold: int = 11) -> tuple[np.ndarray, list]:
    n_r, n_c = grid.shape
    long = pd.DataFrame(
        {
            "r": np.repeat(np.arange(n_r), n_c),
            "c": np.tile(np.arange(n_c), n_r),
            "n": grid.reshape(-1).astype(np.int64),
        }
    )
    out = suppress_small_cells(long, threshold=threshold, margins=["r", "c"])
    return out["n"].isna().to_numpy().reshape(n_r, n_c), out.attrs.get("withheld_totals", [])


def test_issue_example_zeros_are_not_partners_and_cell_cannot_be_recomputed() -> None:
    grid = np.array([[0, 0, 12], [5, 5, 12]])
    cell_mask, withheld = publish_two_way(grid)
    assert cell_mask[1, 0] and cell_mask[1, 1]
    assert not cell_mask[0, 0] and not cell_mask[0, 1]  # zeros are not partners
    bounds = audit_two_way(grid, cell_mask, withheld)
    assert (bounds[:, 1] - bounds[:, 0] >= 11).all()


def test_naive_suppression_fails_the_audit() -> None:
    # planted: the old rule (one partner per line, zeros allowed as partners, totals published)
    grid = np.array([[0, 0, 12], [5, 5, 12]])
    naive = np.array([[True, True, False], [True, True, False]])
    bounds = audit_two_way(grid, naive, [])
    assert (bounds[:, 1] - bounds[:, 0] < 11).any()
    # B/s0 = 5 is recovered exactly: row A's total (12) pins both zeros
    assert bounds[2].tolist() == [5.0, 5.0]
    # and a plain "two masked cells per line" rule fails on small totals
    grid = np.array([[3, 4, 30], [20, 25, 40]])
    bounds = audit_two_way(grid, np.array([[True, True, False], [True, True, False]]), [])
    assert (bounds[:, 1] - bounds[:, 0] < 11).any()


@pytest.mark.slow
def test_audit_on_a_thousand_random_tables() -> None:
    rng = np.random.default_rng(20261201)
    n_masked = n_withheld = 0
    for _ in range(1000):
        shape = (int(rng.integers(2, 5)), int(rng.integers(2, 5)))
        kind = rng.random(shape)
        grid = np.where(
            kind < 0.15,
            0,
            np.where(kind < 0.5, rng.integers(1, 11, shape), rng.integers(11, 60, shape)),
        )
        cell_mask, withheld = publish_two_way(grid)
        # every count from 1 to 10 is masked
        assert cell_mask[(grid > 0) & (grid < 11)].all()
        if cell_mask.any():
            bounds = audit_two_way(grid, cell_mask, withheld)
            width = bounds[:, 1] - bounds[:, 0]
            assert (width >= 11).all(), (grid, cell_mask, withheld, bounds)
            truth = grid[cell_mask]
            assert ((bounds[:, 0] <= truth + 1e-6) & (truth <= bounds[:, 1] + 1e-6)).all()
        # no published total is a small count
        published_totals = [grid.sum(axis=1), grid.sum(axis=0), np.array([grid.sum()])]
        small = [
            (k, i)
            for k, tot in enumerate(published_totals)
            for i, v in enumerate(tot)
            if 0 < v < 11
        ]
        names = {("r",): 0, ("c",): 1, (): 2}
        withheld_at = {(names[g[1]], g[2][0] if g[2] else 0) for g in withheld}
        assert set(small) <= withheld_at
        n_masked += int(cell_mask.sum())
        n_withheld += len(withheld)
    print(f"1000 tables: {n_masked} masked cells, {n_withheld} withheld totals, audit passed")


# ------------------------------------------------------------------------- the publication gate
def _stays_one_finished() -> pd.DataFrame:
    """20 stays in asesmen of which 19 are still open on 2025-06-30."""
    import pekso_toolkit as pk

    rows = []
    for k in range(20):
        case = f"K-{k:03d}"
        rows.append((case, "proses_awal", "2025-01-01 09:00"))
        rows.append((case, "asesmen", f"2025-01-{2 + k % 20:02d} 09:00"))
    rows.append(("K-000", "analisa_masalah", "2025-03-01 09:00"))
    log = pd.DataFrame(rows, columns=["case_id", "stage", "timestamp"])
    return pk.time_in_stage(pk.load_events(log), as_of="2025-06-30")


def test_stage_summary_masks_the_mean_of_one_finished_stay() -> None:
    import pekso_toolkit as pk

    stays = _stays_one_finished()
    row = pk.stage_summary(stays, min_count=11).set_index("stage").loc["asesmen"]
    assert row["n_stays"] == 20
    assert pd.isna(row["mean_days_completed"])  # one finished stay: its own length
    assert pd.isna(row["n_open"])  # 20 - 19 = 1 finished stay, recoverable by subtraction
    # the gate does the same to a table made without a threshold
    gated = pk.publish(pk.stage_summary(stays)).set_index("stage").loc["asesmen"]
    assert pd.isna(gated["mean_days_completed"]) and pd.isna(gated["n_open"])


def test_censoring_bias_masks_the_completed_only_median_of_one_stay() -> None:
    import pekso_toolkit as pk

    stays = _stays_one_finished()
    row = pk.censoring_bias(stays, min_count=11).set_index("stage").loc["asesmen"]
    assert pd.isna(row["median_completed_only"])
    assert pd.isna(row["understatement_days"])
    assert pd.isna(row["n_open"]) and pd.isna(row["share_open"])


def test_forgotten_summary_complements_are_not_recoverable() -> None:
    import pekso_toolkit as pk

    # the per-case table of pk.forgotten_steps: office A has 20 cases that reached the contract
    # checkpoint, 19 of which forgot it (complement 1); office B 30 cases, 15 forgot
    checks = pd.DataFrame(
        {
            "office": ["A"] * 20 + ["B"] * 30,
            "step": "contract_boundaries",
            "item": "kontrak_layanan",
            "label_id": "Kontrak layanan",
            "label_en": "Service contract",
            "checkpoint": "left intake",
            "reached": True,
            "forgotten": [True] * 19 + [False] + [True] * 15 + [False] * 15,
        }
    )
    out = pk.forgotten_summary(checks, by="office", min_count=11)
    assert len(out) == 2
    for _, row in out.iterrows():
        if pd.notna(row["n_reached"]) and pd.notna(row["n_forgotten"]):
            rest = row["n_reached"] - row["n_forgotten"]
            assert not 0 < rest < 11, row
    assert out["n_forgotten"].isna().any()  # office A's 19 of 20 cannot be shown


def test_publish_refuses_per_case_tables_unless_internal() -> None:
    import pekso_toolkit as pk

    cases = pd.DataFrame({"case_id": ["A-1", "A-2"], "days": [3.0, 4.0]})
    with pytest.raises(pk.PublicationError) as err:
        pk.publish(cases)
    assert "case_id" in err.value.message_en and "kasus" in err.value.message_id
    flagged = pd.DataFrame({"n": [40]})
    flagged.attrs["internal"] = True
    with pytest.raises(pk.PublicationError):
        pk.publish(flagged)
    assert pk.publish(cases, internal=True).equals(cases)


def test_publish_masks_counts_and_derived_figures_with_the_default_threshold() -> None:
    import pekso_toolkit as pk

    t = pd.DataFrame({"office": ["A", "B", "C"], "n": [10, 40, 50], "share": [0.1, 0.4, 0.5]})
    out = pk.publish(t)
    assert out["n"].isna().tolist() == [True, True, False]
    assert out["share"].isna().tolist() == [True, True, False]
    assert out.attrs["published"] and out.attrs["min_count"] == 11
    assert pk.publish(t, min_count=5)["n"].isna().tolist() == [False, False, False]


# ------------------------------------------------------- thresholds on every table that is shown
@pytest.fixture(scope="module")
def sample() -> tuple[object, pd.DataFrame]:
    import pekso_toolkit as pk

    full = pk.load_events(pk.datasets.sample_events_path()).events
    # a small agency: 25 cases from each office, so that many cells are small
    cases = full.drop_duplicates("case_id").groupby("office", observed=True).head(25)["case_id"]
    log = pk.load_events(full[full["case_id"].isin(cases)].astype({"case_id": str}))
    stays = pk.time_in_stage(log, as_of="2025-06-30", carry=["office"])
    return log, stays


def no_small_counts(table: pd.DataFrame, columns: list[str]) -> bool:
    values = pd.concat([pd.to_numeric(table[c], errors="coerce") for c in columns])
    return not ((values > 0) & (values < 11)).any()


def test_flow_tables_take_a_threshold(sample: tuple[object, pd.DataFrame]) -> None:
    import pekso_toolkit as pk

    log, stays = sample
    raw = pk.transitions(log, as_of="2025-06-30")
    assert not no_small_counts(raw, ["n", "n_cases"])  # the sample has rare moves
    assert no_small_counts(pk.transitions(log, as_of="2025-06-30", min_count=11), ["n", "n_cases"])
    work = pk.wip(stays, as_of="2025-06-30", freq="M", min_count=11)
    assert no_small_counts(work, ["n_cases", "arrivals", "exits"])
    assert work["n_cases"].notna().any()


def test_bottlenecks_threshold_and_reasons_without_small_counts(
    sample: tuple[object, pd.DataFrame],
) -> None:
    import re

    import pekso_toolkit as pk

    _, stays = sample
    small = stays
    table = pk.bottlenecks(small, as_of="2025-06-30", min_count=11)
    assert no_small_counts(table, ["n_stays", "n_waiting_now", "overdue_now"])
    for text in table["reason"]:
        assert not re.search(r"(?<![\d.,])([1-9]|10) (kasus|cases?)\b", text), text
    # the gate rewrites the reasons of a table made without a threshold
    gated = pk.publish(pk.bottlenecks(small, as_of="2025-06-30"))
    assert gated["reason"].tolist() == table["reason"].tolist()


def test_overdue_cases_is_internal_and_counts_are_published(
    sample: tuple[object, pd.DataFrame],
) -> None:
    import pekso_toolkit as pk

    _, stays = sample
    cases = pk.overdue_cases(stays, as_of="2025-06-30")
    with pytest.raises(pk.PublicationError):
        pk.publish(cases)
    counts = pk.overdue_cases(stays, as_of="2025-06-30", min_count=11, by="office")
    assert "case_id" not in counts.columns
    assert no_small_counts(counts, ["n_overdue"])
    assert set(counts["office"]) == set(stays["office"])
