"""One CaseStore used from several threads (Jupyter delivers widget events on its own thread)."""

from __future__ import annotations

import threading
from pathlib import Path

import pekso_toolkit as pk


def test_a_store_is_usable_from_another_thread_and_writes_never_mix(tmp_path: Path) -> None:
    store = pk.CaseStore(tmp_path / "kasus.sqlite", worker="PS-01")
    case_id = store.open_case(
        "klien-001",
        office="Kota Bandung",
        worker="PS-01",
        risk="sedang",
        referral_source="Puskesmas",
        story="…",
    )
    errors: list[BaseException] = []
    opened: list[str] = []

    def work() -> None:
        try:
            for i in range(150):
                opened.append(
                    store.open_case(
                        f"klien-t{i}",
                        office="Kab. Garut",
                        worker="PS-02",
                        risk="rendah",
                        referral_source="Keluarga",
                        story="…",
                    )
                )
                store.cases()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    problems = [store.add_problem(case_id, f"masalah {i}") for i in range(150)]
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(set(opened)) == 300
    assert len(store.case(case_id).problems) == len(set(problems)) == 150
    assert len(store.cases()) == 301
    # the store still answers from the thread that opened it
    store.tick(case_id, "persetujuan_klien")
    assert "persetujuan_klien" in store.case(case_id).ticked
