"""From a workbook to a report: the reader, the rules, the figures, the report and its three renderings
(terminal, JSON, the Alignment Summary sheet), the audit pipeline and the batch audit with its roll-up.
Imports ``plan``, ``xlsx`` and ``workbook``."""
