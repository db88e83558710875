"""A trained problem classifier, its evaluation, and the bundled problem statements.

:class:`ProblemClassifier` learns leaf categories from labelled problem statements: TF-IDF of
character 2-5-grams (informal spellings expanded) and of stemmed word uni- and bigrams, a linear
SVM with probabilities calibrated by 5-fold cross-validation (an average of five models). When
it is unsure (highest probability under ``threshold``) it backs off to the keyword suggestions of
the taxonomy, which also keep working for statements unlike anything in the training data. The
taxonomy's keywords and labels are added to the training data as short extra examples.

The defaults were chosen by 5-fold cross-validation (3 repeats) on the train split of the bundled
statements, never on the test split: word n-grams next to character n-grams, the keyword
examples and the back-off each measured at least as well as leaving them out; 5 calibration
folds instead of 3 (top-1 0.798 vs 0.781), and a small keyword mix with a lower back-off
threshold (0.808) were kept; logistic regression (0.784), wider character n-grams (0.781),
keyword scores as model features (0.756) and other C values (0.776-0.778) were not.

:func:`evaluate_suggestions` measures keyword suggestions and (optionally) a fitted classifier on
the same statements in one table; :func:`load_problem_statements` returns the bundled statements
with their fixed train/test split.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from pekso_toolkit.categories.suggest import Suggestion, Suggestions, normalise, tokens
from pekso_toolkit.categories.taxonomy import Taxonomy
from pekso_toolkit.core.errors import AnalysisError, PeksoError, TaxonomyError

__all__ = [
    "ClassifierNotFittedError",
    "ProblemClassifier",
    "SuggestionEvaluation",
    "evaluate_suggestions",
]


def _word_features(text: str) -> list[str]:
    """Stems and stem bigrams (module level so that a fitted model can be pickled)."""
    stems = tokens(text)
    return stems + [f"{a} {b}" for a, b in zip(stems, stems[1:])]


def _as_texts(texts: Any) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("texts must be a list or Series of statements, not one string")
    return ["" if not isinstance(t, str) else t for t in list(texts)]


def _check_leaf_codes(codes: list[Any], taxonomy: Taxonomy) -> None:
    """Raise a TaxonomyError naming the first code that is missing or not a leaf."""
    leaves = set(taxonomy.leaves)
    for row, code in enumerate(codes):
        if not isinstance(code, str) or code not in leaves:
            if isinstance(code, str) and code not in taxonomy:
                taxonomy.category(code)  # raises, naming close matches
            raise TaxonomyError(
                f"baris {row}: kode {code!r} bukan kategori terbawah di '{taxonomy.name}'; "
                "latih dengan kode kategori terbawah",
                f"row {row}: code {code!r} is not a leaf of '{taxonomy.name}'; train on leaf codes",
                field="codes",
                row=row,
            )


class ClassifierNotFittedError(PeksoError, NotFittedError, RuntimeError):
    """A :class:`ProblemClassifier` was asked to predict before :meth:`~ProblemClassifier.fit`.

    scikit-learn's ``NotFittedError`` (and, as before, a ``RuntimeError``)."""


class ProblemClassifier(ClassifierMixin, BaseEstimator):
    """Suggest leaf categories from problem statements with a trained linear model.

    A scikit-learn classifier: ``__init__`` only stores the parameters, :meth:`fit` learns and
    returns the classifier, and the learned attributes end with an underscore. It can be cloned
    (``sklearn.base.clone``), tuned with ``set_params`` and scored in folds
    (``sklearn.model_selection.cross_val_score``; the default score is the top-1 accuracy of
    :meth:`predict`).

    Parameters
    ----------
    taxonomy : Taxonomy, optional
        Categories to learn (None, the default: :meth:`Taxonomy.ppks`, chosen when fitting). Its
        keywords serve as back-off and as extra training examples.
    threshold : float
        When the highest class probability is below this, categories with keyword evidence come
        first (back-off to the keyword suggestions).
    keyword_mix : float
        Otherwise categories are ranked by probability + ``keyword_mix`` x keyword score relative
        to the best-matching category (0..1).
    use_keywords : bool
        Add each leaf's labels and keywords to the training data (weight ``keyword_weight``).
    keyword_weight : float
        Sample weight of those extra examples (a real statement weighs 1).
    C : float
        Inverse regularisation strength of the linear SVM.
    seed : int
        Seed of the solver; the fit is deterministic for a given seed and data.

    Attributes
    ----------
    taxonomy_ : Taxonomy
        The taxonomy the classifier was fitted with.
    classes_ : list of str
        Leaf codes the model knows, in the column order of :meth:`predict_proba`.
    features_ : sklearn.pipeline.FeatureUnion
        The fitted TF-IDF features (character and word n-grams).
    model_ : sklearn.calibration.CalibratedClassifierCV
        The fitted, calibrated linear SVM.

    Examples
    --------
    >>> data = load_problem_statements()
    >>> train = data[data["split"] == "train"]
    >>> clf = ProblemClassifier().fit(train["text"], train["code"])
    >>> clf.predict(["anak jalanan suka ngelem di terminal"])[0]
    'AJ'
    """

    def __init__(
        self,
        taxonomy: Taxonomy | None = None,
        *,
        threshold: float = 0.1,
        keyword_mix: float = 0.1,
        use_keywords: bool = True,
        keyword_weight: float = 1.0,
        C: float = 1.0,
        seed: int = 0,
    ) -> None:
        self.taxonomy = taxonomy
        self.threshold = threshold
        self.keyword_mix = keyword_mix
        self.use_keywords = use_keywords
        self.keyword_weight = keyword_weight
        self.C = C
        self.seed = seed

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        name = "ppks" if self.taxonomy is None else self.taxonomy.name
        state = "fitted" if hasattr(self, "model_") else "not fitted"
        return (
            f"ProblemClassifier(taxonomy={name!r}, threshold={self.threshold}, "
            f"C={self.C}, seed={self.seed}; {state})"
        )

    def __sklearn_tags__(self) -> Any:
        """scikit-learn >= 1.6: the input is a list of texts, not a 2-D array."""
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    # ----------------------------------------------------------------- training
    def fit(
        self, texts: Sequence[str] | pd.Series, codes: Sequence[str] | pd.Series
    ) -> ProblemClassifier:
        """Learn from statements and their leaf codes; returns ``self``.

        Parameters
        ----------
        texts : sequence of str
            The problem statements (scikit-learn's ``X``).
        codes : sequence of str
            Their leaf codes (scikit-learn's ``y``).

        Returns
        -------
        ProblemClassifier
            ``self``, fitted: ``taxonomy_``, ``classes_``, ``features_`` and ``model_`` are set.

        Raises
        ------
        TaxonomyError
            When a code is missing or not a leaf of the taxonomy (naming it and its row).
        AnalysisError
            (a ``ValueError``) When ``texts`` and ``codes`` differ in length, or the codes name
            fewer than two categories.
        """
        taxonomy = self.taxonomy if self.taxonomy is not None else Taxonomy.ppks()
        x = _as_texts(texts)
        y = list(codes)
        if len(x) != len(y):
            raise AnalysisError(
                f"{len(x)} teks tetapi {len(y)} kode; beri satu kode untuk setiap teks",
                f"{len(x)} texts but {len(y)} codes; give one code per text",
                field="codes",
            )
        _check_leaf_codes(y, taxonomy)
        weights = [1.0] * len(x)
        if self.use_keywords:
            for code in taxonomy.leaves:
                cat = taxonomy.category(code)
                extra = [cat.label_id, cat.label_en] + [kw.text for kw in cat.keywords]
                x += extra
                y += [code] * len(extra)
                weights += [self.keyword_weight] * len(extra)
        if len(set(y)) < 2:
            raise AnalysisError(
                "pelatihan memerlukan pernyataan dari paling sedikit dua kategori",
                "training needs statements of at least two categories",
                field="codes",
            )
        features = self._make_features()
        matrix = features.fit_transform(x)
        model = self._make_model()
        model.fit(matrix, y, sample_weight=np.asarray(weights))
        self.taxonomy_ = taxonomy
        self.features_ = features
        self.model_ = model
        self.classes_ = [str(c) for c in model.classes_]
        return self

    def _make_features(self) -> FeatureUnion:
        chars = TfidfVectorizer(
            analyzer="char_wb", preprocessor=normalise, ngram_range=(2, 5), sublinear_tf=True
        )
        words = TfidfVectorizer(analyzer=_word_features, sublinear_tf=True)
        return FeatureUnion([("chars", chars), ("words", words)])

    def _make_model(self) -> CalibratedClassifierCV:
        svm = LinearSVC(C=self.C, random_state=self.seed)
        return CalibratedClassifierCV(svm, cv=5, method="sigmoid")

    def _fitted(self) -> tuple[FeatureUnion, CalibratedClassifierCV]:
        if not hasattr(self, "model_"):
            raise ClassifierNotFittedError(
                "ProblemClassifier belum dilatih (not fitted): panggil dulu fit(texts, codes)",
                "ProblemClassifier is not fitted yet: call fit(texts, codes) first",
            )
        return self.features_, self.model_

    # ----------------------------------------------------------------- prediction
    def predict_proba(self, texts: Sequence[str] | pd.Series) -> pd.DataFrame:
        """Class probabilities of the model alone (no back-off).

        Returns
        -------
        DataFrame
            One row per text (same index as a Series input, else 0..n-1), one float column per
            leaf code (:attr:`classes_`); rows sum to 1.
        """
        features, model = self._fitted()
        x = _as_texts(texts)
        index = texts.index if isinstance(texts, pd.Series) else pd.RangeIndex(len(x))
        if not x:
            return pd.DataFrame(np.empty((0, len(self.classes_))), columns=self.classes_)
        proba = model.predict_proba(features.transform(x))
        return pd.DataFrame(proba, index=index, columns=self.classes_)

    def _ranked(self, text: str, proba: np.ndarray, k: int) -> list[tuple[str, float]]:
        classes = self.classes_
        hits = self.taxonomy_._matcher.scores(text)
        best = max((score for score, _ in hits.values()), default=0.0)
        keyword = np.array([hits[c][0] / best if c in hits else 0.0 for c in classes])
        combined = proba + self.keyword_mix * keyword
        if best > 0 and proba.max() < self.threshold:
            # unsure model: categories with keyword evidence first, strongest evidence first
            order = np.lexsort((-combined, -keyword))
        else:
            order = np.argsort(-combined, kind="stable")
        return [(classes[i], float(combined[i])) for i in order[:k]]

    def predict(self, texts: Sequence[str] | pd.Series) -> np.ndarray:
        """The best leaf code per text (keyword back-off when the model is unsure).

        Returns
        -------
        ndarray of str (object dtype), one code per text.
        """
        x = _as_texts(texts)
        proba = self.predict_proba(x).to_numpy()
        return np.array([self._ranked(t, p, 1)[0][0] for t, p in zip(x, proba)], dtype=object)

    def suggest(self, text: str, *, k: int = 3) -> Suggestions:
        """Up to ``k`` ranked suggestions for one statement.

        ``score`` is the ranking score: the model's probability plus ``keyword_mix`` times the
        keyword score relative to the best keyword match; ``matched`` lists the category's
        keywords found in the text (empty when the suggestion rests on the model alone).
        """
        if k < 1:
            return Suggestions()
        proba = self.predict_proba([text]).to_numpy()[0]
        keyword_hits = self.taxonomy_._matcher.scores(text)
        out = []
        for code, score in self._ranked(text, proba, k):
            cat = self.taxonomy_.category(code)
            matched = keyword_hits.get(code, (0.0, ()))[1]
            out.append(Suggestion(code, cat.label_id, cat.label_en, round(score, 6), matched))
        return Suggestions(out)

    def rank(self, texts: Sequence[str] | pd.Series, *, k: int = 3) -> list[list[str]]:
        """The top ``k`` codes per text (as :meth:`suggest`, codes only)."""
        x = _as_texts(texts)
        proba = self.predict_proba(x).to_numpy()
        return [[c for c, _ in self._ranked(t, p, k)] for t, p in zip(x, proba)]

    # ----------------------------------------------------------------- evaluation
    def evaluate(
        self,
        texts: Sequence[str] | pd.Series,
        codes: Sequence[str] | pd.Series,
        *,
        alt_codes: Sequence[Any] | pd.Series | None = None,
    ) -> SuggestionEvaluation:
        """Top-1 / top-3 accuracy and per-category precision and recall on labelled statements.

        A statement counts as a hit when its ``code`` or its ``alt_code`` (a second acceptable
        code, may be missing) is among the first suggestions. See :class:`SuggestionEvaluation`.
        """
        return _evaluate(self.rank(texts, k=3), codes, alt_codes, self.taxonomy_, "classifier")


# --------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class SuggestionEvaluation:
    """How well ranked suggestions match labelled statements.

    Attributes
    ----------
    method : str
        ``"keywords"`` or ``"classifier"``.
    n : int
        Statements evaluated.
    top1, top3 : float
        Share of statements whose code or alt_code is the first suggestion / among the first
        three.
    no_suggestion : float
        Share of statements that got no suggestion at all.
    per_category : DataFrame
        One row per leaf code: ``code``, ``label``, ``n`` (statements with this code),
        ``n_predicted`` (statements whose first suggestion is this code), ``precision``,
        ``recall``, ``f1`` (of the first suggestion; NaN where undefined). A first suggestion equal
        to the statement's alt_code counts as correct and is credited to that code.
    """

    method: str
    n: int
    top1: float
    top3: float
    no_suggestion: float
    per_category: pd.DataFrame

    def __repr__(self) -> str:
        return (
            f"SuggestionEvaluation(method={self.method!r}, n={self.n}, top1={self.top1:.3f}, "
            f"top3={self.top3:.3f}, no_suggestion={self.no_suggestion:.3f})"
        )

    def _repr_html_(self) -> str:
        head = (
            f"<p><strong>{html.escape(self.method)}</strong>: n = {self.n}, top-1 = "
            f"{self.top1:.1%}, top-3 = {self.top3:.1%}, tanpa saran / no suggestion = "
            f"{self.no_suggestion:.1%}</p>"
        )
        return head + self.per_category.to_html(index=False, float_format=lambda v: f"{v:.2f}")


def _alt_list(alt_codes: Any, n: int) -> list[str | None]:
    if alt_codes is None:
        return [None] * n
    alts = list(alt_codes)
    if len(alts) != n:
        raise ValueError(f"{n} codes but {len(alts)} alt_codes; give one (or a missing value) each")
    return [a if isinstance(a, str) and a else None for a in alts]


def _evaluate(
    ranked: list[list[str]],
    codes: Any,
    alt_codes: Any,
    taxonomy: Taxonomy,
    method: str,
) -> SuggestionEvaluation:
    truth = [str(c) for c in list(codes)]
    if len(truth) != len(ranked):
        raise ValueError(f"{len(ranked)} texts but {len(truth)} codes; give one code per text")
    alts = _alt_list(alt_codes, len(truth))
    taxonomy.rollup(
        truth + [a for a in alts if a is not None], level=taxonomy.depth
    )  # unknown codes
    n = len(truth)
    hit1 = [bool(r) and r[0] in (t, a) for r, t, a in zip(ranked, truth, alts)]
    hit3 = [any(c in (t, a) for c in r[:3]) for r, t, a in zip(ranked, truth, alts)]
    first = [r[0] if r else None for r in ranked]
    credited = [f if h else t for f, h, t in zip(first, hit1, truth)]
    rows = []
    for code in taxonomy.leaves:
        support = sum(c == code for c in credited)
        predicted = sum(f == code for f in first)
        correct = sum(f == code and h for f, h in zip(first, hit1))
        precision = correct / predicted if predicted else np.nan
        recall = correct / support if support else np.nan
        f1 = (
            2 * precision * recall / (precision + recall)
            if predicted and support and (precision + recall) > 0
            else np.nan
        )
        rows.append(
            {
                "code": code,
                "label": taxonomy.label(code),
                "n": sum(t == code for t in truth),
                "n_predicted": predicted,
                "precision": precision,
                "recall": recall,
                "f1": f1,
            }
        )
    per_category = pd.DataFrame(rows).astype(
        {"code": "string", "label": "string", "n": "int64", "n_predicted": "int64"}
    )
    return SuggestionEvaluation(
        method=method,
        n=n,
        top1=float(np.mean(hit1)) if n else float("nan"),
        top3=float(np.mean(hit3)) if n else float("nan"),
        no_suggestion=float(np.mean([not r for r in ranked])) if n else float("nan"),
        per_category=per_category,
    )


def evaluate_suggestions(
    taxonomy: Taxonomy,
    *,
    texts: Sequence[str] | pd.Series,
    codes: Sequence[str] | pd.Series,
    alt_codes: Sequence[Any] | pd.Series | None = None,
    k: int = 3,
    classifier: ProblemClassifier | None = None,
) -> pd.DataFrame:
    """Compare keyword suggestions (and a fitted classifier) on labelled statements.

    Parameters
    ----------
    taxonomy : Taxonomy
        Its keywords give the keyword suggestions.
    texts, codes : sequences
        Statements and their leaf codes.
    alt_codes : sequence, optional
        A second acceptable code per statement (missing where none).
    k : int
        Suggestions counted for ``top_k``.
    classifier : ProblemClassifier, optional
        A fitted classifier to evaluate on the same statements.

    Returns
    -------
    DataFrame
        One row per method (``"keywords"``, then ``"classifier"`` if given): ``method``, ``n``,
        ``top1`` and ``top_k`` (shares 0..1 of statements whose code or alt_code is first / among
        the first ``k``), ``no_suggestion`` (share without any suggestion), ``k``.
    """
    x = _as_texts(texts)
    results: list[tuple[str, list[list[str]]]] = [
        ("keywords", [taxonomy.suggest(t, k=k).codes for t in x])
    ]
    if classifier is not None:
        results.append(("classifier", classifier.rank(x, k=k)))
    rows = []
    alts = _alt_list(alt_codes, len(x))
    for method, ranked in results:
        ev = _evaluate(ranked, codes, alt_codes, taxonomy, method)
        top_k = np.mean(
            [any(c in (t, a) for c in r[:k]) for r, t, a in zip(ranked, list(codes), alts)]
        )
        rows.append(
            {
                "method": method,
                "n": ev.n,
                "top1": ev.top1,
                "top_k": float(top_k) if ev.n else float("nan"),
                "no_suggestion": ev.no_suggestion,
                "k": k,
            }
        )
    return pd.DataFrame(rows).astype({"method": "string", "n": "int64", "k": "int64"})


# --------------------------------------------------------------------- bundled data
