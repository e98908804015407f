"""The mail layer's parts: safe attachment names, mailbox splitting, server addresses."""

from __future__ import annotations

import email.policy
import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest

from reentry_workbook.errors import UsageError
from reentry_workbook.mail.compose import valid_address
from reentry_workbook.mail.names import MAX_NAME, safe_name, unique_name
from reentry_workbook.mail.read import is_mail, read_mail
from reentry_workbook.mail.send import parse_server


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../x.xlsx", "x.xlsx"),
        ("..\\..\\Windows\\x.xlsx", "x.xlsx"),
        ("/etc/passwd", "passwd"),
        ("C:\\Users\\maria\\Plan v3.xlsx", "Plan v3.xlsx"),
        ("CON.xlsx", "_CON.xlsx"),
        ("plan<1>?.xlsx", "plan_1_.xlsx"),
        ("..", "attachment.xlsx"),
        (".hidden.xlsx", "hidden.xlsx"),  # not hidden once saved
        ("", "attachment.xlsx"),
        ("plan\x00.xlsx", "plan_.xlsx"),
        ("Plan\u0301 final.xlsx", "Plań final.xlsx"),  # NFC: one character, as the OS shows it
    ],
)
def test_attachment_names_are_plain_file_names(raw: str, safe: str) -> None:
    assert safe_name(raw, "attachment.xlsx") == safe


def test_long_names_keep_their_extension_and_names_never_repeat() -> None:
    long = safe_name("x" * 500 + ".xlsx", "attachment.xlsx")
    assert long.endswith(".xlsx") and len(long) <= MAX_NAME
    taken: set[str] = {"plan.xlsx"}
    assert [unique_name(n, taken) for n in ("Plan.xlsx", "plan.xlsx", "other")] == [
        "Plan (2).xlsx",
        "plan (3).xlsx",
        "other",
    ]


def test_server_addresses() -> None:
    assert parse_server("smtp.example.org") == ("smtp.example.org", 587)
    assert parse_server("smtp.example.org", security="ssl") == ("smtp.example.org", 465)
    assert parse_server("relay:2525") == ("relay", 2525)
    assert parse_server("[::1]:25") == ("::1", 25)
    for bad in ("", "host:port", "host:0", "host:70000"):
        with pytest.raises(UsageError, match="HOST:PORT"):
            parse_server(bad)


def test_email_addresses_from_the_stakeholders_sheet() -> None:
    assert valid_address(" maria@example.org ") == "maria@example.org"
    assert valid_address("mailto:maria@example.org") == "maria@example.org"
    for bad in ("maria at example.org", "maria@", "Maria <maria@example.org>", None, 42, "maría@example.org"):
        assert valid_address(bad) is None


def test_a_thunderbird_mailbox_without_extension_and_escaped_from_lines(tmp_path: Path) -> None:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = "Sam Okafor <sam@example.org>"
    msg["Subject"] = "Re: plan"
    msg.set_content("From now on I will send it on time.\n>From the old days.\n")
    box = mailbox.mbox(tmp_path / "Inbox")  # Thunderbird names a folder's mailbox without an extension
    box.add(msg)
    box.add(msg)
    box.close()
    assert is_mail(tmp_path / "Inbox") and not is_mail(tmp_path / "missing")
    (out := tmp_path / "out").mkdir()
    found = read_mail([tmp_path / "Inbox"], out)
    assert [(f.message.number, f.note) for f in found] == [(1, "no workbook attached"), (2, "no workbook attached")]
    assert all(f.message.sender and f.message.sender.address == "sam@example.org" for f in found)
    assert list(out.iterdir()) == []
