"""Email and nothing of plans: reading .eml files and mbox mailboxes (with forwarded messages), saving the
workbooks attached to them through the same guards as files, building messages with a text and an HTML body
and attachments, and sending them over SMTP. Imports only the standard library, ``reentry_workbook.errors``
and ``xlsx``."""
