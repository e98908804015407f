"""The coalition's cycle over many copies: packets out, merge of the returns, diff of two versions, and
upgrade of an older template. Imports every layer below it (``plan``, ``xlsx``, ``workbook``, ``audit``)."""
