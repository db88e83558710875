"""Case store: practice rules and input checks refuse bad recordings and write nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pekso_toolkit.core.errors import PracticeRuleError
from pekso_toolkit.store import CaseStore, RecordError
from pekso_toolkit.store.rules import MAX_NAME


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 5, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaseStore]:
    s = CaseStore(tmp_path / "cases.sqlite", worker="ani", clock=Clock())
    yield s
    s.close()


def new_case(store: CaseStore, **kw: Any) -> str:
    ref = kw.pop("client_ref", "ref-1")
    args: dict[str, Any] = dict(
        office="Bandung", worker="ani", risk="sedang", referral_source="RT", story="cerita"
    )
    args.update(kw)
    return store.open_case(ref, **args)


@pytest.fixture
def contracted(store: CaseStore) -> str:
    cid = new_case(store)
    store.add_problem(cid, "a")
    store.add_problem(cid, "b")
    store.sign_contract(cid, in_scope=["P1"], out_of_scope=["P2"], capacity_note="ok")
    return cid


def n_rows(store: CaseStore) -> tuple[int, int, int]:
    conn = store._conn
    return tuple(  # type: ignore[return-value]
        conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608 (test constant)
        for table in ("events", "cases", "clients")
    )


def assert_rule(store: CaseStore, rule: str, call: Callable[[], object]) -> PracticeRuleError:
    before = n_rows(store)
    with pytest.raises(PracticeRuleError) as info:
        call()
    err = info.value
    assert err.rule == rule
    assert err.message_id and err.message_en and err.message_id != err.message_en
    assert err.message("en") == err.message_en and err.message("id") == err.message_id
    assert f"{err.message_id} / {err.message_en}" == str(err)
    assert n_rows(store) == before, "a refused recording must write nothing"
    return err


# ------------------------------------------------------------------------------- practice rules
def test_contract_needs_problems_in_scope(store: CaseStore) -> None:
    cid = new_case(store)
    store.add_problem(cid, "a")
    err = assert_rule(
        store,
        "contract_without_scope",
        lambda: store.sign_contract(cid, in_scope=[], out_of_scope=["P1"], capacity_note="ok"),
    )
    assert "in scope" in err.message_en and "cakupan" in err.message_id


def test_contract_needs_a_capacity_judgement(store: CaseStore) -> None:
    cid = new_case(store)
    store.add_problem(cid, "a")
    assert_rule(
        store,
        "contract_without_capacity",
        lambda: store.sign_contract(cid, in_scope=["P1"], capacity_note="   "),
    )


@pytest.mark.parametrize("agreed", [False, None, "yes", 1])
def test_amendment_needs_the_clients_agreement(
    store: CaseStore, contracted: str, agreed: object
) -> None:
    err = assert_rule(
        store,
        "amendment_without_agreement",
        lambda: store.amend_contract(contracted, add=["P2"], client_agreed=agreed, reason="r"),  # type: ignore[arg-type]
    )
    assert "client_agreed=True" in err.message_en


@pytest.mark.parametrize("reason", ["", "  \n", None])
def test_amendment_needs_a_reason(store: CaseStore, contracted: str, reason: object) -> None:
    assert_rule(
        store,
        "amendment_without_reason",
        lambda: store.amend_contract(contracted, add=["P2"], client_agreed=True, reason=reason),  # type: ignore[arg-type]
    )


def test_amendment_may_not_empty_the_scope(store: CaseStore, contracted: str) -> None:
    assert_rule(
        store,
        "contract_without_scope",
        lambda: store.amend_contract(contracted, drop=["P1"], client_agreed=True, reason="r"),
    )


@pytest.mark.parametrize("termination", ["", "   ", None])
def test_closing_needs_a_termination_contract(
    store: CaseStore, contracted: str, termination: object
) -> None:
    err = assert_rule(
        store,
        "closing_without_termination_contract",
        lambda: store.close_case(contracted, termination_contract=termination, reason="r"),  # type: ignore[arg-type]
    )
    assert "kontrak pengakhiran" in err.message_id


def test_nothing_is_recorded_in_a_closed_case(store: CaseStore, contracted: str) -> None:
    store.close_case(contracted, termination_contract="TC", reason="selesai")
    calls: list[Callable[[], object]] = [
        lambda: store.tick(contracted, "tingkat_risiko"),
        lambda: store.add_problem(contracted, "baru"),
        lambda: store.enter_stage(contracted, "asesmen"),
        lambda: store.amend_contract(contracted, add=["P2"], client_agreed=True, reason="r"),
        lambda: store.add_plan_step(contracted, "x", due="2024-06-01"),
        lambda: store.close_case(contracted, termination_contract="TC", reason="lagi"),
        lambda: store.follow_up(contracted, in_scope=["P2"], capacity_note="ok", reason="r"),
        lambda: store.refer(contracted, "P2", to="Dinsos"),
    ]
    for call in calls:
        err = assert_rule(store, "case_closed", call)
        assert "reopen" in err.message_en
    store.reopen(contracted, reason="kambuh")
    store.tick(contracted, "tingkat_risiko")
    assert "tingkat_risiko" in store.case(contracted).ticked


@pytest.mark.parametrize("item", ["tidak_ada", "", 3, "ditutup"])
def test_ticking_an_item_outside_the_model(store: CaseStore, item: object) -> None:
    cid = new_case(store)
    assert_rule(store, "unknown_checklist_item", lambda: store.tick(cid, item))  # type: ignore[arg-type]
    assert_rule(store, "unknown_checklist_item", lambda: store.untick(cid, item))  # type: ignore[arg-type]


def test_an_in_scope_problem_is_not_referred_out(store: CaseStore, contracted: str) -> None:
    assert_rule(store, "refer_in_scope", lambda: store.refer(contracted, "P1", to="Dinsos"))
    store.refer(contracted, "P2", to="Dinsos")
    assert store.case(contracted).problem("P2").referred_to == "Dinsos"


def test_flagged_steps_are_allowed(store: CaseStore, contracted: str) -> None:
    store.enter_stage(contracted, "intervensi")  # no analysis: allowed, flagged
    store.close_case(contracted, termination_contract="TC", reason="r")  # unticked: flagged
    flags = store.case(contracted).flags
    assert [f.flag for f in flags] == ["skipped_analysis", "closed_without_termination_items"]


# ------------------------------------------------------------------------------- input checks
def assert_refused(store: CaseStore, match: str, call: Callable[[], object]) -> None:
    before = n_rows(store)
    with pytest.raises(RecordError, match=match):
        call()
    assert n_rows(store) == before


def test_unknown_case_problem_stage_and_step(store: CaseStore, contracted: str) -> None:
    assert_refused(store, "no case 'K-999999'", lambda: store.tick("K-999999", "tingkat_risiko"))
    assert_refused(store, "case_id: must be text", lambda: store.add_problem(7, "x"))  # type: ignore[arg-type]
    assert_refused(
        store,
        r"in_scope: problem\(s\) \['P9'\] are not in this case; known problems: P1, P2",
        lambda: store.follow_up(contracted, in_scope=["P9"], capacity_note="ok", reason="r"),
    )
    assert_refused(store, "problem_id", lambda: store.refer(contracted, "P7", to="x"))
    assert_refused(
        store,
        "stage: 'asesmen ' is not a helping stage",
        lambda: store.enter_stage(contracted, "asesmen "),
    )
    assert_refused(store, "close with close_case", lambda: store.enter_stage(contracted, "ditutup"))
    assert_refused(
        store, "already in proses_awal", lambda: store.enter_stage(contracted, "proses_awal")
    )
    assert_refused(store, "no step 'S1'", lambda: store.complete_step(contracted, "S1"))
    assert_refused(
        store,
        "already has contract C1",
        lambda: store.sign_contract(contracted, in_scope=["P2"], capacity_note="ok"),
    )
    assert_refused(
        store,
        "in both",
        lambda: store.follow_up(
            contracted, in_scope=["P2"], out_of_scope=["P2"], capacity_note="ok", reason="r"
        ),
    )
    assert_refused(
        store,
        "already in scope",
        lambda: store.amend_contract(contracted, add=["P1"], client_agreed=True, reason="r"),
    )
    assert_refused(store, "is not closed", lambda: store.reopen(contracted, reason="r"))
    assert_refused(store, "not ticked", lambda: store.untick(contracted, "tingkat_risiko"))
    store.tick(contracted, "tingkat_risiko")
    assert_refused(store, "already ticked", lambda: store.tick(contracted, "tingkat_risiko"))


def test_fields_of_open_case_are_checked(store: CaseStore) -> None:
    assert_refused(
        store, "risk: 'urgent' is not a known level", lambda: new_case(store, risk="urgent")
    )
    assert_refused(store, "office: must not be empty", lambda: new_case(store, office=" "))
    assert_refused(store, "worker: must be text", lambda: new_case(store, worker=None))
    assert_refused(store, "story: must not be empty", lambda: new_case(store, story=""))
    cid = new_case(store)
    assert_refused(
        store,
        "due: '31/02/2024' is not a date",
        lambda: store.add_plan_step(cid, "x", due="31/02/2024"),
    )
    anonymous = CaseStore(store.path, clock=Clock())
    assert_refused(anonymous, "who is recording", lambda: anonymous.tick(cid, "tingkat_risiko"))
    anonymous.tick(cid, "tingkat_risiko", by="budi")
    anonymous.close()


# ------------------------------------------------------------------------------- hostile text
HOSTILE = [
    'O\'Brien "kutip" `backtick`',
    "'; DROP TABLE events; --",
    "Robert'); DELETE FROM clients WHERE ('1'='1",
    "🙂 anak 👨‍👩‍👧 keluarga — ñ ü 中文 العربية",
    "baris satu\nbaris dua\r\n\ttab",
    '{"json": [1, 2]} \\u0000 \\ backslash',
    "x" * 1_048_576,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_round_trips_unchanged(store: CaseStore, text: str) -> None:
    cid = new_case(store, story=text)
    store.add_problem(cid, text, category="AT")
    store.add_plan_step(cid, text, due="2024-06-01")
    state = store.case(cid)
    assert state.story == text
    assert state.problems[0].text == text
    assert state.plan_steps[0].text == text
    assert store.problems(text=True)["text"].tolist() == [text]
    conn = store._conn
    assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 3
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"events", "cases", "clients", "meta"} <= tables
    if len(text) <= MAX_NAME and "\n" not in text:
        other = new_case(store, client_ref=text, office=text, referral_source=text)
        assert store.case(other, with_client=True).client_ref == text.strip()
        assert store.cases().set_index("case_id").loc[other, "office"] == text.strip()


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        (
            "story",
            "awal\x00akhir",
            r"story: the text holds the control character '\\x00' at "
            "position 4",
        ),
        ("story", "bel\x07", "control character"),
        ("story", "lone \ud800 surrogate", "lone surrogate"),
        ("story", "x" * 2_000_001, "too long"),
        ("office", "kantor\nbaru", "office: the text holds the control character"),
        ("office", "k" * (MAX_NAME + 1), "office: too long"),
        ("client_ref", "NIK\x00", "client_ref: the text holds the control character"),
        ("story", b"bytes", "story: must be text"),
    ],
)
def test_unsafe_text_is_refused_clearly(
    store: CaseStore, field: str, value: object, match: str
) -> None:
    assert_refused(store, match, lambda: new_case(store, **{field: value}))
