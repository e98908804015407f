"""A small XML tokenizer that keeps offsets, and an editor that changes a part's text at those offsets:
prefixes, declarations and unknown extensions stay exactly as they were."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

XML_NS = "http://www.w3.org/XML/1998/namespace"


class Unsupported(Exception):
    """A package this module cannot edit safely; turned into a typed error with the file's name."""


# -- a tokenizer that keeps offsets ---------------------------------------------------------------------

_MARKUP = re.compile(
    r"<!--.*?-->"
    r"|<!\[CDATA\[.*?\]\]>"
    r"|<\?.*?\?>"
    r"|<!(?P<decl>[A-Za-z]+)"
    r"|<(?P<close>/)?(?P<name>[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)"
    r"(?P<attrs>(?:\s+[^\s=/<>\"']+\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'))*)\s*(?P<empty>/)?>",
    re.S,
)
_ATTR = re.compile(r"([^\s=/<>\"']+)\s*=\s*(?:\"([^\"<]*)\"|'([^'<]*)')")
_CHAR_REF = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def unescape(raw: str) -> str:
    def sub(m: re.Match[str]) -> str:
        ref = m.group(1)
        if ref.startswith("#x"):
            return chr(int(ref[2:], 16))
        if ref.startswith("#"):
            return chr(int(ref[1:]))
        return _NAMED[ref]

    return _CHAR_REF.sub(sub, raw)


_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\r]|_(?=x[0-9A-Fa-f]{4}_)")


def escape_text(text: str) -> str:
    """Element text, with the characters XML cannot carry (and a literal ``_xHHHH_``) escaped as Excel does."""
    if _XML_UNSAFE.search(text) is not None:  # (rare: a search that finds nothing is cheaper than a substitution)
        text = _XML_UNSAFE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    return text.replace(">", "&gt;") if ">" in text else text


def number_text(value: float) -> str:
    """A number as a cell's ``<v>`` holds it: whole numbers without a decimal point (up to 16 digits, as XlsxWriter
    writes them: past those it takes an exponent), others in full."""
    if isinstance(value, int):
        return str(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)


def text_run(prefix: str, text: str) -> str:
    """A ``<t>`` element holding ``text`` (``xml:space`` kept where spaces at its ends or line breaks matter)."""
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    return f"<{prefix}t{space}>{escape_text(text)}</{prefix}t>"


_ATTR_SPECIAL = re.compile(r'[&<>"\n\r\t]')


def escape_attr(value: str) -> str:
    if _ATTR_SPECIAL.search(value) is None:
        return value  # (most values: a reference, a name, a number)
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
        .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    )


@dataclass
class Attr:
    qname: str
    value: str  # unescaped
    span: tuple[int, int]  # offsets of the raw value, inside the quotes
    name_start: int  # offset of the attribute's name


@dataclass(eq=False)
class Node:
    """An element of a parsed XML text: names, attributes and the offsets of its tags."""

    qname: str
    start: int  # offsets of the start tag
    end: int
    attrs: list[Attr]
    nsmap: dict[str, str]
    parent: Node | None
    empty: bool
    close_start: int = -1  # offsets of the end tag (equal to start/end for an empty element)
    close_end: int = -1
    children: list[Node] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return self.qname.split(":", 1)[0] if ":" in self.qname else ""

    @property
    def local(self) -> str:
        return self.qname.split(":", 1)[-1]

    @property
    def ns(self) -> str | None:
        return self.nsmap.get(self.prefix)

    def is_(self, ns: str, local: str) -> bool:
        return self.local == local and self.ns == ns

    def attr(self, local: str, ns: str | None = None) -> Attr | None:
        """The attribute ``local`` without a namespace, or in namespace ``ns``."""
        for a in self.attrs:
            if a.qname.startswith("xmlns"):
                continue
            prefix, _, name = a.qname.rpartition(":")
            if name != local:
                continue
            if ns is None and not prefix:
                return a
            if ns is not None and prefix and self.nsmap.get(prefix) == ns:
                return a
        return None

    def get(self, local: str, default: str | None = None, ns: str | None = None) -> str | None:
        a = self.attr(local, ns)
        return a.value if a else default

    def find(self, ns: str, local: str) -> list[Node]:
        return [c for c in self.children if c.is_(ns, local)]

    def first(self, ns: str, local: str) -> Node | None:
        found = self.find(ns, local)
        return found[0] if found else None

    def iter(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.iter()

    def prefix_for(self, ns: str) -> str | None:
        """A prefix bound to ``ns`` where this element is ('' for the default namespace)."""
        if self.nsmap.get("") == ns:
            return ""
        for prefix, uri in self.nsmap.items():
            if uri == ns and prefix:
                return prefix
        return None


def xml_tokens(text: str, start: int = 0, end: int | None = None) -> Iterator[re.Match[str]]:
    """The element tags of ``text`` (or of its span ``start``..``end``), in order (comments, CDATA and processing
    instructions are skipped); raise Unsupported on anything that is not plain XML."""
    end = len(text) if end is None else end
    pos = start
    find = text.find
    for m in _MARKUP.finditer(text, start, end):
        if find("<", pos, m.start()) >= 0:
            raise Unsupported("markup the tokenizer does not understand")
        pos = m.end()
        if m.group("name") is None:
            if m.group("decl"):
                raise Unsupported("a DOCTYPE or entity declaration")
            continue  # comment, CDATA, processing instruction
        yield m
    if find("<", pos, end) >= 0:
        raise Unsupported("XML that ends early")


def tag_attributes(m: re.Match[str]) -> list[Attr]:
    """The attributes of a start tag found by ``xml_tokens``, with the offsets of their values."""
    raw = m.group("attrs")
    if not raw:
        return []
    base = m.start("attrs")
    out: list[Attr] = []
    for am in _ATTR.finditer(raw):
        value, group = _attr_value(am)
        out.append(Attr(am.group(1), value, (base + am.start(group), base + am.end(group)), base + am.start(1)))
    return out


def attribute_value(m: re.Match[str], qname: str) -> str | None:
    """The value of the first attribute ``qname`` of a start tag found by ``xml_tokens``, as :func:`tag_attributes`
    reads it (without making the others)."""
    raw = m.group("attrs")
    if not raw:
        return None
    for am in _ATTR.finditer(raw):
        if am.group(1) == qname:
            return _attr_value(am)[0]
    return None


def _attr_value(am: re.Match[str]) -> tuple[str, int]:
    """The value of the attribute an ``_ATTR`` match found, unescaped, and the group holding it (the value in double
    quotes or in single quotes)."""
    group = 2 if am.group(2) is not None else 3
    value = am.group(group)
    return (unescape(value) if "&" in value else value), group


def ns_scope(outer: dict[str, str], attrs: list[Attr]) -> dict[str, str]:
    """The namespace prefixes in force inside an element: ``outer``, or a copy with its declarations added.

    Elements that declare nothing share their parent's mapping, which is never changed afterwards.
    """
    scope = outer
    for a in attrs:
        if a.qname == "xmlns" or a.qname.startswith("xmlns:"):
            if scope is outer:
                scope = dict(outer)
            scope[a.qname[6:]] = a.value  # "" for the default namespace
    return scope


def parse_xml(text: str, spans: Sequence[tuple[int, int | None]] = ((0, None),), scope: dict[str, str] | None = None,
              ) -> Node:
    """Parse ``text`` into offset-carrying nodes; raise Unsupported on anything not plain XML.

    ``spans`` (start, end) limit the parse to those parts of the text, offsets kept: an element's content can be
    left out (its node then has no children), or one element parsed out of a larger text, with ``scope`` the
    namespace prefixes in force where it sits.
    """
    root: Node | None = None
    stack: list[Node] = []
    base = scope if scope is not None else {"xml": XML_NS}
    for m in (m for start, end in spans for m in xml_tokens(text, start, end)):
        name = m.group("name")
        if m.group("close"):
            if not stack or stack[-1].qname != name:
                raise Unsupported("an end tag that does not match its start tag")
            node = stack.pop()
            node.close_start, node.close_end = m.start(), m.end()
            continue
        parent = stack[-1] if stack else None
        attrs = tag_attributes(m)
        nsmap = ns_scope(parent.nsmap if parent is not None else base, attrs)
        node = Node(name, m.start(), m.end(), attrs, nsmap, parent, bool(m.group("empty")))
        if parent is not None:
            parent.children.append(node)
        elif root is not None:
            raise Unsupported("more than one root element")
        else:
            root = node
        if node.empty:
            node.close_start, node.close_end = node.start, node.end
        else:
            stack.append(node)
    if stack or root is None:
        raise Unsupported("XML that ends early")
    return root


class Editor:
    """Collects replacements at offsets of a text and applies them at once."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.edits: list[tuple[int, int, int, str]] = []

    def replace(self, start: int, end: int, new: str) -> None:
        self.edits.append((start, end, len(self.edits), new))

    def insert(self, pos: int, new: str) -> None:
        self.replace(pos, pos, new)

    def remove(self, node: Node) -> None:
        self.replace(node.start, node.close_end, "")

    def set_attr(self, node: Node, qname: str, value: str) -> None:
        for a in node.attrs:
            if a.qname == qname:
                self.replace(a.span[0], a.span[1], escape_attr(value))
                return
        tag_end = node.end - (2 if node.empty else 1)
        self.insert(tag_end, f' {qname}="{escape_attr(value)}"')

    def drop_attr(self, attrs: list[Attr], qname: str) -> None:
        for a in attrs:
            if a.qname == qname:
                start = a.name_start  # from the whitespace before the name to the closing quote
                while self.text[start - 1].isspace():
                    start -= 1
                self.replace(start, a.span[1] + 1, "")

    def append_children(self, node: Node, items: str, count: int | None = None) -> None:
        """Add ``items`` as the last children of ``node`` (opening it up when it is empty)."""
        if not node.empty:
            self.insert(node.close_start, items)
            if count is not None:
                self.set_attr(node, "count", str(count))
            return
        head = self.text[node.start : node.end - 2].rstrip()
        found = node.attr("count")
        if count is not None and found is not None:
            head = self.text[node.start : found.span[0]] + str(count) + self.text[found.span[1] : node.end - 2].rstrip()
        elif count is not None:
            head += f' count="{count}"'
        self.replace(node.start, node.end, f"{head}>{items}</{node.qname}>")

    @property
    def changed(self) -> bool:
        return any(start != end or new for start, end, _, new in self.edits)

    def result(self) -> str:
        return "".join(self.pieces())  # joined once: linear in the text

    def pieces(self) -> Iterator[str]:
        """The edited text in pieces, in text order, made one at a time (for a caller that writes it out without
        holding it whole); at one offset the insertions made there come first, in the order they were made, then
        a replacement starting there."""
        pos = 0
        for start, end, _, new in sorted(self.edits, key=lambda e: (e[0], e[1] > e[0], e[2])):
            if start < pos:
                raise AssertionError("overlapping edits")
            yield self.text[pos:start]
            yield new
            pos = end
        yield self.text[pos:]

    def unchanged(self) -> bool:
        """Whether the edited text is the text as it was (compared piece by piece, stopping at the first difference)."""
        pos = 0
        for piece in self.pieces():
            if not self.text.startswith(piece, pos):
                return False
            pos += len(piece)
        return pos == len(self.text)


# -- well-formedness ------------------------------------------------------------------------------------


def xml_problem(data: bytes) -> str | None:
    """Why ``data`` is not well-formed XML without declarations (a DOCTYPE or an entity), or None when it is.

    Only checks: expat reads it with no handler building anything, so a large part costs little."""
    check = XmlCheck()
    check.feed(data)
    return check.problem()


class XmlCheck:
    """:func:`xml_problem` for a part given in pieces (:meth:`feed` each in turn, then ask :meth:`problem`)."""

    def __init__(self) -> None:
        from xml.parsers import expat

        def refuse(*_args: object) -> None:
            raise Unsupported("a DOCTYPE or entity declaration")

        self._expat_error = expat.ExpatError
        self._parser = expat.ParserCreate()
        self._parser.StartDoctypeDeclHandler = refuse
        self._parser.EntityDeclHandler = refuse
        self._problem: str | None = None

    def feed(self, data: bytes, final: bool = False) -> None:
        if self._problem is not None:
            return
        try:
            self._parser.Parse(data, final)
        except (self._expat_error, Unsupported) as exc:
            self._problem = str(exc)

    def problem(self) -> str | None:
        """Why the pieces fed are not well-formed (None when they are); ends the feeding."""
        self.feed(b"", True)
        return self._problem


# -- encodings ------------------------------------------------------------------------------------------


@dataclass
class XmlText:
    text: str
    encoding: str
    bom: bytes

    @classmethod
    def decode(cls, data: bytes) -> XmlText:
        bom, enc = _encoding(data)
        return cls(data[len(bom) :].decode(enc), enc, bom)

    @classmethod
    def decode_pieces(cls, pieces: Iterable[bytes | memoryview]) -> XmlText:
        """:meth:`decode` of the bytes ``pieces`` make, decoded as they come: a large part's bytes are never held
        whole beside its text."""
        chunks = iter(pieces)
        head = b""
        for piece in chunks:
            head += piece
            if len(head) >= 4:
                break
        bom, enc = _encoding(head)
        decoder = codecs.getincrementaldecoder(enc)()
        text = [decoder.decode(head[len(bom) :])]
        text += [decoder.decode(piece) for piece in chunks]
        text.append(decoder.decode(b"", final=True))
        return cls("".join(text), enc, bom)

    def encode(self, text: str) -> bytes:
        return self.bom + text.encode(self.encoding)


def _encoding(head: bytes) -> tuple[bytes, str]:
    """The byte order mark and encoding of an XML part that starts with ``head`` (its first bytes, four or more)."""
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            return bom, enc
    if head.startswith(b"<\x00"):
        return b"", "utf-16-le"
    if head.startswith(b"\x00<"):
        return b"", "utf-16-be"
    return b"", "utf-8"


# -- sheet views ----------------------------------------------------------------------------------------

_SHEET_VIEW = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?sheetView\b[^>]*>")
_TAB_SELECTED = re.compile(r"""\s+tabSelected\s*=\s*(?:"[^"]*"|'[^']*')""")
_SHEET_DATA = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?sheetData\b")


def without_tab_selected(text: str) -> str:
    """``text`` with the ``tabSelected`` attribute removed from its sheet views (which come before the cells)."""
    data = _SHEET_DATA.search(text)
    head_end = data.start() if data else len(text)

    def drop(m: re.Match[str]) -> str:
        return _TAB_SELECTED.sub("", m[0])

    return _SHEET_VIEW.sub(drop, text[:head_end]) + text[head_end:]


# Never found before _SHEET_DATA's match in the decoded text (so the head searched below holds its head).
_SHEET_DATA_BYTES = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheetData[\s/>]")


def may_be_tab_selected(head: bytes) -> bool:
    """Whether a worksheet part whose first bytes are ``head`` may carry ``tabSelected``: false only when ``head``
    reaches its cells (the attribute sits in the sheet view, before them) without it."""
    cells = _SHEET_DATA_BYTES.search(head)
    return cells is None or b"tabSelected" in head[: cells.start()]


def without_tab_selected_bytes(data: bytes) -> bytes:
    cells = _SHEET_DATA_BYTES.search(data)  # in UTF-8, only the head before the cells can change: look there
    head = data if cells is None else data[: cells.start()]
    if b"tabSelected" not in head and b"t\x00a\x00b\x00S" not in head:  # UTF-8, or UTF-16 either way
        return data
    doc = XmlText.decode(data)
    text = without_tab_selected(doc.text)
    return data if text == doc.text else doc.encode(text)
