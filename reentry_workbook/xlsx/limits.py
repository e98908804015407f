"""What the guard accepts (file size, parts, declared sizes, compression ratio, Excel's grid), the zip
format's signatures, and the words its messages share."""

from __future__ import annotations

import zipfile
from pathlib import Path

# --------------------------------------------------------------------------------------------------------------
# Limits (a coalition's plan workbook is a few hundred kilobytes; these leave room for pictures and big sheets)
# --------------------------------------------------------------------------------------------------------------

MB = 1_000_000

MAX_FILE_BYTES = 100 * MB  # size of the file on disk
MAX_MEMBERS = 10_000  # parts in the package (a workbook has a few dozen)
MAX_CENTRAL_DIRECTORY_BYTES = 8 * MB  # the zip's table of contents, checked before it is parsed
MAX_TOTAL_UNCOMPRESSED = 200 * MB  # sum of the declared uncompressed sizes
MAX_MEMBER_UNCOMPRESSED = 100 * MB  # declared uncompressed size of any one part
MAX_RATIO = 200  # uncompressed : compressed, judged for parts larger than RATIO_MIN_BYTES
RATIO_MIN_BYTES = 4 * MB
MAX_PROLOG_BYTES = 64 * 1024  # an XML part must reach its root element within this many bytes
MAX_META_PART_BYTES = 1 * MB  # _rels/.rels, [Content_Types].xml and mimetype, read to classify the package
HEAD_BYTES = 8192  # bytes read from the start of a file to sniff its format

# Excel's grid; readers refuse cell coordinates beyond it.
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384

# Compression methods spreadsheet apps write (stored, deflate).
ALLOWED_COMPRESSION = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})

EOCD_SIG = b"PK\x05\x06"
ZIP64_LOCATOR_SIG = b"PK\x06\x07"
ZIP64_EOCD_SIG = b"PK\x06\x06"
SAVE_AS_XLSX = "save it as .xlsx (File > Save As > Excel Workbook), then run the command again"
ASK_AGAIN = "ask the sender for the plan workbook saved from Excel as .xlsx"
def shown_name(path: Path) -> str:
    """The file name as shown in a message: printable, on one line."""
    text = path.name or str(path)
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def megabytes(size: int) -> str:
    return f"{size / MB:,.0f} MB" if size >= MB else f"{size / 1000:,.0f} kB"
