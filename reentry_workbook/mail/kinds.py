"""Which files are mail: .eml messages, .mbox mailboxes (and Thunderbird's extension-less ones), Outlook's .msg.

Standard library only, and nothing of the email package: a command given workbooks asks this module whether
any of them is mail without loading what reading mail needs (:mod:`mail.read`).
"""

from __future__ import annotations

from pathlib import Path

EML_SUFFIX = ".eml"
MBOX_SUFFIX = ".mbox"
OUTLOOK_SUFFIX = ".msg"
MAIL_SUFFIXES: tuple[str, ...] = (EML_SUFFIX, MBOX_SUFFIX, OUTLOOK_SUFFIX)
MBOX_START = b"From "  # how every message of a mailbox starts


def is_mail(path: Path) -> bool:
    """True for a file to read as mail: by its extension, or an extension-less mailbox (Thunderbird's)."""
    suffix = path.suffix.lower()
    if suffix in MAIL_SUFFIXES:
        return True
    if suffix or not path.is_file():
        return False
    try:
        with path.open("rb") as fh:
            return fh.read(len(MBOX_START)) == MBOX_START
    except OSError:
        return False
