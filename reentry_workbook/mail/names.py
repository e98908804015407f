"""Safe file names for what arrives by mail: an attachment's name is the sender's text, never a path."""

from __future__ import annotations

import re
import unicodedata

MAX_NAME = 120  # characters of a saved attachment's name, extension included

# Names Windows refuses as file names, whatever the extension.
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
_UNSAFE = re.compile(r'[<>:"|?*\x00-\x1f\x7f]+')
_SEPARATORS = re.compile(r"[/\\]")


def safe_name(raw: str | None, default: str) -> str:
    """``raw`` as a plain file name: its last path component only, no characters an OS refuses, no leading
    dots, not a reserved device name, at most ``MAX_NAME`` characters; ``default`` when nothing is left."""
    text = unicodedata.normalize("NFC", raw or "")
    text = _SEPARATORS.split(text)[-1]
    text = " ".join(_UNSAFE.sub("_", text).split()).strip(" .")
    if not text:
        text = default
    stem, dot, suffix = text.rpartition(".")
    if not dot:
        stem, suffix = text, ""
    if stem.split(".")[0].upper() in _RESERVED:
        stem = f"_{stem}"
    suffix = suffix[:16]
    stem = stem[: MAX_NAME - len(suffix) - 1].strip(" .") or default.rpartition(".")[0] or "attachment"
    return f"{stem}.{suffix}" if suffix else stem


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name (2)``, ``name (3)``... so that no two names in ``taken`` (case ignored) are the same;
    the one returned is added to ``taken``."""
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    candidate, n = name, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{stem} ({n}).{suffix}" if suffix else f"{stem} ({n})"
    taken.add(candidate.casefold())
    return candidate
