"""What a package says about itself, without reading a cell: its custom document properties, the content type of
its main part (which file extension it must carry) and whether it is saved as Strict Open XML.

Excel refuses to open a package whose extension does not match its main part's content type ("the file format
or file extension is not valid"): a macro-enabled workbook named ``.xlsx`` is the everyday case.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .guard import open_package, require_defusedxml

_PKG_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_OFFICE_DOCUMENT = "/officeDocument"
STRICT_NAMESPACE_ROOT = "http://purl.oclc.org/ooxml/"

# The main part's content type (without its "+xml" ending) -> the extension Excel requires.
EXTENSIONS: dict[str, str] = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main": ".xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.main": ".xlsm",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main": ".xltx",
    "application/vnd.ms-excel.template.macroenabled.main": ".xltm",
}
WORKBOOK_EXTENSIONS = frozenset(EXTENSIONS.values())


@dataclass(frozen=True)
class PackageIdentity:
    extension: str  # the extension the package's content type calls for (".xlsx" when it cannot be told)
    strict: bool  # saved as Strict Open XML (ISO/IEC 29500 strict namespaces)
    properties: dict[str, str]  # custom document properties, as text


def identify(path: Path) -> PackageIdentity:
    """Read the identity of the .xlsx-family package at ``path`` (errors of :func:`guard.open_package`)."""
    with open_package(path) as zf:
        return identify_zip(zf)


def identify_zip(zf: zipfile.ZipFile) -> PackageIdentity:
    etree = require_defusedxml()
    names = {n.casefold(): n for n in zf.namelist()}

    def xml(name: str) -> object | None:
        member = names.get(name.casefold())
        if member is None:
            return None
        try:
            return etree.fromstring(zf.read(member), forbid_dtd=True)
        except Exception:  # a damaged descriptive part tells nothing here; the readers judge it
            return None

    main, strict = "xl/workbook.xml", False
    rels = xml("_rels/.rels")
    if rels is not None:
        for rel in rels.iter(_PKG_RELS):  # type: ignore[attr-defined]
            kind = rel.get("Type") or ""
            if kind.endswith(_OFFICE_DOCUMENT) and (rel.get("TargetMode") or "").lower() != "external":
                main = posixpath.normpath((rel.get("Target") or "").lstrip("/"))
                strict = kind.startswith(STRICT_NAMESPACE_ROOT)
                break
    extension = _extension(xml("[Content_Types].xml"), main)
    return PackageIdentity(extension, strict, _properties(xml("docProps/custom.xml")))


def custom_properties(path: Path) -> dict[str, str]:
    """The workbook's custom document properties as text (empty when it has none)."""
    return identify(path).properties


def _extension(types: object | None, main: str) -> str:
    if types is None:
        return ".xlsx"
    found = ""
    for override in types.iter(f"{_CT}Override"):  # type: ignore[attr-defined]
        if (override.get("PartName") or "").lstrip("/").casefold() == main.casefold():
            found = override.get("ContentType") or ""
    if not found:
        ext = main.rpartition(".")[2].casefold()
        for default in types.iter(f"{_CT}Default"):  # type: ignore[attr-defined]
            if (default.get("Extension") or "").casefold() == ext:
                found = default.get("ContentType") or ""
    return EXTENSIONS.get(found.casefold().removesuffix("+xml"), ".xlsx")


def _properties(root: object | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if root is None:
        return out
    for prop in root.iter():  # type: ignore[attr-defined]
        if not str(prop.tag).endswith("}property"):  # transitional and Strict namespaces alike
            continue
        name = prop.get("name")
        value = next(iter(prop), None)
        if name and value is not None:
            out[name] = value.text or ""
    return out


def check_extension(out: Path, extension: str, *, source: Path | None = None) -> None:
    """Refuse an output whose extension differs from the one its content calls for (Excel would not open it)."""
    if out.suffix.casefold() == extension:
        return
    from ..errors import OutputError

    fixed = out.with_suffix(extension).name
    if extension in (".xlsm", ".xltm"):
        what = f"{source.name}'s macros" if source is not None else "macros"
        raise OutputError(
            f"{out.name} would hold {what}, and Excel refuses to open a macro-enabled workbook named "
            f"{out.suffix or 'without an extension'}; name the output {fixed}"
        )
    raise OutputError(
        f"{out.name} would hold {_KINDS[extension]}, which Excel opens only under the extension {extension}; "
        f"name the output {fixed}"
    )


_KINDS = {".xlsx": "an Excel workbook", ".xltx": "an Excel template"}
