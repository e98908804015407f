"""Merges the styles a grafted sheet uses into the member's styles part, appending a font, fill, border,
number format, cell format or differential format only when no identical one is already there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .donor import DonorSheet, canonical, serialize
from .opc import CT_STYLES, FIRST_CUSTOM_NUMFMT, MAIN_NS, REL_STYLES, STYLE_ORDER, relative_target
from .xmltext import Editor, Node, escape_attr, parse_xml

if TYPE_CHECKING:
    from .graft import Graft

# -- styles ---------------------------------------------------------------------------------------------


class StyleMerge:
    """Appends the donor's formats the member's styles lack, and maps the donor's indices to the member's."""

    LISTS = (("fonts", "font"), ("fills", "fill"), ("borders", "border"), ("cellXfs", "xf"), ("dxfs", "dxf"))

    def __init__(self, graft: Graft, donor: DonorSheet) -> None:
        self.g = graft
        self.donor = donor

    def run(self) -> tuple[dict[int, int], dict[int, int]]:
        g, d = self.g, self.g.d
        assert d is not None
        if self.donor.styles is None:
            return {0: 0}, {}
        d_doc, d_root = d.xml(self.donor.styles)
        member_styles = next((r for r in g.rels if r.type == REL_STYLES and r.part), None)
        if member_styles is None or member_styles.part is None:
            return self._adopt(self.donor.styles, d_root)
        part = member_styles.part
        doc, root = g.m.xml(part)
        edit = Editor(doc.text)
        prefix = f"{root.prefix}:" if root.prefix else ""
        text, d_text = doc.text, d_doc.text

        def children(r: Node, container: str, item: str) -> tuple[Node | None, list[Node]]:
            c = r.first(MAIN_NS, container)
            return c, (c.find(MAIN_NS, item) if c is not None else [])

        pending: dict[str, list[str]] = {}

        # Number formats: by format code.
        _, m_fmts = children(root, "numFmts", "numFmt")
        _, d_fmts = children(d_root, "numFmts", "numFmt")
        by_code: dict[str | None, int] = {}
        for n in m_fmts:
            if (n.get("numFmtId") or "").isdigit():
                by_code.setdefault(n.get("formatCode"), int(n.get("numFmtId") or 0))
        next_id = max([FIRST_CUSTOM_NUMFMT - 1, *by_code.values()]) + 1
        fmt_map: dict[int, int] = {}
        for n in d_fmts:
            old, code = int(n.get("numFmtId") or 0), n.get("formatCode")
            if code in by_code:
                fmt_map[old] = by_code[code]
                continue
            by_code[code] = fmt_map[old] = next_id
            pending.setdefault("numFmts", []).append(
                serialize(d_text, n, prefix, attrs=[("numFmtId", str(next_id)), ("formatCode", code or "")])
            )
            next_id += 1

        style_xfs = root.first(MAIN_NS, "cellStyleXfs")
        has_style_xfs = style_xfs is not None and bool(style_xfs.find(MAIN_NS, "xf"))
        maps: dict[str, dict[int, int]] = {}
        counts: dict[str, int] = {}
        for container, item in self.LISTS:
            _, m_items = children(root, container, item)
            _, d_items = children(d_root, container, item)
            counts[container] = len(m_items)
            known: dict[tuple[object, ...], int] = {}
            for i, n in enumerate(m_items):
                known.setdefault(canonical(n, text), i)
            mapping: dict[int, int] = {}
            for i, n in enumerate(d_items):
                if container == "cellXfs":
                    serialised = self._xf(d_text, n, prefix, maps, fmt_map, has_style_xfs)
                    if i == 0 and m_items:
                        mapping[0] = 0  # the donor's default format is the member's default format
                        continue
                else:
                    serialised = serialize(d_text, n, prefix)
                wrapped = _with_ns(serialised, prefix)
                key = canonical(parse_xml(wrapped).children[0], wrapped)
                if key in known:
                    mapping[i] = known[key]
                    continue
                new_index = counts[container] + len(pending.get(container, []))
                known[key] = mapping[i] = new_index
                pending.setdefault(container, []).append(serialised)
            maps[container] = mapping

        for container, items in pending.items():
            self._append(edit, root, container, items, prefix)
        g._commit(part, doc, edit)
        return maps["cellXfs"], maps["dxfs"]

    @staticmethod
    def _xf(d_text: str, n: Node, prefix: str, maps: dict[str, dict[int, int]], fmt_map: dict[int, int],
            has_style_xfs: bool) -> str:
        """A donor cell format with its font, fill, border and number format indices turned into the member's."""
        pairs: list[tuple[str, str]] = []
        for a in n.attrs:
            if a.qname.startswith("xmlns"):
                continue
            value = a.value
            if a.qname == "numFmtId" and value.isdigit():
                value = str(fmt_map.get(int(value), int(value)))
            elif a.qname in ("fontId", "fillId", "borderId") and value.isdigit():
                value = str(maps[{"fontId": "fonts", "fillId": "fills", "borderId": "borders"}[a.qname]][int(value)])
            elif a.qname == "xfId":
                if not has_style_xfs:
                    continue
                value = "0"  # based on the member's Normal style
            pairs.append((a.qname, value))
        return serialize(d_text, n, prefix, attrs=pairs)

    @staticmethod
    def _append(edit: Editor, root: Node, container: str, items: list[str], prefix: str) -> None:
        node = root.first(MAIN_NS, container)
        joined = "".join(items)
        if node is not None:
            existing = len([c for c in node.children if c.ns == MAIN_NS])
            edit.append_children(node, joined, existing + len(items))
            return
        later = STYLE_ORDER[STYLE_ORDER.index(container) + 1 :]
        anchor = next((c.start for c in root.children if c.local in later), root.close_start)
        edit.insert(anchor, f'<{prefix}{container} count="{len(items)}">{joined}</{prefix}{container}>')

    def _adopt(self, donor_styles: str, d_root: Node) -> tuple[dict[int, int], dict[int, int]]:
        """The member has no styles part: the donor's becomes the workbook's, indices unchanged."""
        g = self.g
        name = g._fresh_name("xl/styles.xml") if "xl/styles.xml" in g.taken else "xl/styles.xml"
        g._add_part(name, g.d.data[donor_styles], CT_STYLES)  # type: ignore[union-attr]
        rid = g._fresh_rel_id()
        prefix = g.rels_root.prefix
        tag = f"{prefix}:Relationship" if prefix else "Relationship"
        g.rels_edit.insert(
            g.rels_root.close_start,
            f'<{tag} Id="{rid}" Type="{REL_STYLES}" Target="{escape_attr(relative_target(g.wb_part, name))}"/>',
        )
        xfs = d_root.first(MAIN_NS, "cellXfs")
        dxfs = d_root.first(MAIN_NS, "dxfs")
        n_xfs = len(xfs.find(MAIN_NS, "xf")) if xfs else 1
        n_dxfs = len(dxfs.find(MAIN_NS, "dxf")) if dxfs else 0
        return {i: i for i in range(max(1, n_xfs))}, {i: i for i in range(n_dxfs)}


def _with_ns(fragment: str, prefix: str) -> str:
    """Wrap a serialised fragment so it parses with ``prefix`` bound to the spreadsheet namespace."""
    p = prefix.rstrip(":")
    decl = f'xmlns:{p}="{MAIN_NS}"' if p else f'xmlns="{MAIN_NS}"'
    return f"<wrap {decl}>{fragment}</wrap>"
