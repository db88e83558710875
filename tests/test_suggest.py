"""Keyword suggestions: text normalisation, matching, robustness, and the accuracy gate."""

from __future__ import annotations

import random
from importlib import resources

import pytest

from pekso_toolkit.categories.classifier import evaluate_suggestions
from pekso_toolkit.categories.suggest import Suggestions, _stem, normalise, tokens
from pekso_toolkit.categories.taxonomy import Taxonomy, load_yaml
from pekso_toolkit.core.i18n import set_language
from pekso_toolkit.datasets import load_problem_statements


@pytest.fixture(scope="module")
def ppks() -> Taxonomy:
    return Taxonomy.ppks()


# --------------------------------------------------------------------- normalisation
def test_tokens_expand_informal_spellings_and_stem() -> None:
    assert tokens("Anaknya dipukuli ortu") == ["anak", "pukul", "orang", "tua"]
    assert tokens("pukul sembilan") == ["jam", "sembilan"]  # the time, not hitting
    assert tokens("gk sekolah") == tokens("tidak bersekolah") == ["tidak", "sekolah"]
    assert tokens("ditelantarkan") == tokens("terlantar") == tokens("penelantaran")
    assert tokens("victims begging") == ["victim", "beg"]
    assert normalise("Ortu gk peduli!") == "orang tua tidak peduli"


def test_tokens_informal_verb_forms() -> None:
    assert tokens("mukul") == tokens("dipukulin") == tokens("memukul") == ["pukul"]
    assert tokens("nyiksa") == tokens("disiksa") == ["siksa"]
    assert tokens("nyuri") == tokens("mencuri") == ["curi"]
    assert tokens("ngancam") == tokens("diancam") == ["ancam"]
    assert tokens("mabok") == ["mabuk"]


def test_tokens_reduplication_keeps_base_word() -> None:
    assert tokens("minta-minta") == tokens("minta2") == tokens("meminta-minta")
    assert tokens("anak-anak")[0] == "anak" and tokens("anak2")[0] == "anak"
    assert tokens("minta konseling")[0] == "minta" and "minta~2" not in tokens("minta tolong")


def test_tokens_odd_input() -> None:
    assert tokens("") == [] and tokens(None) == [] and tokens(float("nan")) == []  # type: ignore[arg-type]
    assert tokens("123 456 !!!") == []
    assert tokens("😢🏠") == []


def test_stemming_is_memoised(ppks: Taxonomy) -> None:
    text = "Bapaknya menelantarkan anak-anak dan sering memukuli ibunya"
    ppks.suggest(text)
    misses = _stem.cache_info().misses
    ppks.suggest(text)
    ppks.suggest(text.upper())
    assert _stem.cache_info().misses == misses


# --------------------------------------------------------------------- suggestions
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("anjal di lampu merah", "AJ"),
        ("korban KDRT", "KTK"),
        ("ortu sering mukul anak", "AKTK"),
        ("lansia hidup sendiri", "LUT"),
        ("ODGJ dipasung keluarga", "PD"),
        ("anak putus sekolah", "AT"),
        ("PSK di lokalisasi", "TS"),
        ("TKI/PMI dideportasi dari Malaysia", "PMBS"),
        ("pemuda pakai narkoba", "NAPZA"),
        ("difabel butuh kursi roda", "PD"),
        ("rumah hanyut kena banjir", "KBA"),
        ("keluarga miskin tidak dapat bansos", "FM"),
        ("pemulung di TPA", "PML"),
        ("homeless man sleeping rough", "GLD"),
        ("odha putus obat ARV", "ODHA"),
        ("mantan napi sulit dapat SKCK", "BWBLP"),
        ("korban trafficking dijual ke luar kota", "KTR"),
    ],
)
def test_suggest_first_choice_for_common_worker_phrases(
    ppks: Taxonomy, text: str, code: str
) -> None:
    result = ppks.suggest(text)
    assert result and result[0].code == code
    assert result[0].matched  # the worker sees why


def test_gepeng_points_to_homeless_and_beggar(ppks: Taxonomy) -> None:
    assert set(ppks.suggest("gepeng terjaring razia", k=2).codes) == {"GLD", "PGM"}


def test_suggestions_are_ranked_and_limited(ppks: Taxonomy) -> None:
    text = "anak jalanan suka ngelem dan mengemis di lampu merah, ortunya miskin"
    result = ppks.suggest(text, k=3)
    assert isinstance(result, Suggestions) and len(result) == 3
    scores = [s.score for s in result]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0
    assert result.codes[0] == "AJ"
    assert ppks.suggest(text, k=1).codes == result.codes[:1]
    assert len(ppks.suggest(text, k=50)) > 3
    assert ppks.suggest(text, k=0) == ()
    assert all(s.score > 1.0 for s in ppks.suggest(text, k=50, min_score=1.0))


def test_phrase_outweighs_single_word(ppks: Taxonomy) -> None:
    phrase = {s.code: s.score for s in ppks.suggest("anak putus sekolah", k=26)}
    word = {s.code: s.score for s in ppks.suggest("anak sekolah", k=26)}
    assert phrase["AT"] > word.get("AT", 0.0)


def test_partial_phrase_words_are_shown_with_their_phrase(ppks: Taxonomy) -> None:
    result = ppks.suggest("sudah tidak mau lanjut sekolah lagi")
    assert any("(" in m and "sekolah" in m for s in result for m in s.matched)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "!!! ... ??? ---",
        "12345 678",
        "Hari ini cuaca cerah, rapat dimulai pukul sembilan.",
        "ingin belajar menjahit",
        "orang tua dan keluarga datang ke kantor",
        "مرحبا كيف حالك",
        "ꦲꦤꦏ꧀ꦏꦸꦩꦭꦸꦮ",
        "😢😢🏠🙏",
        "你好世界",
    ],
)
def test_no_evidence_gives_empty_result(ppks: Taxonomy, text: str) -> None:
    result = ppks.suggest(text)
    assert result == () and result.codes == [] and len(result.to_frame()) == 0
    assert "no suggestion" in result._repr_html_()


def test_mixed_scripts_with_evidence(ppks: Taxonomy) -> None:
    assert ppks.suggest("😢 anak jalanan ꦲꦤꦏ꧀ مرحبا").codes[0] == "AJ"


def test_non_text_input_gives_empty_result(ppks: Taxonomy) -> None:
    assert ppks.suggest(None) == ()  # type: ignore[arg-type]
    assert ppks.suggest(float("nan")) == ()  # type: ignore[arg-type]


def test_very_long_text_does_not_crash(ppks: Taxonomy) -> None:
    rng = random.Random(7)
    words = ["anak", "jalanan", "rumah", "xqz", "terlantar", "😢", "mengemis", "banjir"]
    text = " ".join(rng.choice(words) + rng.choice(["", "nya", "2"]) for _ in range(20_000))
    text = text[:100_000]
    assert len(text) == 100_000
    result = ppks.suggest(text, k=3)
    assert 1 <= len(result) <= 3
    junk = "".join(rng.choice("abcdefghij ") for _ in range(100_000))
    assert len(ppks.suggest(junk)) <= 3


def test_to_frame_and_html(ppks: Taxonomy) -> None:
    frame = ppks.suggest("lansia terlantar dan pikun").to_frame()
    assert list(frame.columns) == ["rank", "code", "label", "score", "matched"]
    assert frame["rank"].tolist() == list(range(1, len(frame) + 1))
    assert frame.loc[0, "label"] == "Lanjut Usia Terlantar"
    set_language("en")
    assert ppks.suggest("lansia terlantar")[0].label() == "Neglected older person"
    html_out = ppks.suggest("lansia terlantar")._repr_html_()
    assert "<table>" in html_out and "Neglected older person" in html_out


def test_html_escapes_keywords(ppks: Taxonomy) -> None:
    tax = ppks.with_keywords({"AT": ["<b>bold</b> kata"]})
    html_out = tax.suggest("bold kata")._repr_html_()
    assert "<b>" not in html_out and "&lt;b&gt;" in html_out


# --------------------------------------------------------------------- keyword file
def test_keyword_file_is_reviewable_and_complete(ppks: Taxonomy) -> None:
    text = (resources.files("pekso_toolkit") / "data" / "ppks_keywords.yaml").read_text("utf-8")
    assert text.startswith("#") and "Format" in text[:600]
    data = load_yaml(text)
    assert set(data) == set(ppks.leaves)
    for code in ppks.leaves:
        assert len(ppks.category(code).keywords) >= 10, code
    listed = {
        str(next(iter(e)) if isinstance(e, dict) else e).lower() for v in data.values() for e in v
    }
    for word in ("kdrt", "lansia", "odgj", "putus sekolah", "gepeng", "anjal", "psk", "tki"):
        assert word in listed, word
    for word in ("pmi", "narkoba", "difabel"):
        assert word in listed, word


# --------------------------------------------------------------------- quality gate
def test_keyword_suggestions_top3_on_test_split(ppks: Taxonomy) -> None:
    data = load_problem_statements()
    test = data[data["split"] == "test"]
    table = evaluate_suggestions(
        ppks, texts=test["text"], codes=test["code"], alt_codes=test["alt_code"], k=3
    )
    row = table.set_index("method").loc["keywords"]
    # independent count of hits
    hits = sum(
        bool({c, a} & set(ppks.suggest(t, k=3).codes))
        for t, c, a in zip(test["text"], test["code"], test["alt_code"].fillna(""))
    )
    assert row["top_k"] == pytest.approx(hits / len(test))
    assert row["top_k"] >= 0.85
