"""The one ID normaliser: how IDs and references typed by members are matched.

An ID is one letter, a hyphen and a number (``A-12``). Members type them in any case, with stray spaces, zero
padding or a dash their word processor chose; spreadsheet apps turn a bare ``12`` into the number 12.0. All of
those mean the same row. A reference (the parent column of a row) may also be the dropdown's ``"ID - text"``
label, or the parent row's text itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from . import schema

# Hyphen look-alikes: hyphen-minus, hyphen, non-breaking hyphen, figure dash, en and em dash, horizontal bar,
# minus sign, small and full-width hyphen-minus, underscore.
_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d_"
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_ID = re.compile(rf"([A-Za-z])\s*[{_DASHES}]?\s*0*(\d+)")
_NUMBER = re.compile(r"0*(\d+)")
_CANONICAL = re.compile(r"[A-Z]-(?:[1-9]\d*|0)")  # already normalised: the common case, checked first
# "ID - text": the ID, then a dash (any of the look-alikes) or a colon with spaces around it, then the text.
_LABEL = re.compile(rf"([A-Za-z]\s*[{_DASHES}]?\s*\d+)\s*[{_DASHES}:|]\s*(.*)", re.DOTALL)


def _clean(text: str) -> str:
    return " ".join(_INVISIBLE.sub("", text).split())


def normalise_id(value: Any, prefix: str | None = None) -> str | None:
    """The canonical form of an ID (``"A-12"``), or ``None`` when ``value`` is not one.

    ``prefix`` is the letter of the sheet the ID belongs to; it turns a bare number (``12``, ``12.0``, ``"012"``)
    into that sheet's ID. An ID with another letter keeps its own letter: whether it names a row is for the
    rules to say.
    """
    if value.__class__ is str and _CANONICAL.fullmatch(value):
        return value  # already normalised: most IDs a large plan asks about
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return f"{prefix.upper()}-{value}" if prefix and value >= 0 else None
    if isinstance(value, float):
        if prefix and value.is_integer() and value >= 0:
            return f"{prefix.upper()}-{int(value)}"
        return None
    if not isinstance(value, str):
        return None
    if _CANONICAL.fullmatch(value):
        return value
    text = _clean(value)
    if m := _ID.fullmatch(text):
        return f"{m[1].upper()}-{int(m[2])}"
    if prefix and (m := _NUMBER.fullmatch(text)):
        return f"{prefix.upper()}-{int(m[1])}"
    return None


def label_key(text: Any) -> str:
    """How a row's text is compared with a reference typed as text: case, spaces and line breaks ignored."""
    return schema.normalise_header(_INVISIBLE.sub("", text) if isinstance(text, str) else text)


def label_index(pairs: Iterable[tuple[str | None, Any]]) -> dict[str, str]:
    """``{label_key(text): id}`` for ``(id, text)`` pairs of a parent sheet; the first row wins a shared text."""
    index: dict[str, str] = {}
    for row_id, text in pairs:
        if row_id is None or text is None:
            continue
        key = label_key(text)
        if key:
            index.setdefault(key, row_id)
    return index


class LazyLabels(Mapping[str, str]):
    """:func:`label_index` of the pairs ``source`` gives, built the first time it is looked into: most references
    name an ID, and a plan read whole never needs the index of its parents' texts."""

    def __init__(self, source: Callable[[], Iterable[tuple[str | None, Any]]]) -> None:
        self._source = source
        self._index: dict[str, str] | None = None

    def _built(self) -> dict[str, str]:
        if self._index is None:
            self._index = label_index(self._source())
        return self._index

    def __getitem__(self, key: str) -> str:
        return self._built()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._built())

    def __len__(self) -> int:
        return len(self._built())


def parse_reference(value: Any, parent_prefix: str | None, labels: Mapping[str, str]) -> str | None:
    """The normalised ID a reference cell names, or ``None`` when it names nothing.

    Accepted, in this order: a bare ID or number (``"g-03"``, ``3``); the dropdown's ``"ID - text"`` label
    (the ID part decides, whatever the text says); the exact text of a parent row, as keyed by
    :func:`label_key` in ``labels`` (``{label_key(text): id}``, see :func:`label_index`); an ID followed by
    another dash or a colon and text (``"G-3 – Housing"``, ``"G3: Housing"``). The ID is returned even when no
    such row exists: the rules report that as a broken link.
    """
    found, settled = named_by_itself(value, parent_prefix)
    if settled:
        return found
    text = _clean(value)
    by_text = labels.get(label_key(text))
    if by_text is not None:
        return by_text
    if m := _LABEL.fullmatch(text):
        return normalise_id(m[1], parent_prefix)
    return None


def named_by_itself(value: Any, parent_prefix: str | None) -> tuple[str | None, bool]:
    """(what a reference cell names, True) when the cell alone settles it, as :func:`parse_reference` reads it
    (anything but text, a bare ID or number, an ``"ID - text"`` label, blank text); (None, False) when the parent
    rows' texts must be looked in."""
    found = normalise_id(value, parent_prefix)
    if found is not None or not isinstance(value, str):
        return found, True
    head, sep, _rest = value.partition(schema.ID_SEPARATOR)
    if sep and _CANONICAL.fullmatch(head):
        return head, True
    text = _clean(value)
    if not text:
        return None, True
    head, sep, _rest = text.partition(schema.ID_SEPARATOR)
    if sep and _ID.fullmatch(head.strip()):
        return normalise_id(head, parent_prefix), True
    return None, False
