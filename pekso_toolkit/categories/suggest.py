"""Keyword suggestions: which categories does a problem statement point to, and why.

Text is reduced to comparable word stems in the same way for statements and keywords:

1. Unicode NFKC and lower case; words are runs of letters and digits (any script), so emoji and
   punctuation only separate words; pure numbers are dropped; ``anak2`` and ``anak-anak`` become
   ``anak``.
2. Informal spellings are expanded (``ortu`` -> ``orang tua``, ``gk`` -> ``tidak``) and filler
   words dropped, from ``pekso_toolkit/data/informal_id.yaml``.
3. Latin words are stemmed with PySastrawi (``dipukuli`` -> ``pukul``); words the Indonesian
   stemmer leaves alone and does not know are tried as informal verb forms (``mukul``,
   ``dipukulin`` -> ``pukul``; accepted only when the root is in Sastrawi's dictionary), else
   get a light English suffix rule (``victims`` -> ``victim``, ``begging`` -> ``beg``). Stems
   are memoised per word, so a word is stemmed once per process.

A keyword matches when all its stems occur within a short window of the statement (any order).
Its weight is 1 for a word, 2 for two words, 3 for longer phrases, times an optional weight from
the keyword list, divided by the number of categories that list the same keyword. A word of a
phrase found without the rest of the phrase counts half its share of the phrase weight, unless
the word is listed for more than five categories or is an everyday word (``hari``, ``rumah``).
Category labels count as keywords too. A category's score is the sum over its matched keywords
and words. No match, no suggestion.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import pandas as pd
import yaml

from pekso_toolkit.core.i18n import pick

__all__ = ["KeywordMatcher", "Suggestion", "Suggestions", "normalise", "tokens"]

_WORD = re.compile(r"[^\W_]+")
_REDUPLICATED = re.compile(r"^([a-z]{2,})2$")
_LATIN = re.compile(r"^[a-z]+$")
_WINDOW_SLACK = 1  # extra words allowed between the words of a phrase


# --------------------------------------------------------------------- text normalisation
@dataclass(frozen=True)
class _LanguageData:
    spellings: dict[str, tuple[str, ...]]
    aliases: dict[str, str]
    unstemmed: frozenset[str]
    common: frozenset[str]
    stopwords: frozenset[str]


@lru_cache(maxsize=1)
def _language_data() -> _LanguageData:
    raw = yaml.safe_load(
        (resources.files("pekso_toolkit") / "data" / "informal_id.yaml").read_text("utf-8")
    )
    return _LanguageData(
        spellings={
            str(k).casefold(): tuple(str(v).casefold().split()) for k, v in raw["spellings"].items()
        },
        aliases={str(k): str(v) for k, v in (raw.get("stem_aliases") or {}).items()},
        unstemmed=frozenset(str(w).casefold() for w in raw.get("unstemmed") or ()),
        common=frozenset(str(w).casefold() for w in raw.get("common_words") or ()),
        stopwords=frozenset(str(w).casefold() for w in raw["stopwords"]),
    )


@lru_cache(maxsize=1)
def _sastrawi() -> tuple[Any, Any]:
    """The Sastrawi stemmer (without its own cache: :func:`_stem` memoises) and its dictionary."""
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    stemmer = StemmerFactory().create_stemmer().delegatedStemmer
    return stemmer, stemmer.get_dictionary()


def _english_stem(word: str) -> str:
    if len(word) < 5:
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]
            return base
    if word.endswith("es") and (word[-3] in "sxz" or word[-4:-2] in ("ch", "sh")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


# informal (Jakarta-style) verb forms: nasal prefix without me-, suffix -in for -kan/-i
_NASAL = (("nge", ("",)), ("ng", ("", "k")), ("ny", ("c", "s")), ("m", ("p",)), ("n", ("t",)))


def _informal_stem(word: str, stemmer: Any, dictionary: Any) -> str | None:
    """Root of an informal verb form (mukul -> pukul, dipukulin -> pukul), if it is a known word."""
    candidates: list[str] = []
    if word.endswith("in") and len(word) > 5:
        candidates.append(word[:-2])
    for prefix, replacements in _NASAL:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            rest = word[len(prefix) :]
            candidates += [r + rest for r in replacements]
    for candidate in candidates:
        if dictionary.contains(candidate):
            return candidate
        stem = stemmer.stem_word(candidate)
        if stem != candidate and dictionary.contains(stem):
            return str(stem)
    return None


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    """Stem of one lower-case word (memoised: stemming is the slow step)."""
    data = _language_data()
    aliases = data.aliases
    if word in data.unstemmed or not _LATIN.match(word):
        return aliases.get(word, word)
    stemmer, dictionary = _sastrawi()
    stem = stemmer.stem_word(word) if len(word) > 3 else word
    if stem == word and not dictionary.contains(word):
        stem = _informal_stem(word, stemmer, dictionary) or _english_stem(word)
    return aliases.get(stem, stem)


def normalise(text: str) -> str:
    """Lower-case words of ``text`` with informal spellings expanded (no stemming, no filler
    words dropped): ``"Ortu gk peduli!"`` -> ``"orang tua tidak peduli"``."""
    if not isinstance(text, str):
        return ""
    spellings = _language_data().spellings
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    return " ".join(" ".join(spellings.get(w, (w,))) for w in words)


def tokens(text: str) -> list[str]:
    """Word stems of ``text`` used for matching (see the module docstring).

    Parameters
    ----------
    text : str
        Any text; non-strings and missing values give an empty list.

    Returns
    -------
    list of str
        Stems in text order, filler words dropped. A reduplicated word (``minta-minta``,
        ``minta2``, ``meminta-minta``) gives its stem followed by the stem marked ``~2``, so it
        matches both ``minta`` and the keyword ``minta minta``.

    Examples
    --------
    >>> tokens("Anak-anaknya dipukuli ortu")
    ['anak', 'anak~2', 'pukul', 'orang', 'tua']
    """
    if not isinstance(text, str) or not text:
        return []
    data = _language_data()
    out: list[str] = []
    for raw in _WORD.findall(unicodedata.normalize("NFKC", text).casefold()):
        if raw.isdigit():
            continue
        words = data.spellings.get(raw, (raw,))
        match = _REDUPLICATED.match(raw)
        if match:
            words = (match.group(1), match.group(1))
        for word in words:
            if word in data.stopwords:
                continue
            stem = _stem(word)
            if stem in data.stopwords:
                continue
            if out and out[-1] in (stem, stem + "~2"):
                if out[-1] == stem:
                    out.append(stem + "~2")
                continue
            out.append(stem)
    return out


# --------------------------------------------------------------------- results
@dataclass(frozen=True)
class Suggestion:
    """One suggested category.

    Attributes
    ----------
    code : str
        Category code.
    label_id, label_en : str
        Category label in Bahasa Indonesia and English.
    score : float
        Evidence for the category: a sum of keyword weights for keyword suggestions, a
        probability (0..1) for a trained classifier. Only comparable within one result.
    matched : tuple of str
        Keywords found in the text (as written in the keyword list), strongest first.
    """

    code: str
    label_id: str
    label_en: str
    score: float
    matched: tuple[str, ...] = ()

    def label(self, lang: str | None = None) -> str:
        """The label in ``lang`` (default: the current language)."""
        return pick(self.label_id, self.label_en, lang)


class Suggestions(tuple[Suggestion, ...]):
    """Ranked suggestions, best first (a tuple of :class:`Suggestion`); empty when no evidence."""

    __slots__ = ()

    @property
    def codes(self) -> list[str]:
        """The suggested codes, best first."""
        return [s.code for s in self]

    def to_frame(self, lang: str | None = None) -> pd.DataFrame:
        """One row per suggestion.

        Returns
        -------
        DataFrame
            ``rank`` (1 = best), ``code``, ``label`` (in ``lang``), ``score`` (see
            :attr:`Suggestion.score`), ``matched`` (keywords joined by ``", "``).
        """
        return pd.DataFrame(
            {
                "rank": pd.Series(range(1, len(self) + 1), dtype="int64"),
                "code": pd.Series([s.code for s in self], dtype="string"),
                "label": pd.Series([s.label(lang) for s in self], dtype="string"),
                "score": pd.Series([s.score for s in self], dtype="float64"),
                "matched": pd.Series([", ".join(s.matched) for s in self], dtype="string"),
            }
        )

    def __repr__(self) -> str:
        inner = ", ".join(f"{s.code} ({s.score:.2f})" for s in self)
        return f"Suggestions([{inner}])"

    def _repr_html_(self) -> str:
        if not self:
            return "<p><em>Tidak ada saran / no suggestion (no keyword found)</em></p>"
        rows = "".join(
            f"<tr><td>{i}</td><td><code>{html.escape(s.code)}</code></td>"
            f"<td>{html.escape(s.label())}</td><td>{s.score:.2f}</td>"
            f"<td>{html.escape(', '.join(s.matched))}</td></tr>"
            for i, s in enumerate(self, start=1)
        )
        return (
            "<table><thead><tr><th>#</th><th>kode / code</th><th>kategori / category</th>"
            "<th>skor / score</th><th>kata yang cocok / matched</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )


# --------------------------------------------------------------------- matching
@dataclass(frozen=True)
class _Entry:
    stems: tuple[str, ...]  # distinct stems of the keyword
    length: int  # stems in the phrase, repeats collapsed
    hits: tuple[tuple[str, str, float], ...]  # (category code, keyword text, weight)


def _base_weight(n_words: int) -> float:
    return 1.0 if n_words <= 1 else (2.0 if n_words == 2 else 3.0)


def _min_window(positions: Sequence[Sequence[int]]) -> int:
    """Length of the shortest stretch of text holding one position from every list."""
    merged = sorted((p, i) for i, plist in enumerate(positions) for p in plist)
    need = len(positions)
    counts = [0] * need
    covered = 0
    best = len(merged) + 10**9
    left = 0
    for right in range(len(merged)):
        idx = merged[right][1]
        counts[idx] += 1
        if counts[idx] == 1:
            covered += 1
        while covered == need:
            best = min(best, merged[right][0] - merged[left][0] + 1)
            lidx = merged[left][1]
            counts[lidx] -= 1
            if counts[lidx] == 0:
                covered -= 1
            left += 1
    return best


class KeywordMatcher:
    """Scores categories by the keywords their lists share with a text.

    Built once per taxonomy (``Taxonomy.suggest`` caches it); keyword stems are computed at
    construction. Scoring (see also the module docstring):

    * a keyword whose words all occur close together counts its full weight;
    * a word of a phrase found without the rest of the phrase counts ``partial_weight`` times
      its share of the phrase weight (once per word and category), unless the word occurs in the
      lists of more than ``max_partial_categories`` categories or is an everyday word
      (``common_words`` in ``informal_id.yaml``): such words say too little alone;
    * each weight is divided by the number of categories listing the same keyword or word.

    Parameters
    ----------
    categories : iterable of Category
        Categories to suggest from, in tie-break order; each with ``keywords``.
    use_labels : bool
        Treat each category's two labels as keywords too (so a tree without keyword lists still
        gets suggestions from its labels).
    partial_weight : float
        Weight of a phrase word found on its own, relative to its share of the phrase weight.
    max_partial_categories : int
        Phrase words listed for more categories than this give no credit on their own.
    """

    def __init__(
        self,
        categories: Iterable[Any],
        *,
        use_labels: bool = True,
        partial_weight: float = 0.5,
        max_partial_categories: int = 5,
    ) -> None:
        self._labels: dict[str, tuple[str, str]] = {}
        self._order: dict[str, int] = {}
        grouped: dict[tuple[str, ...], list[tuple[str, str, float, int]]] = {}
        # stem -> code -> (credit before sharing, source word, phrase)
        partial: dict[str, dict[str, tuple[float, str, str]]] = {}
        listed: dict[str, set[str]] = {}  # stem -> categories whose lists contain it
        for cat in categories:
            self._labels[cat.code] = (cat.label_id, cat.label_en)
            self._order[cat.code] = len(self._order)
            entries = [(kw.text, kw.weight) for kw in cat.keywords]
            if use_labels:
                entries += [(cat.label_id, 1.0), (cat.label_en, 1.0)]
            for text, kw_weight in entries:
                stems = tuple(tokens(text))
                if not stems:
                    continue
                weight = kw_weight * _base_weight(len(stems))
                key = tuple(sorted(set(stems)))  # word order does not matter when matching
                grouped.setdefault(key, []).append((cat.code, text, weight, len(stems)))
                for stem in key:
                    listed.setdefault(stem, set()).add(cat.code)
                if len(key) < 2:
                    continue
                sources = {st: word for word in text.split() for st in tokens(word)}
                for stem in key:
                    credit = weight / len(key)
                    best = partial.setdefault(stem, {}).get(cat.code)
                    if best is None or credit > best[0]:
                        partial[stem][cat.code] = (credit, sources.get(stem, stem), text)
        self._entries: list[_Entry] = []
        self._by_stem: dict[str, list[int]] = {}
        for stems, hits in grouped.items():
            # forms of one word listed twice for a category (dianiaya, penganiayaan) count once
            best_hit: dict[str, tuple[str, float]] = {}
            for code, text, weight, _ in hits:
                if code not in best_hit or weight > best_hit[code][1]:
                    best_hit[code] = (text, weight)
            entry = _Entry(
                stems=stems,
                length=max(n for *_, n in hits),
                hits=tuple((code, text, w / len(best_hit)) for code, (text, w) in best_hit.items()),
            )
            for stem in entry.stems:
                self._by_stem.setdefault(stem, []).append(len(self._entries))
            self._entries.append(entry)
        self._partial: dict[str, dict[str, tuple[float, str]]] = {}
        common = _language_data().common
        for stem, by_code in partial.items():
            n_listed = len(listed[stem])
            if n_listed > max_partial_categories or partial_weight <= 0 or stem in common:
                continue
            self._partial[stem] = {
                code: (partial_weight * credit / n_listed, f"{word} ({phrase})")
                for code, (credit, word, phrase) in by_code.items()
            }

    @property
    def codes(self) -> list[str]:
        """Codes that can be suggested, in tie-break order."""
        return list(self._order)

    def scores(self, text: str) -> dict[str, tuple[float, tuple[str, ...]]]:
        """Score and matched keywords per category with any evidence (others are absent).

        Matched keywords are listed as written, strongest first; a phrase word found on its own
        is shown with its phrase in brackets, e.g. ``"sekolah (putus sekolah)"``.
        """
        stems = tokens(text)
        if not stems:
            return {}
        positions: dict[str, list[int]] = {}
        for i, stem in enumerate(stems):
            positions.setdefault(stem, []).append(i)
        candidates = sorted({e for stem in positions for e in self._by_stem.get(stem, ())})
        found: dict[str, list[tuple[float, str]]] = {}
        covered: dict[str, set[str]] = {}  # stems already counted in a full match, per code
        for index in candidates:
            entry = self._entries[index]
            if any(stem not in positions for stem in entry.stems):
                continue
            if len(entry.stems) > 1:
                window = _min_window([positions[s] for s in entry.stems])
                if window > entry.length + _WINDOW_SLACK:
                    continue
            for code, kw_text, weight in entry.hits:
                found.setdefault(code, []).append((weight, kw_text))
                covered.setdefault(code, set()).update(entry.stems)
        partial_hits: dict[str, list[tuple[float, str]]] = {}
        for stem in positions:
            for code, (credit, shown) in self._partial.get(stem, {}).items():
                if stem not in covered.get(code, ()):
                    partial_hits.setdefault(code, []).append((credit, shown))
        out: dict[str, tuple[float, tuple[str, ...]]] = {}
        for code in {*found, *partial_hits}:
            full = sorted(found.get(code, []), key=lambda h: -h[0])
            part = sorted(partial_hits.get(code, []), key=lambda h: -h[0])
            matched = tuple(dict.fromkeys(t for _, t in full + part))
            out[code] = (round(sum(w for w, _ in full + part), 6), matched)
        return out

    def suggest(self, text: str, k: int = 3, *, min_score: float = 0.0) -> Suggestions:
        """Up to ``k`` categories with the highest scores (see :meth:`Taxonomy.suggest`)."""
        if k < 1:
            return Suggestions()
        scored = [(code, s, m) for code, (s, m) in self.scores(text).items() if s > min_score]
        scored.sort(key=lambda item: (-item[1], self._order[item[0]]))
        return Suggestions(
            Suggestion(code, *self._labels[code], score=score, matched=matched)
            for code, score, matched in scored[:k]
        )
