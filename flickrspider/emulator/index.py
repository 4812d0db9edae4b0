"""Inverted indexes: word -> sorted rows (text search) and tag -> sorted rows (tag search).

Rows are in upload order, so every posting list is sorted by upload time and an
upload window is one ``searchsorted`` away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flickrspider.emulator.generate import PhotoTable, filler_vocabulary
from flickrspider.emulator.words import normalize_tag, tokens

EMPTY = np.zeros(0, dtype=np.int32)


@dataclass
class Index:
    """Postings for free-text words (title, description, tags) and for tags."""

    fillers: list[str]
    text: dict[str, np.ndarray]
    tags: dict[str, np.ndarray]

    def words(self, word: str) -> np.ndarray:
        return self.text.get(word, EMPTY)

    def tagged(self, tag: str) -> np.ndarray:
        return self.tags.get(tag, EMPTY)


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values, by one sort (faster than np.unique's hashing here)."""
    values = np.sort(values)
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep].astype(np.int32)


def _column_postings(words: list[str], tok: np.ndarray) -> dict[str, np.ndarray]:
    """(rows, columns) word ids -> {word: sorted distinct rows}; one stable radix sort."""
    width = tok.shape[1]
    order = np.argsort(tok.ravel(), kind="stable")  # keeps rows ascending within a word
    tok_sorted, rows = tok.ravel()[order], (order // width).astype(np.int32)
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = (tok_sorted[1:] != tok_sorted[:-1]) | (rows[1:] != rows[:-1])
    keep &= tok_sorted >= 0
    tok_sorted, rows = tok_sorted[keep], rows[keep]
    bounds = np.flatnonzero(np.diff(tok_sorted)) + 1
    starts = np.concatenate([[0], bounds]).astype(np.int64)
    ends = np.concatenate([bounds, [len(rows)]]).astype(np.int64)
    return {
        words[int(tok_sorted[s])]: rows[s:e] for s, e in zip(starts, ends, strict=True) if e > s
    }


def build_index(table: PhotoTable) -> Index:
    """Both indexes for ``table``; keyword words always match, fillers where they were written."""
    fillers = filler_vocabulary(table.keywords)
    written = table.fill.copy()
    written[table.camera_title, :2] = -1  # titles like IMG_1234 carry no filler words
    text = _column_postings(fillers, written)
    tags = _column_postings(fillers, table.fill[:, 4:])
    keyword_text: dict[str, list[np.ndarray]] = {}
    keyword_tags: dict[str, list[np.ndarray]] = {}
    for k, keyword in enumerate(table.keywords):
        members = np.flatnonzero((table.kw == k) | (table.kw2 == k))
        keyword_tags.setdefault(normalize_tag(keyword), []).append(members)
        for word in {*tokens(keyword), normalize_tag(keyword)}:
            keyword_text.setdefault(word, []).append(members)
    # Keyword words never collide with fillers (filler_vocabulary drops them).
    text.update({w: _sorted_unique(np.concatenate(parts)) for w, parts in keyword_text.items()})
    tags.update({t: _sorted_unique(np.concatenate(parts)) for t, parts in keyword_tags.items()})
    return Index(fillers, text, tags)
