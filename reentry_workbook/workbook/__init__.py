"""The plan workbook as written: the generator (XlsxWriter), its formats, validations, Lists sheet and
Start Here sheet, and the bundled example plan. Imports ``plan`` and ``xlsx``."""
