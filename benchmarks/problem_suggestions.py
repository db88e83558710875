"""Print the quality and speed of problem-category suggestions on the bundled statements.

Run from the repository root: ``python benchmarks/problem_suggestions.py``. Figures:

* top-1 / top-3 on the test split for keyword suggestions and for the classifier (trained on the
  train split only), the same for the train split (keywords were written from the domain and the
  train split, so train figures are optimistic);
* latency of ``Taxonomy.suggest`` per call (median and 95th percentile after warm-up, over the
  statements of the test split, each timed separately), the first call (stemmer loaded and
  keywords stemmed), and a 100,000-character text;
* classifier fit and prediction time.
"""

from __future__ import annotations

import statistics
import time

from pekso_toolkit.categories.classifier import (
    ProblemClassifier,
    evaluate_suggestions,
    load_problem_statements,
)
from pekso_toolkit.categories.taxonomy import Taxonomy


def main() -> None:
    data = load_problem_statements()
    train = data[data["split"] == "train"]
    test = data[data["split"] == "test"]

    start = time.perf_counter()
    taxonomy = Taxonomy.ppks()
    taxonomy.suggest("anak terlantar")
    first_call = time.perf_counter() - start

    start = time.perf_counter()
    classifier = ProblemClassifier(taxonomy).fit(train["text"], train["code"])
    fit_seconds = time.perf_counter() - start

    for name, part in (("test", test), ("train", train)):
        table = evaluate_suggestions(
            taxonomy,
            texts=part["text"],
            codes=part["code"],
            alt_codes=part["alt_code"],
            k=3,
            classifier=classifier,
        )
        print(f"{name} split (n={len(part)}):")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))

    texts = list(test["text"])
    for text in texts:  # warm-up: every word of the test statements is stemmed once
        taxonomy.suggest(text)
    timings = []
    for _ in range(5):
        for text in texts:
            t0 = time.perf_counter()
            taxonomy.suggest(text)
            timings.append(time.perf_counter() - t0)
    timings.sort()
    median_ms = statistics.median(timings) * 1000
    p95_ms = timings[int(0.95 * len(timings))] * 1000
    print(f"\nTaxonomy.ppks() + first suggest: {first_call:.2f} s")
    print(f"suggest latency after warm-up: median {median_ms:.2f} ms, p95 {p95_ms:.2f} ms")
    long_text = (" ".join(texts) + " ") * 10
    long_text = long_text[:100_000]
    t0 = time.perf_counter()
    taxonomy.suggest(long_text)
    print(f"suggest on a 100,000-character text: {time.perf_counter() - t0:.2f} s")

    t0 = time.perf_counter()
    classifier.rank(texts, k=3)
    per_text = (time.perf_counter() - t0) / len(texts) * 1000
    print(f"classifier fit: {fit_seconds:.2f} s; rank: {per_text:.2f} ms per statement")


if __name__ == "__main__":
    main()
