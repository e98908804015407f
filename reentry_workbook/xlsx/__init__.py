"""The file format and nothing of plans: the guard that checks a file before any parser sees it, the raw
cell reader, the package layer that edits a workbook part by part, and atomic writes. Imports only the
standard library, its own libraries and ``reentry_workbook.errors``."""
