"""Text similarity for investigations: TF-IDF vectors and cosine similarity. Pure, small,
and good enough to find the past outage whose description and root cause read like this
incident."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "since",
        "that",
        "the",
        "their",
        "there",
        "this",
        "to",
        "was",
        "were",
        "which",
        "with",
        "our",
        "we",
        "us",
        "after",
        "before",
        "all",
        "any",
        "not",
        "no",
    ]
)


def tokens(text: str) -> list[str]:
    return [t for t in re.findall(r"[a-z0-9]+", text.lower()) if t not in STOPWORDS and len(t) > 1]


def rank(query: str, documents: Sequence[str]) -> list[float]:
    """Cosine similarity of `query` to each document, TF-IDF weighted over the documents and
    the query together (smoothed idf)."""
    corpus = [Counter(tokens(d)) for d in documents]
    asked = Counter(tokens(query))
    count = len(corpus) + 1
    frequency: Counter[str] = Counter()
    for bag in (*corpus, asked):
        frequency.update(bag.keys())

    def vector(bag: Counter[str]) -> dict[str, float]:
        return {
            term: (1 + math.log(n)) * (math.log((1 + count) / (1 + frequency[term])) + 1)
            for term, n in bag.items()
        }

    query_vector = vector(asked)
    query_norm = math.sqrt(sum(v * v for v in query_vector.values())) or 1.0
    scores = []
    for bag in corpus:
        doc = vector(bag)
        norm = math.sqrt(sum(v * v for v in doc.values())) or 1.0
        dot = sum(weight * doc.get(term, 0.0) for term, weight in query_vector.items())
        scores.append(dot / (norm * query_norm))
    return scores
