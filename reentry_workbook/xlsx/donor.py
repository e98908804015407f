"""Rewrites the sheet being grafted (the donor, as XlsxWriter writes it) for its new home: its styles and
differential formats renumbered into the member's, its shared strings made inline, its relationships renamed."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..errors import OutputError
from .direct_rows import DirectRows, spliced_rows
from .opc import MAIN_NS, PKG_REL_NS, Rel, relative_target
from .xmltext import (
    XML_NS,
    Attr,
    Editor,
    Node,
    Unsupported,
    XmlText,
    escape_attr,
    ns_scope,
    tag_attributes,
    unescape,
    xml_tokens,
)


@dataclass
class DonorSheet:
    part: str
    text: XmlText  # the sheet part, read as a stream of tags (it can be large), never parsed into nodes
    names: list[Node]  # the donor workbook's defined names local to this sheet
    names_text: str
    styles: str | None
    strings: list[str]  # raw inner XML of each <si>, in the donor sheet's namespace prefixes


# -- rewriting the donor sheet --------------------------------------------------------------------------


def rewrite_sheet(donor: DonorSheet, style_map: dict[int, int], dxf_map: dict[int, int],
                  keep_selected: bool, rows: DirectRows | None = None) -> Iterator[bytes]:
    """The donor sheet with the member's style indices, without ``tabSelected`` (unless it keeps the selection)
    and with its shared strings written inline; ``rows`` are added below its own. Its bytes come in pieces: the rows
    are rendered and encoded a few thousand at a time (:func:`direct_rows.spliced_rows`), never held whole.

    A summary of a large plan has tens of thousands of cells, so the sheet is never parsed into nodes: it is
    read as a stream of tags, or, when it is as plain as XlsxWriter writes it, its few kinds of edited tags are
    found by pattern (both give the same bytes).
    """
    text = donor.text.text
    try:
        result = _rewrite_plain_tags(text, donor.strings, style_map, dxf_map, keep_selected)
        if result is None:
            edit = Editor(text)
            _rewrite_tags(edit, donor.strings, style_map, dxf_map, keep_selected)
            result = edit.result()
        pieces: Iterable[str] = (result,)
        if rows is not None:
            prefix = next(xml_tokens(result)).group("name").rpartition(":")[0]
            pieces = spliced_rows(result, rows, style_map, f"{prefix}:" if prefix else "")
    except Unsupported as exc:
        raise OutputError(f"the scratch summary sheet is not plain XML ({exc}); please report this") from None
    encoding = donor.text.encoding
    return itertools.chain((donor.text.bom,), (piece.encode(encoding) for piece in pieces))


def _edit_tag(edit: Editor, local: str, attrs: list[Attr], style_map: dict[int, int], dxf_map: dict[int, int],
              keep_selected: bool) -> Attr | None:
    """The edits of one start tag of the donor sheet; returns the ``t`` attribute of a shared-string cell."""
    if local in ("c", "row"):
        _remap_attr(edit, attrs, "s", style_map)
        if local == "c":
            t = _attr(attrs, "t")
            if t is not None and t.value == "s":
                return t
    elif local == "col":
        _remap_attr(edit, attrs, "style", style_map)
    elif local == "cfRule":
        _remap_attr(edit, attrs, "dxfId", dxf_map)
    elif local == "sheetView" and not keep_selected and _attr(attrs, "tabSelected") is not None:
        edit.drop_attr(attrs, "tabSelected")
    return None


def _rewrite_tags(edit: Editor, strings: list[str], style_map: dict[int, int], dxf_map: dict[int, int],
                  keep_selected: bool) -> None:
    """The edits of :func:`rewrite_sheet`, reading the sheet as a stream of tags (any well-formed sheet)."""
    text = edit.text
    base = {"xml": XML_NS}
    stack: list[tuple[str, dict[str, str]]] = []  # (qname, namespace scope) of the open elements
    cell: _SharedCell | None = None  # the shared-string cell being read
    for m in xml_tokens(text):
        close, name, raw_attrs, empty = m.group("close", "name", "attrs", "empty")
        if close:
            if not stack or stack[-1][0] != name:
                raise Unsupported("an end tag that does not match its start tag")
            stack.pop()
            if cell is not None:
                if len(stack) == cell.depth:
                    _inline_string(edit, cell, m.start(), strings)
                    cell = None
                elif cell.value_open and len(stack) == cell.depth + 1 and cell.value is not None:
                    cell.value = (cell.value[0], m.start())
                    cell.value_open = False
            continue
        scope = stack[-1][1] if stack else base
        attrs = tag_attributes(m) if "xmlns" in raw_attrs else None
        if attrs:
            scope = ns_scope(scope, attrs)
        prefix, _, local = name.rpartition(":")
        if local in _SHEET_TAGS and scope.get(prefix) == MAIN_NS:
            if local == "v":
                if cell is not None and cell.value is None and len(stack) == cell.depth + 1:
                    cell.value = (m.end(), m.end())
                    cell.value_open = not empty
            else:
                t = _edit_tag(edit, local, attrs if attrs is not None else tag_attributes(m), style_map, dxf_map,
                              keep_selected)
                if t is not None:
                    cell = _SharedCell(len(stack), prefix, m.end(), t.span)
                    if empty:
                        _inline_string(edit, cell, m.end(), strings)
                        cell = None
        if not empty:
            stack.append((name, scope))
    if stack:
        raise Unsupported("XML that ends early")


class _NotPlain(Exception):
    """The donor sheet is not as plain as _rewrite_plain_tags needs; the stream of tags takes over."""


def _rewrite_plain_tags(text: str, strings: list[str], style_map: dict[int, int], dxf_map: dict[int, int],
                        keep_selected: bool) -> str | None:
    """:func:`rewrite_sheet`'s result, finding the edited tags by pattern; None when the sheet is not plain.

    Plain: no comment, CDATA section, processing instruction or namespace declaration after the root's start
    tag, one prefix for the spreadsheet namespace, and every shared-string cell written ``<v>N</v></c>``. In
    such a text every ``<`` opens a tag, so the pattern finds exactly the start tags the stream would.
    """
    root = next(xml_tokens(text), None)
    if root is None or root.group("close"):
        return None
    body = root.end()
    if "<!" in text or text.find("<?", body) >= 0 or text.find("xmlns", body) >= 0:
        return None
    scope = ns_scope({"xml": XML_NS}, tag_attributes(root))
    bound = [prefix for prefix, ns in scope.items() if ns == MAIN_NS]
    if len(bound) != 1:
        return None
    prefix = f"{bound[0]}:" if bound[0] else ""
    # Tags that read the same after their leading r="..." (most cells of a column, most rows) are edited the
    # same way: the edited rest of each kind of tag is worked out once, with the stream's own edit function.
    known: dict[tuple[str, str], tuple[str, bool]] = {}
    count = len(strings)

    def rewrite(m: re.Match[str]) -> str:
        head, local, rest, content, value = m.group("head", "local", "rest", "content", "value")
        found = known.get((local, rest))
        if found is None:
            found = known[(local, rest)] = _edited_rest(m, style_map, dxf_map, keep_selected)
        new_rest, shared = found
        if not shared:
            return head + new_rest + content if content else head + new_rest
        if value is None:
            if not m.group("empty"):
                raise _NotPlain  # the cell holds more than <v>N</v>: the stream reads it
            index = ""
        else:
            index = (unescape(value) if "&" in value else value).strip()
        if not index.isdigit() or int(index) >= count:
            raise OutputError("the scratch sheet refers to a missing shared string; please report this")
        return f"{head}{new_rest}<{prefix}is>{strings[int(index)]}</{prefix}is>"

    try:
        # The pattern never matches in the root's start tag or before it (no "<" of theirs opens one of its tags),
        # so the whole text is searched: no copy of a large sheet is made to search it.
        return _plain_pattern(prefix).sub(rewrite, text)
    except _NotPlain:
        return None


def _edited_rest(m: re.Match[str], style_map: dict[int, int], dxf_map: dict[int, int],
                 keep_selected: bool) -> tuple[str, bool]:
    """The edited form of a plain start tag after its leading ``r="..."``, and whether it is a shared-string cell
    (whose ``t`` now says ``inlineStr``)."""
    probe = Editor(m.string)  # offsets of m are in the searched text
    t = _edit_tag(probe, m["local"], tag_attributes(m), style_map, dxf_map, keep_selected)
    if t is not None:
        probe.replace(t.span[0], t.span[1], "inlineStr")
    anchor = m.start("rest")
    rest = Editor(m["rest"])
    for start, end, _, new in probe.edits:
        if start < anchor:
            raise _NotPlain
        rest.replace(start - anchor, end - anchor, new)
    return rest.result(), t is not None


@functools.lru_cache(maxsize=4)
def _plain_pattern(prefix: str) -> re.Pattern[str]:
    """A start tag _rewrite_plain_tags edits, with the ``<v>`` that makes up the whole of a cell's content."""
    p = re.escape(prefix)
    return re.compile(
        rf"(?P<tag>(?P<head><{p}(?P<local>c|row|col|cfRule|sheetView)(?: r=\"[^\"<]*\")?)"
        r"(?P<rest>(?P<attrs>(?:\s+[^\s=/<>\"']+\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'))*)\s*(?P<empty>/)?>))"
        rf"(?P<content><{p}v>(?P<value>[^<]*)</{p}v>(?=</{p}c>))?"
    )


# The elements of a donor sheet that rewrite_sheet edits, and <v> (a shared-string cell's first is read).
_SHEET_TAGS = frozenset({"c", "row", "col", "cfRule", "sheetView", "v"})


@dataclass
class _SharedCell:
    depth: int  # open elements around the cell
    prefix: str  # the cell's namespace prefix, for its <is>
    content: int  # offset where the cell's content starts (end of its start tag)
    t_span: tuple[int, int]  # offsets of the value of its t attribute
    value: tuple[int, int] | None = None  # offsets of the text of its first <v>
    value_open: bool = False  # inside that <v>


def _inline_string(edit: Editor, cell: _SharedCell, end: int, strings: list[str]) -> None:
    """Write the shared string a cell points at inline: ``t="inlineStr"`` and an ``<is>`` for its content."""
    raw = edit.text[cell.value[0] : cell.value[1]] if cell.value is not None else ""
    index = unescape(raw).strip()
    if not index.isdigit() or int(index) >= len(strings):
        raise OutputError("the scratch sheet refers to a missing shared string; please report this")
    edit.replace(cell.t_span[0], cell.t_span[1], "inlineStr")
    prefix = f"{cell.prefix}:" if cell.prefix else ""
    edit.replace(cell.content, end, f"<{prefix}is>{strings[int(index)]}</{prefix}is>")


def _attr(attrs: list[Attr], local: str) -> Attr | None:
    """The attribute ``local`` without a namespace prefix."""
    return next((a for a in attrs if a.qname == local), None)


def _remap_attr(edit: Editor, attrs: list[Attr], name: str, mapping: dict[int, int]) -> None:
    a = _attr(attrs, name)
    if a is None or not a.value.isdigit():
        return
    new = mapping.get(int(a.value))
    if new is None:
        raise OutputError(f"the scratch sheet uses an unknown style {a.value}; please report this")
    if new != int(a.value):
        edit.replace(a.span[0], a.span[1], str(new))


def write_rels(source: str, rels: list[Rel], new_names: dict[str, str]) -> bytes:
    lines = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG_REL_NS}">']
    for rel in rels:
        if rel.external:
            target, mode = rel.target, ' TargetMode="External"'
        elif rel.part in new_names:
            target, mode = relative_target(source, new_names[rel.part]), ""
        else:
            raise OutputError(f"the scratch workbook links to a missing part {rel.target}; please report this")
        lines.append(
            f'<Relationship Id="{escape_attr(rel.id)}" Type="{escape_attr(rel.type)}" '
            f'Target="{escape_attr(target)}"{mode}/>'
        )
    lines.append("</Relationships>")
    return "".join(lines).encode("utf-8")


def serialize(text: str, node: Node, prefix: str, *, drop: Iterable[str] = (), extra: dict[str, str] | None = None,
               inner_only: bool = False, attrs: list[tuple[str, str]] | None = None) -> str:
    """Write ``node`` again with ``prefix`` for its spreadsheet-namespace elements.

    Text between tags is copied as it was (already escaped). Attributes keep their names; only unprefixed
    attributes and ``xml:`` ones are allowed (the scratch workbook writes nothing else in these parts).
    """
    drop = set(drop)
    parts: list[str] = []
    if not inner_only:
        if node.ns != MAIN_NS:
            raise Unsupported(f"an unexpected element {node.qname} in the scratch workbook")
        pairs = attrs if attrs is not None else [
            (a.qname, a.value) for a in node.attrs if not a.qname.startswith("xmlns") and a.qname not in drop
        ]
        for name, _ in pairs:
            if ":" in name and not name.startswith("xml:"):
                raise Unsupported(f"an unexpected attribute {name} in the scratch workbook")
        pairs = pairs + list((extra or {}).items())
        head = f"<{prefix}{node.local}" + "".join(f' {n}="{escape_attr(v)}"' for n, v in pairs)
        if node.empty:
            return head + "/>"
        parts.append(head + ">")
    if not node.empty:
        pos = node.end
        for child in node.children:
            parts.append(text[pos : child.start])
            parts.append(serialize(text, child, prefix))
            pos = child.close_end
        parts.append(text[pos : node.close_start])
    if not inner_only:
        parts.append(f"</{prefix}{node.local}>")
    return "".join(parts)


_PLAIN_TAG = re.compile(
    r"<(?P<close>/)?(?P<name>[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)"
    r"(?P<attrs>(?:\s+[^\s=/<>\"']+\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'))*)\s*(?P<empty>/)?>"
)


def plain_shared_strings(text: str, prefix: str) -> list[str] | None:
    """What ``serialize(..., inner_only=True)`` gives for each ``<si>`` of a shared-strings part, read by pattern
    from a part as plain as XlsxWriter writes it (see :func:`_rewrite_plain_tags`); None when it is not that plain
    (the caller then parses the part)."""
    try:
        root = next(xml_tokens(text), None)
    except Unsupported:
        return None
    if root is None or root.group("close") or root.group("empty"):
        return None
    body = root.end()
    if "<!" in text or text.find("<?", body) >= 0 or text.find("xmlns", body) >= 0:
        return None
    scope = ns_scope({"xml": XML_NS}, tag_attributes(root))
    bound = [p for p, ns in scope.items() if ns == MAIN_NS]
    if len(bound) != 1 or scope.get(root.group("name").rpartition(":")[0]) != MAIN_NS:
        return None
    own = bound[0]
    if not own:
        simple = _simple_strings(text, body, prefix)
        if simple is not None:
            return simple
    tags = list(_PLAIN_TAG.finditer(text, body))
    if len(tags) != text.count("<", body):
        return None  # a "<" the pattern does not read as a tag
    strings: list[str] = []
    rebuilt: dict[str, str] = {}  # a start tag as written -> as serialize writes it
    stack: list[str] = [root.group("name")]
    parts: list[str] = []
    pos = body
    for m in tags:
        close, name, empty = m.group("close", "name", "empty")
        element_prefix, _, local = name.rpartition(":")
        if element_prefix != own:
            return None  # another namespace: the parser decides
        depth = len(stack)
        if close:
            if stack[-1] != name:
                return None
            stack.pop()
            if depth == 1:  # the root's end tag: nothing may follow
                return strings if m.end() == len(text.rstrip()) else None
            parts.append(text[pos : m.start()])
            if depth == 2:
                strings.append("".join(parts))
                parts = []
            else:
                parts.append(f"</{prefix}{local}>")
        elif depth == 1:
            if local != "si":
                return None  # something other than a string: the parser decides
            if empty:
                strings.append("")
            else:
                stack.append(name)
        else:
            parts.append(text[pos : m.start()])
            tag = m.group()
            head = rebuilt.get(tag)
            if head is None:
                pairs = [(a.qname, a.value) for a in tag_attributes(m) if not a.qname.startswith("xmlns")]
                if any(":" in n and not n.startswith("xml:") for n, _ in pairs):
                    return None
                head = f"<{prefix}{local}" + "".join(f' {n}="{escape_attr(v)}"' for n, v in pairs)
                head = rebuilt[tag] = head + ("/>" if empty else ">")
            parts.append(head)
            if not empty:
                stack.append(name)
        pos = m.end()
    return None  # the root never ended


# One string as XlsxWriter writes it: a single run of text in the default namespace, nothing else.
_SIMPLE_STRING = re.compile(r'<si><t( xml:space="preserve")?>([^<]*)</t></si>')


def _simple_strings(text: str, body: int, prefix: str) -> list[str] | None:
    """:func:`plain_shared_strings` of a part whose every ``<si>`` is a single ``<t>`` (most parts XlsxWriter
    writes), matched whole in one pass; None when any string is written otherwise."""
    rest = text.rstrip()
    if not rest.endswith("</sst>"):
        return None
    region = text[body : len(rest) - len("</sst>")]
    found = _SIMPLE_STRING.findall(region)
    if sum(len(space) + len(run) for space, run in found) + len(found) * len("<si><t></t></si>") != len(region):
        return None  # something between or inside the strings that the pattern does not cover
    return [f"<{prefix}t{space}>{run}</{prefix}t>" for space, run in found]


def canonical(node: Node, text: str) -> tuple[object, ...]:
    """A form of an element that two writers agree on when they mean the same thing."""
    attrs = []
    for a in node.attrs:
        if a.qname.startswith("xmlns"):
            continue
        prefix, _, name = a.qname.rpartition(":")
        attrs.append((node.nsmap.get(prefix, prefix) if prefix else "", name, a.value))
    gaps = []
    if not node.empty:
        pos = node.end
        for child in node.children:
            gaps.append(text[pos : child.start].strip())
            pos = child.close_end
        gaps.append(text[pos : node.close_start].strip())
    return (node.ns, node.local, tuple(sorted(attrs)), tuple(canonical(c, text) for c in node.children),
            unescape("".join(gaps)))
