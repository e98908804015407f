"""The edits of one graft: a scratch workbook's sheet added to a member's package in memory (or a sheet removed).

:class:`Graft` edits the member's workbook part, its relationships and its content types textually, at the
offsets :mod:`xmltext` finds, adds the new sheet's parts under fresh names (the sheet itself written by
:func:`donor.rewrite_sheet`, its styles merged by :class:`styles_merge.StyleMerge`), moves the sheet positions
that defined names and book views hold, and returns the package's entries; :mod:`package` says which parts can
change and drives a graft per sheet.
"""

from __future__ import annotations

import posixpath
import re

import defusedxml.ElementTree as SafeET

from ..errors import OutputError
from .direct_rows import DirectRows
from .donor import DonorSheet, plain_shared_strings, rewrite_sheet, serialize, write_rels
from .opc import (
    CONTENT_TYPES,
    CT_RELATIONSHIPS,
    MAIN_NS,
    REL_CALC_CHAIN,
    REL_NS,
    REL_SHARED_STRINGS,
    REL_STYLES,
    REL_WORKSHEET,
    STRICT_MAIN_NS,
    UNSUPPORTED_KINDS,
    WORKBOOK_ORDER,
    ContentTypes,
    Package,
    part_closure,
    reachable_parts,
    relative_target,
    rels_name,
    workbook_part,
)
from .styles_merge import StyleMerge
from .xmltext import (
    Editor,
    Node,
    Unsupported,
    XmlText,
    escape_attr,
    may_be_tab_selected,
    without_tab_selected_bytes,
    xml_tokens,
)
from .zip_io import ZipEntry, new_part

SHEET_HEAD_BYTES = 1 << 16  # a worksheet's head (its views and columns) fits in this, barring thousands of <col>


class Graft:
    def __init__(
        self, member: Package, donor: Package | None, sheet_name: str, position: int, *, activate: bool = False,
        rows: DirectRows | None = None,
    ) -> None:
        self.m = member
        self.rows = rows
        self.activate = activate and donor is not None
        self.d = donor
        self.sheet_name = sheet_name
        self.position = position
        self.changed: dict[str, bytes] = {}
        self.removed: set[str] = set()
        self.added: list[tuple[str, bytes | ZipEntry]] = []
        self.taken = {n.lower() for n in member.data}
        self.new_local_names: list[str] = []
        self.new_rel_ids: set[str] = set()
        self._donor_ct: ContentTypes | None = None

    # ---- overview

    def run(self) -> list[ZipEntry]:
        m = self.m
        self.wb_part = workbook_part(m)
        self.wb_rels_part = m.name(rels_name(self.wb_part)) or rels_name(self.wb_part)
        self.wb_doc, self.wb = m.xml(self.wb_part)
        if self.wb.ns == STRICT_MAIN_NS:
            raise Unsupported("it is saved as Strict Open XML")
        if not self.wb.is_(MAIN_NS, "workbook"):
            raise Unsupported("its workbook part is not a spreadsheet workbook")
        self.wb_edit = Editor(self.wb_doc.text)
        self.rels = m.rels(self.wb_part)
        if m.name(self.wb_rels_part) is None:
            raise Unsupported("its workbook has no relationships part")
        self.rels_doc, self.rels_root = m.xml(self.wb_rels_part)
        self.rels_edit = Editor(self.rels_doc.text)
        self.ct = ContentTypes.read(m)
        self.ct_edit = Editor(self.ct.doc.text)
        self.ct_new: list[str] = []

        sheets_node = self.wb.first(MAIN_NS, "sheets")
        if sheets_node is None:
            raise Unsupported("its workbook lists no sheets")
        self.sheets_node = sheets_node
        self.sheet_nodes = sheets_node.find(MAIN_NS, "sheet")
        old_index = next(
            (i for i, s in enumerate(self.sheet_nodes)
             if (s.get("name") or "").casefold() == self.sheet_name.casefold()),
            None,
        )
        if self.d is None and (old_index is None or len(self.sheet_nodes) < 2):
            raise Unsupported(f"the sheet {self.sheet_name!r} cannot be removed")

        self.old_index = old_index
        old_sheet_id = None
        if old_index is not None:
            old_sheet_id = self._remove_old_sheet(self.sheet_nodes[old_index])
        remaining = len(self.sheet_nodes) - (1 if old_index is not None else 0)
        self.position = min(self.position, remaining)
        keep_selected = False
        if self.d is not None:
            keep_selected = self.activate or (old_index is not None and self._active_index() == old_index)
            self._add_new_sheet(old_sheet_id, keep_selected)
        self._shift_positions(keep_selected)
        if self.activate:
            self._unselect_member_sheets()

        self._commit(self.wb_part, self.wb_doc, self.wb_edit)
        self._commit(self.wb_rels_part, self.rels_doc, self.rels_edit)
        if self.ct_new:
            close = self.ct.root.close_start
            self.ct_edit.insert(close, "".join(self.ct_new))
        self._commit(m.name(CONTENT_TYPES) or CONTENT_TYPES, self.ct.doc, self.ct_edit)
        return self.m.edited(self.changed, self.removed, self.added)

    def _commit(self, part: str, doc: XmlText, editor: Editor) -> None:
        if not editor.changed:
            return
        data = doc.encode(editor.result())
        try:
            SafeET.fromstring(data)
        except Exception as exc:  # a bug here must never produce a broken workbook
            raise OutputError(f"editing {part} went wrong ({exc}); please report this with the workbook") from None
        if data != self.m.data[part]:
            self.changed[part] = data

    # ---- removing the old sheet

    def _active_index(self) -> int:
        views = self.wb.first(MAIN_NS, "bookViews")
        view = views.first(MAIN_NS, "workbookView") if views else None
        try:
            return int(view.get("activeTab") or 0) if view else 0
        except ValueError:
            return 0

    def _remove_old_sheet(self, node: Node) -> int | None:
        """Drop the sheet entry, its relationship and the parts only it used; return its sheetId."""
        rid = node.get("id", ns=REL_NS)
        rel = next((r for r in self.rels if r.id == rid), None)
        self.wb_edit.remove(node)
        if rel is not None:
            self.rels_edit.remove(rel.node)
            if rel.part:
                reachable = reachable_parts(self.m, (self.wb_part, rel.id))
                for part in part_closure(self.m, rel.part):
                    if part not in reachable:
                        self._remove_part(part)
        try:
            sheet_id = int(node.get("sheetId") or "")
        except ValueError:
            return None
        self._drop_stale_calc_chain(sheet_id)
        return sheet_id

    def _remove_part(self, part: str) -> None:
        self.removed.add(part)
        rels = self.m.name(rels_name(part))
        if rels:
            self.removed.add(rels)
        for name in (part, rels):
            override = self.ct.overrides.get((name or "").lower())
            if name and override is not None:
                self.ct_edit.remove(override)

    def _drop_stale_calc_chain(self, sheet_id: int) -> None:
        """Remove calcChain.xml (a cache Excel rebuilds) when it lists cells of the removed sheet."""
        for rel in self.rels:
            if rel.type != REL_CALC_CHAIN or not rel.part:
                continue
            _, root = self.m.xml(rel.part)
            current = 0
            for c in root.children:
                value = (c.get("i") or "").strip()
                current = int(value) if value.isdigit() else current
                if current == sheet_id:
                    self.rels_edit.remove(rel.node)
                    self._remove_part(rel.part)
                    return

    # ---- adding the new sheet

    def _add_new_sheet(self, old_sheet_id: int | None, keep_selected: bool) -> None:
        pkg = self.d
        assert pkg is not None
        donor = self._donor_sheet()
        style_map, dxf_map = StyleMerge(self, donor).run()
        closure = part_closure(pkg, donor.part)
        new_names: dict[str, str] = {}
        for part in closure:
            kind = self._donor_type(part)
            if any(word in kind for word in UNSUPPORTED_KINDS):
                raise OutputError(f"the sheet to add holds a part ({kind}) that cannot be copied; please report this")
            new_names[part] = self._fresh_name(part)
            self.taken.add(new_names[part].lower())
        for part in closure:
            new = new_names[part]
            if part == donor.part:  # held deflated as it is made (a long table below it is never held whole)
                self._add_part(new, new_part(new, rewrite_sheet(donor, style_map, dxf_map, keep_selected, self.rows)),
                               self._donor_type(part))
            else:
                self._add_part(new, pkg.data[part], self._donor_type(part))
            rels = pkg.rels(part)
            if rels:
                self._add_part(rels_name(new), write_rels(new, rels, new_names), CT_RELATIONSHIPS)

        # The workbook's relationship and <sheet> entry.
        rid = self._fresh_rel_id()
        rel_prefix = self.rels_root.prefix
        tag = f"{rel_prefix}:Relationship" if rel_prefix else "Relationship"
        target = relative_target(self.wb_part, new_names[donor.part])
        self.rels_edit.insert(
            self.rels_root.close_start,
            f'<{tag} Id="{rid}" Type="{REL_WORKSHEET}" Target="{escape_attr(target)}"/>',
        )
        sheet_ids = [int(s.get("sheetId") or 0) for s in self.sheet_nodes if (s.get("sheetId") or "").isdigit()]
        sheet_id = max([*sheet_ids, old_sheet_id or 0, 0]) + 1
        p = self.wb.prefix
        mp = f"{p}:" if p else ""
        r_prefix = self.sheets_node.prefix_for(REL_NS)
        # A workbook that binds no prefix to the relationships namespace gets a local declaration.
        rattr = f'{r_prefix}:id="{rid}"' if r_prefix else f'r:id="{rid}" xmlns:r="{REL_NS}"'
        element = f'<{mp}sheet name="{escape_attr(self.sheet_name)}" sheetId="{sheet_id}" {rattr}/>'
        remaining = [s for i, s in enumerate(self.sheet_nodes) if i != self.old_index]
        if self.position < len(remaining):
            self.wb_edit.insert(remaining[self.position].start, element)
        else:
            self.wb_edit.append_children(self.sheets_node, element)
        self.new_local_names = [
            serialize(donor.names_text, n, mp, drop=("localSheetId",),
                       extra={"localSheetId": str(self.position)})
            for n in donor.names
        ]

    def _donor_sheet(self) -> DonorSheet:
        d = self.d
        assert d is not None
        try:
            wb_part = workbook_part(d)
            doc, wb = d.xml(wb_part)
            rels = d.rels(wb_part)
            sheets = wb.first(MAIN_NS, "sheets")
            nodes = sheets.find(MAIN_NS, "sheet") if sheets else []
            index, node = next(
                (i, s) for i, s in enumerate(nodes) if (s.get("name") or "") == self.sheet_name
            )
            rid = node.get("id", ns=REL_NS)
            part = next(r.part for r in rels if r.id == rid and r.part)
        except (StopIteration, Unsupported) as exc:
            raise OutputError(f"the scratch workbook has no usable sheet {self.sheet_name!r} ({exc})") from None
        names_node = wb.first(MAIN_NS, "definedNames")
        names = [n for n in names_node.find(MAIN_NS, "definedName") if n.get("localSheetId") == str(index)] \
            if names_node else []
        sheet_doc = XmlText.decode(d.data[part])
        styles = next((r.part for r in rels if r.type == REL_STYLES and r.part), None)
        strings: list[str] = []
        sst = next((r.part for r in rels if r.type == REL_SHARED_STRINGS and r.part), None)
        if sst:
            try:
                cell_prefix = next(xml_tokens(sheet_doc.text)).group("name").rpartition(":")[0]
            except (StopIteration, Unsupported) as exc:
                raise OutputError(f"the scratch summary sheet is not plain XML ({exc}); please report this") from None
            prefix = f"{cell_prefix}:" if cell_prefix else ""
            found = plain_shared_strings(XmlText.decode(d.data[sst]).text, prefix)
            if found is None:
                sst_doc, sst_root = d.xml(sst)
                found = [serialize(sst_doc.text, si, prefix, inner_only=True) for si in sst_root.find(MAIN_NS, "si")]
            strings = found
        return DonorSheet(part, sheet_doc, names, doc.text, styles, strings)

    def _donor_type(self, part: str) -> str:
        if self._donor_ct is None:
            assert self.d is not None
            self._donor_ct = ContentTypes.read(self.d)
        found = self._donor_ct.of(part)
        if not found:
            raise OutputError(f"the scratch workbook gives no content type for {part}; please report this")
        return found

    def _add_part(self, name: str, data: bytes | ZipEntry, content_type: str) -> None:
        self.added.append((name, data))
        self.taken.add(name.lower())
        ext = posixpath.splitext(name)[1].lstrip(".").lower()
        if self.ct.defaults.get(ext) != content_type:
            prefix = self.ct.root.prefix
            tag = f"{prefix}:Override" if prefix else "Override"
            self.ct_new.append(
                f'<{tag} PartName="/{escape_attr(name)}" ContentType="{escape_attr(content_type)}"/>'
            )

    def _fresh_name(self, part: str) -> str:
        """A name like ``part`` numbered past every existing part of that kind in the member package."""
        folder, base = posixpath.split(part)
        m = re.fullmatch(r"(.*?)(\d*)(\.[^.]*)?", base)
        assert m is not None
        stem, ext = m.group(1), m.group(3) or ""
        pattern = re.compile(re.escape((folder + "/" + stem).lower().lstrip("/")) + r"(\d+)" + re.escape(ext.lower()))
        numbers = [int(x.group(1)) for n in self.taken if (x := pattern.fullmatch(n))]
        number = max(numbers, default=0) + 1
        name = posixpath.join(folder, f"{stem}{number}{ext}")
        while name.lower() in self.taken:
            number += 1
            name = posixpath.join(folder, f"{stem}{number}{ext}")
        return name

    def _fresh_rel_id(self) -> str:
        """An Id no relationship of the workbook has, or had before this graft."""
        ids = {r.id for r in self.rels} | self.new_rel_ids
        numbers = [int(i[3:]) for i in ids if i.startswith("rId") and i[3:].isdigit()]
        rid = f"rId{max(numbers, default=0) + 1}"
        self.new_rel_ids.add(rid)
        return rid

    # ---- positions: defined names and book views

    def _new_index(self, i: int) -> int:
        """Where the member's sheet that was at tab ``i`` ends up."""
        if self.old_index is not None and i > self.old_index:
            i -= 1
        if self.d is not None and i >= self.position:
            i += 1
        return i

    def _shift_positions(self, keep_selected: bool) -> None:
        p = self.wb.prefix
        mp = f"{p}:" if p else ""
        names = self.wb.first(MAIN_NS, "definedNames")
        new_names = self.new_local_names
        kept = 0
        if names is not None:
            for n in names.find(MAIN_NS, "definedName"):
                local = n.attr("localSheetId")
                if local is None or not local.value.strip().isdigit():
                    kept += 1
                    continue
                index = int(local.value)
                if index == self.old_index:
                    self.wb_edit.remove(n)
                    continue
                kept += 1
                moved = self._new_index(index)
                if moved != index:
                    self.wb_edit.replace(local.span[0], local.span[1], str(moved))
            if new_names:
                self.wb_edit.append_children(names, "".join(new_names))
            elif kept == 0:
                self.wb_edit.remove(names)
        elif new_names:
            anchor = self._insert_point("definedNames")
            self.wb_edit.insert(anchor, f"<{mp}definedNames>{''.join(new_names)}</{mp}definedNames>")

        views = self.wb.first(MAIN_NS, "bookViews")
        view_nodes = views.find(MAIN_NS, "workbookView") if views else []
        for view in view_nodes:
            self._shift_view(view, keep_selected)
        if views is None and self.d is not None:
            active = self._new_index(0) if self.old_index != 0 and not self.activate else self.position
            if active != 0:
                anchor = self._insert_point("bookViews")
                self.wb_edit.insert(
                    anchor, f'<{mp}bookViews><{mp}workbookView activeTab="{active}"/></{mp}bookViews>'
                )

    def _shift_view(self, view: Node, keep_selected: bool) -> None:
        def number(name: str) -> int:
            value = view.get(name)
            return int(value) if value and value.strip().isdigit() else 0

        active = number("activeTab")
        if self.activate:
            new_active = self.position
        elif active == self.old_index:
            new_active = self.position if self.d is not None else max(0, min(active, self._count_after() - 1))
        else:
            new_active = self._new_index(active)
        if new_active != active:
            self.wb_edit.set_attr(view, "activeTab", str(new_active))
        first = number("firstSheet")
        first_new = first - 1 if self.old_index is not None and first > self.old_index else first
        if self.d is not None and first_new > self.position:
            first_new += 1
        if self.activate:
            first_new = min(first_new, self.position)  # the active tab is in view on the tab bar
        if first_new != first:
            self.wb_edit.set_attr(view, "firstSheet", str(first_new))

    def _unselect_member_sheets(self) -> None:
        """Drop ``tabSelected`` from the sheet views of the member's sheets (only that attribute is touched)."""
        kept = [s for i, s in enumerate(self.sheet_nodes) if i != self.old_index]
        by_id = {r.id: r.part for r in self.rels if r.part}
        for node in kept:
            part = by_id.get(node.get("id", ns=REL_NS) or "")
            if part is None or part in self.removed or part not in self.m.data:
                continue
            if not may_be_tab_selected(self.m.data.head(part, SHEET_HEAD_BYTES)):
                continue  # the sheet's head, inflated alone, shows no selection: the rest is not inflated
            data = self.m.data[part]
            unselected = without_tab_selected_bytes(data)
            if unselected != data:
                self.changed[part] = unselected

    def _count_after(self) -> int:
        return len(self.sheet_nodes) - (self.old_index is not None) + (self.d is not None)

    def _insert_point(self, local: str) -> int:
        """Offset where a missing child ``local`` of <workbook> goes, by the schema's order."""
        later = WORKBOOK_ORDER[WORKBOOK_ORDER.index(local) + 1 :]
        for child in self.wb.children:
            if child.local in later:
                return child.start
        return self.wb.close_start
