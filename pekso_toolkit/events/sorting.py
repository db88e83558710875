"""Sorting events by case, time and stage order: the one sort every analysis starts from.

Case ids are strings. Short ids (at most 8 ASCII bytes) are read as integers; other ids are
hashed once (pyarrow). The distinct ids are sorted, and the rows are then ordered through one
sort of packed 64-bit integer keys (case number, time, stage order, row number). The sort is
exact and stable: rows that tie on every key keep their input order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "arrow_strings",
    "first_appearance_codes",
    "short_id_codes",
    "sorted_by_codes",
    "sorted_positions",
]


def arrow_strings(series: pd.Series) -> pa.Array:
    """The values of a string column as one pyarrow string array."""
    arr = series.array
    if hasattr(arr, "_pa_array"):  # string[pyarrow]
        return pa.concat_arrays(arr._pa_array.chunks)
    values = arr._ndarray if hasattr(arr, "_ndarray") else series.to_numpy(dtype=object)
    try:
        return pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        values = series.astype("string").to_numpy(dtype=object, na_value=None)
        return pa.array(values, type=pa.large_string(), from_pandas=True)


def sorted_positions(
    case: pa.Array, ts: np.ndarray, tie: np.ndarray, presorted: bool = False
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Row order by (case_id, timestamp, tie rank) and the case number of each sorted row.

    ``tie`` orders events with equal timestamps (see :func:`pekso_toolkit.events.eventlog.tie_key`).
    Returns ``(order, case_code, sorted_ts)``; ``order`` is None when the rows are already in
    that order (always the case with ``presorted=True``, e.g. for an EventLog, which is sorted on
    loading). ``case_code`` numbers the cases 0, 1, ... in case_id order; ``sorted_ts`` is
    ``ts[order]`` when the sort produced it on the way (else None).
    """
    n = len(ts)
    if n <= 1:
        return None, np.zeros(n, dtype=np.int64), None
    diff = pc.not_equal(case.slice(1), case.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    if presorted:
        return None, cumulative_code(diff), None
    same = ~diff
    if not np.any((ts[1:] < ts[:-1]) & same) and not np.any(
        (ts[1:] == ts[:-1]) & same & (tie[1:] < tie[:-1])
    ):
        brk = np.flatnonzero(diff)
        greater = pc.greater(pc.take(case, brk + 1), pc.take(case, brk))
        if bool(np.all(greater.to_numpy(zero_copy_only=False))):
            return None, cumulative_code(diff), None
    del diff, same
    # not sorted: number the cases in case_id order, then sort by (case, time, stage)
    short = short_id_codes(case)
    if short is not None:
        return argsort_case_time(short[0], short[1], ts, tie)
    # any other ids: hash them once (pyarrow), sort the distinct ids
    encoded = pc.dictionary_encode(case)
    rank = pc.rank(encoded.dictionary, sort_keys="ascending", tiebreaker="first")
    rank_np = rank.to_numpy().astype(np.uint64)
    rank_np -= np.uint64(1)
    indices = encoded.indices.to_numpy()
    del encoded, rank
    return argsort_case_time(rank_np, indices, ts, tie)


def short_id_codes(case: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """Number short case ids through integers: ``(rank, index)`` or None.

    Ids of at most 8 ASCII characters (most agency case numbers) are read as big-endian 64-bit
    integers of their bytes padded with zero bytes. Integer order is then the ids' order and
    equal integers mean equal ids (no id holds a zero byte), so the ids are hashed and sorted as
    integers, about twice as fast as strings. ``index`` numbers the distinct ids by first
    appearance and ``rank[index]`` is the case number in case_id order. None when an id is
    longer, not ASCII or holds a zero byte.
    """
    n = len(case)
    if n == 0 or case.type != pa.string() or case.null_count:
        return None
    offsets_buf, data_buf = case.buffers()[1:3]
    if offsets_buf is None or data_buf is None:
        return None
    offsets = np.frombuffer(offsets_buf, dtype=np.int32, count=n + 1, offset=case.offset * 4)
    lengths = np.diff(offsets)
    if int(lengths.max()) > 8:
        return None
    data = np.frombuffer(data_buf, dtype=np.uint8)[int(offsets[0]) : int(offsets[-1])]
    if len(data) and (int(data.max()) >= 128 or not data.all()):
        return None
    if int(lengths.min()) != 8:
        padded = pc.ascii_rpad(case, width=8, padding="\x00")
        data = np.frombuffer(padded.buffers()[2], dtype=np.uint8)[: 8 * n]
    packed = data.view(">u8").astype(np.uint64)
    index, distinct = pd.factorize(packed)
    rank = np.empty(len(distinct), dtype=np.uint64)
    rank[np.argsort(distinct)] = np.arange(len(distinct), dtype=np.uint64)
    return rank, index


def sorted_by_codes(
    case_code: np.ndarray, ts: np.ndarray, tie: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray]:
    """Row order by (case number, timestamp, tie rank) when the case numbers are known.

    ``case_code`` must number the cases in case_id order (non-negative integers). Returns
    ``(order, sorted_case_code)``; ``order`` is None when the rows are already in that order.
    """
    n = len(ts)
    if n <= 1:
        return None, np.asarray(case_code, dtype=np.int64)
    step = np.diff(case_code)
    same = step == 0
    if (
        not np.any(step < 0)
        and not np.any((ts[1:] < ts[:-1]) & same)
        and not np.any((ts[1:] == ts[:-1]) & same & (tie[1:] < tie[:-1]))
    ):
        return None, np.asarray(case_code, dtype=np.int64)
    del step, same
    rank = np.arange(int(case_code.max()) + 1, dtype=np.uint64)
    order, code, _ = argsort_case_time(rank, case_code, ts, tie)
    return order, code


def first_appearance_codes(case: pa.Array) -> np.ndarray:
    """Case numbers 0, 1, ... in order of first appearance (int64), one per row."""
    return pc.dictionary_encode(case).indices.to_numpy().astype(np.int64)


def cumulative_code(diff: np.ndarray) -> np.ndarray:
    """Case numbers 0, 1, ... of sorted rows from the "case differs from the row before" mask."""
    code = np.empty(len(diff) + 1, dtype=np.int64)
    code[0] = 0
    np.cumsum(diff, out=code[1:])
    return code


def argsort_case_time(
    case_rank: np.ndarray, case_index: np.ndarray, ts: np.ndarray, stage: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Order by (case, timestamp, stage, row) through one sort of packed 64-bit keys.

    The case number of row ``i`` is ``case_rank[case_index[i]]``. The key packs the case number,
    the timestamp (coarsened just enough to fit in the bits left), the stage and the row number;
    sorting the keys themselves (faster than an argsort) gives the row order in the low bits. When
    coarsening put two events of a case in the wrong time order, a finer key (without the row
    number) and, failing that, an exact lexical sort take over, so the result is always exact.
    The keys are built in place: on large logs fresh temporary arrays cost more (page faults)
    than the arithmetic. Returns the order, the case numbers and the timestamps in that order
    (None when not computed).
    """
    n = len(ts)
    low = int(ts.min())
    span_bits = (int(ts.max()) - low).bit_length()
    case_bits = max(1, int(case_rank.max()).bit_length())
    stage_bits = max(1, int(stage.max()).bit_length())
    row_bits = max(1, (n - 1).bit_length())
    time_bits = 64 - case_bits - stage_bits - row_bits
    if time_bits >= 8:
        shift = max(0, span_bits - time_bits)
        low_bits = stage_bits + row_bits
        key = np.subtract(ts, low).view(np.uint64)
        key >>= np.uint64(shift)
        key <<= np.uint64(low_bits)
        part = np.take(case_rank, case_index)
        part <<= np.uint64(time_bits + low_bits)
        key |= part
        part[:] = stage
        part <<= np.uint64(row_bits)
        key |= part
        rows = np.arange(n, dtype=np.uint64)
        key |= rows
        key.sort()
        order = np.bitwise_and(key, np.uint64((1 << row_bits) - 1), out=rows).view(np.int64)
        key >>= np.uint64(time_bits + low_bits)
        code = key.view(np.int64)
        if shift == 0:
            return order, code, None
        sorted_ts = np.take(ts, order, out=part.view(np.int64))
        if time_ordered(sorted_ts, code):
            return order, code, sorted_ts
        del part, sorted_ts
    case_code = case_rank[case_index].astype(np.int64)
    time_bits = 62 - case_bits - stage_bits
    if time_bits >= 20:
        shift = max(0, span_bits - time_bits)
        fine = (case_code << (time_bits + stage_bits)) | (((ts - low) >> shift) << stage_bits)
        fine |= stage.astype(np.int64)
        order = np.argsort(fine, kind="stable")
        del fine
        code = case_code[order]
        sorted_ts = ts[order]
        if shift == 0 or time_ordered(sorted_ts, code):
            return order, code, sorted_ts
    order = np.lexsort((stage, ts, case_code))
    return order, case_code[order], None


def time_ordered(ts: np.ndarray, case_code: np.ndarray) -> bool:
    """True when the timestamps never go back within a case."""
    return not np.any((ts[1:] < ts[:-1]) & (case_code[1:] == case_code[:-1]))
