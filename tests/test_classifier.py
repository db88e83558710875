"""ProblemClassifier, its evaluation, and the bundled problem statements."""

from __future__ import annotations

import copy
import importlib.util
import pickle
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_val_score
from sklearn.utils.validation import check_is_fitted

from pekso_toolkit.categories.classifier import (
    ProblemClassifier,
    SuggestionEvaluation,
    evaluate_suggestions,
)
from pekso_toolkit.categories.taxonomy import Taxonomy
from pekso_toolkit.core.errors import TaxonomyError
from pekso_toolkit.datasets import load_problem_statements

ROOT = Path(__file__).resolve().parents[1]
MASTER = ROOT / "data" / "problem_statements.csv"
PACKAGE_COPY = ROOT / "pekso_toolkit" / "data" / "problem_statements.csv"


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return load_problem_statements()


@pytest.fixture(scope="module")
def fitted(data: pd.DataFrame) -> ProblemClassifier:
    train = data[data["split"] == "train"]
    return ProblemClassifier().fit(train["text"], train["code"])


@pytest.fixture(scope="module")
def test_split(data: pd.DataFrame) -> pd.DataFrame:
    return data[data["split"] == "test"]


def load_make_split() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_split", ROOT / "data" / "make_split.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------- the data set
def test_statements_cover_every_type(data: pd.DataFrame) -> None:
    leaves = set(Taxonomy.ppks().leaves)
    assert len(data) >= 300
    assert list(data.columns) == ["statement_id", "text", "code", "alt_code", "lang", "split"]
    assert all(dtype == "string" for dtype in data.dtypes)
    assert data["statement_id"].is_unique and data["text"].is_unique
    assert set(data["code"]) == leaves
    assert data["code"].value_counts().min() >= 8
    alt = data["alt_code"].dropna()
    assert set(alt) <= leaves and (alt != data.loc[alt.index, "code"]).all() and len(alt) >= 20
    assert set(data["lang"]) == {"id", "en"} and (data["lang"] == "id").mean() > 0.6
    assert set(data["split"]) == {"train", "test"}
    # stratified, about 30 % of the statements written before the split was fixed; the later
    # statements (ps495 on) only extend the training data
    first = data[data["statement_id"].str[2:].astype(int) < 495]
    share = (first["split"] == "test").groupby(first["code"]).mean()
    assert share.between(0.25, 0.4).all()
    assert ((data["split"] == "test").sum(), len(first)) == (156, 494)
    assert (data["text"].str.len() < 200).all() and (data["text"].str.len() > 20).all()


def test_package_copy_is_identical_to_master() -> None:
    if not MASTER.is_file():
        pytest.skip("the repository's data/ folder is not available (installed package)")
    assert MASTER.read_bytes() == PACKAGE_COPY.read_bytes()


def test_split_is_reproduced_by_the_committed_rule(data: pd.DataFrame) -> None:
    if not (ROOT / "data" / "make_split.py").is_file():
        pytest.skip("data/make_split.py is not available (installed package)")
    split = load_make_split().assign_split(data["statement_id"], data["code"])
    assert (split.to_numpy() == data["split"].to_numpy()).all()
    # the rule does not depend on row order
    shuffled = data.sample(frac=1.0, random_state=3)
    again = load_make_split().assign_split(shuffled["statement_id"], shuffled["code"])
    assert (again.sort_index().to_numpy() == data["split"].to_numpy()).all()


# --------------------------------------------------------------------- fitting and prediction
def test_fit_returns_self_and_predicts_leaf_codes(
    fitted: ProblemClassifier, test_split: pd.DataFrame
) -> None:
    assert "fitted" in repr(fitted)
    pred = fitted.predict(test_split["text"])
    assert pred.shape == (len(test_split),) and set(pred) <= set(fitted.taxonomy_.leaves)
    proba = fitted.predict_proba(test_split["text"])
    assert list(proba.columns) == fitted.classes_ and len(fitted.classes_) == 26
    assert np.allclose(proba.sum(axis=1), 1.0) and (proba.index == test_split.index).all()
    assert fitted.predict_proba([]).shape == (0, 26)


def test_fitted_classifier_survives_pickling(
    fitted: ProblemClassifier, test_split: pd.DataFrame
) -> None:
    restored = pickle.loads(pickle.dumps(fitted))
    texts = list(test_split["text"][:20])
    pd.testing.assert_frame_equal(restored.predict_proba(texts), fitted.predict_proba(texts))
    assert restored.taxonomy_ == fitted.taxonomy_


def test_fit_is_deterministic(data: pd.DataFrame) -> None:
    train = data[data["split"] == "train"].iloc[::2]
    texts = ["anak dipukuli ayahnya", "keluarga miskin", "something unrelated entirely"]
    a = ProblemClassifier(seed=5).fit(train["text"], train["code"]).predict_proba(texts)
    b = ProblemClassifier(seed=5).fit(train["text"], train["code"]).predict_proba(texts)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_fit_rejects_bad_codes(data: pd.DataFrame) -> None:
    train = data[data["split"] == "train"].head(20)
    with pytest.raises(TaxonomyError, match="'ATX'"):
        ProblemClassifier().fit(train["text"], ["ATX"] + list(train["code"][1:]))
    with pytest.raises(TaxonomyError, match="row 0.*'anak'.*not a leaf"):
        ProblemClassifier().fit(train["text"], ["anak"] + list(train["code"][1:]))
    with pytest.raises(TaxonomyError, match="row 1"):
        ProblemClassifier().fit(train["text"], ["AT", None] + list(train["code"][2:]))
    with pytest.raises(ValueError, match="texts but"):
        ProblemClassifier().fit(train["text"], list(train["code"][1:]))
    with pytest.raises(TypeError):
        ProblemClassifier().fit("one text", ["AT"])
    with pytest.raises(RuntimeError, match="not fitted"):
        ProblemClassifier().predict(["x"])


def test_backoff_puts_keyword_evidence_first(fitted: ProblemClassifier) -> None:
    text = "gepeng terjaring razia satpol pp"
    keyword_codes = fitted.taxonomy_.suggest(text, k=3).codes
    # threshold and keyword_mix act at prediction time: the fitted model is reused as it is
    unsure = copy.copy(fitted).set_params(threshold=1.01)
    assert unsure.rank([text], k=len(keyword_codes))[0] == keyword_codes
    sure = copy.copy(fitted).set_params(threshold=0.0)
    assert fitted.threshold == 0.1  # the copies' settings did not leak back
    proba = sure.predict_proba([text]).iloc[0]
    assert sure.rank([text], k=3)[0] == list(proba.sort_values(ascending=False).index[:3])


def test_suggest_gives_reasons(fitted: ProblemClassifier) -> None:
    result = fitted.suggest("ibu korban KDRT dipukul suami", k=3)
    assert len(result) == 3 and result[0].code == "KTK"
    assert "kdrt" in result[0].matched
    assert [s.score for s in result] == sorted((s.score for s in result), reverse=True)
    assert fitted.suggest("apa saja", k=0) == ()
    assert len(fitted.suggest("", k=2)) == 2  # the model always ranks; scores say how unsure


# --------------------------------------------------------------------- scikit-learn estimator
PARAMS = {"taxonomy", "threshold", "keyword_mix", "use_keywords", "keyword_weight", "C", "seed"}


def small_training_set(data: pd.DataFrame) -> pd.DataFrame:
    """The training statements of four categories: quick to fit many times."""
    train = data[data["split"] == "train"]
    return train[train["code"].isin(["AT", "KTK", "AJ", "FM"])].reset_index(drop=True)


def test_is_a_scikit_learn_classifier_whose_init_only_stores_parameters() -> None:
    clf = ProblemClassifier(threshold=0.3, C=0.5)
    assert isinstance(clf, BaseEstimator) and isinstance(clf, ClassifierMixin)
    assert is_classifier(clf)
    assert set(vars(clf)) == PARAMS  # nothing computed, no taxonomy loaded
    params = clf.get_params()
    assert params == {
        "taxonomy": None,
        "threshold": 0.3,
        "keyword_mix": 0.1,
        "use_keywords": True,
        "keyword_weight": 1.0,
        "C": 0.5,
        "seed": 0,
    }
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    with pytest.raises(NotFittedError, match="not fitted"):
        clf.predict(["x"])


def test_fitted_attributes_end_with_an_underscore(fitted: ProblemClassifier) -> None:
    check_is_fitted(fitted)
    learned = {k for k in vars(fitted) if k not in PARAMS}
    assert learned and all(k.endswith("_") and not k.startswith("_") for k in learned)
    assert {"classes_", "taxonomy_"} <= learned
    assert fitted.taxonomy is None and fitted.taxonomy_ == Taxonomy.ppks()
    assert fitted.classes_ == sorted(Taxonomy.ppks().leaves)


def test_clone_gives_an_unfitted_copy_with_the_same_parameters(
    fitted: ProblemClassifier, data: pd.DataFrame
) -> None:
    tax = Taxonomy.ppks()
    original = ProblemClassifier(tax, threshold=0.2, seed=3)
    copy_ = clone(original)
    assert copy_ is not original and copy_.get_params()["threshold"] == 0.2
    assert copy_.get_params()["seed"] == 3 and copy_.taxonomy == tax
    fresh = clone(fitted)
    assert fresh.get_params() == fitted.get_params()
    with pytest.raises(NotFittedError):
        check_is_fitted(fresh)
    small = small_training_set(data)
    texts = ["anak jalanan di terminal", "ibu dipukul suami"]
    one = clone(fresh).set_params(use_keywords=False).fit(small["text"], small["code"])
    two = clone(one).fit(small["text"], small["code"])
    pd.testing.assert_frame_equal(one.predict_proba(texts), two.predict_proba(texts))
    assert one.classes_ == ["AJ", "AT", "FM", "KTK"]


def test_cross_val_score_runs_the_classifier_in_folds(data: pd.DataFrame) -> None:
    small = small_training_set(data)
    clf = ProblemClassifier(use_keywords=False)
    scores = cross_val_score(clf, small["text"], small["code"], cv=3)
    assert scores.shape == (3,)
    assert 0.6 <= scores.mean() <= 1.0  # four categories: far above chance (0.25)
    assert set(vars(clf)) == PARAMS  # the estimator given was cloned, not fitted
    # the default score is the top-1 accuracy of predict (with the keyword back-off)
    fitted = clone(clf).fit(small["text"].iloc[::2], small["code"].iloc[::2])
    rest_text, rest_code = small["text"].iloc[1::2], small["code"].iloc[1::2]
    expected = np.mean(fitted.predict(rest_text) == rest_code.to_numpy())
    assert fitted.score(rest_text, rest_code) == pytest.approx(expected)


# --------------------------------------------------------------------- evaluation
def test_evaluate_matches_independent_counts(
    fitted: ProblemClassifier, test_split: pd.DataFrame
) -> None:
    ev = fitted.evaluate(test_split["text"], test_split["code"], alt_codes=test_split["alt_code"])
    assert isinstance(ev, SuggestionEvaluation) and ev.n == len(test_split)
    ok = [{c, a} for c, a in zip(test_split["code"], test_split["alt_code"].fillna(""))]
    pred = fitted.predict(test_split["text"])
    assert ev.top1 == pytest.approx(np.mean([p in s for p, s in zip(pred, ok)]))
    ranked = fitted.rank(test_split["text"], k=3)
    assert ev.top3 == pytest.approx(np.mean([bool(set(r) & s) for r, s in zip(ranked, ok)]))
    per = ev.per_category
    assert list(per.columns) == ["code", "label", "n", "n_predicted", "precision", "recall", "f1"]
    assert len(per) == 26 and per["n"].sum() == len(test_split)
    assert per["n_predicted"].sum() == len(test_split)
    correct = (per["precision"] * per["n_predicted"]).fillna(0).sum()
    assert correct == pytest.approx(ev.top1 * ev.n)
    assert "<table" in ev._repr_html_() and "top-1" in ev._repr_html_()


def test_evaluate_suggestions_table(fitted: ProblemClassifier, test_split: pd.DataFrame) -> None:
    table = evaluate_suggestions(
        fitted.taxonomy_,
        texts=test_split["text"],
        codes=test_split["code"],
        alt_codes=test_split["alt_code"],
        k=3,
        classifier=fitted,
    )
    assert table["method"].tolist() == ["keywords", "classifier"]
    assert list(table.columns) == ["method", "n", "top1", "top_k", "no_suggestion", "k"]
    ev = fitted.evaluate(test_split["text"], test_split["code"], alt_codes=test_split["alt_code"])
    row = table.set_index("method").loc["classifier"]
    assert row["top1"] == pytest.approx(ev.top1) and row["top_k"] == pytest.approx(ev.top3)
    with pytest.raises(TaxonomyError, match="'QQ'"):
        evaluate_suggestions(fitted.taxonomy_, texts=["x"], codes=["QQ"])


# --------------------------------------------------------------------- quality gates
def test_classifier_top3_at_least_keyword_top3(
    fitted: ProblemClassifier, test_split: pd.DataFrame
) -> None:
    table = evaluate_suggestions(
        fitted.taxonomy_,
        texts=test_split["text"],
        codes=test_split["code"],
        alt_codes=test_split["alt_code"],
        classifier=fitted,
    ).set_index("method")
    assert table.loc["classifier", "top_k"] >= table.loc["keywords", "top_k"]
    assert table.loc["classifier", "top_k"] >= 0.85


def test_classifier_top1_meets_target(fitted: ProblemClassifier, test_split: pd.DataFrame) -> None:
    # target 80 %; 85.9 % (134 of 156) was measured when the defaults were fixed (chosen by
    # cross-validation on the train split), so a drop below the target is a regression
    ev = fitted.evaluate(test_split["text"], test_split["code"], alt_codes=test_split["alt_code"])
    assert ev.top1 >= 0.80


def test_more_training_statements_were_written_without_copying_test_ones() -> None:
    # the train-only batch must not contain near-copies of test statements (data/make_split.py)
    if not (ROOT / "data" / "make_split.py").is_file():
        pytest.skip("data/make_split.py is not available (installed package)")
    module = load_make_split()
    frame = module.read_master()
    assert module.near_copies(frame) == []
    # and the check finds one: a test statement with a word changed, added as a late statement
    test_row = frame[frame["split"] == "test"].iloc[[0]]
    copy = test_row.assign(statement_id="ps999", text=test_row["text"] + " juga", split="train")
    test_rows = frame[frame["split"] == "test"]
    assert module.near_copies(pd.concat([test_rows, copy], ignore_index=True)) == ["ps999"]
    late = frame["statement_id"].str[2:].astype(int) >= module.TRAIN_ONLY_FROM
    assert late.sum() > 0 and (frame.loc[late, "split"] == "train").all()
