"""One email to the coalition: `brief PLAN --drafts DIR` carries the brief to every stakeholder with an email."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from mail_plans import COALITION, COORDINATOR, MARIA, SAM, write_mail_plan
from opened import count_opens
from plans import AS_OF
from smtp_server import PASSWORD, USER, starttls_server_fixture

from reentry_workbook.audit.pipeline import audit_plan
from reentry_workbook.cli import cli
from reentry_workbook.cli.mail_commands import PASSWORD_ENV
from reentry_workbook.cycle.brief_mail import BRIEF_NAME
from reentry_workbook.cycle.roundtrip import sheet_names
from reentry_workbook.mail.compose import ATTACHMENT_TYPES, DRAFT_HEADER
from reentry_workbook.plan import schema

HOUSING = "info@example.org"  # the plan's other stakeholder with an email
FIXTURES = (starttls_server_fixture,)  # smtp_server


def _brief_draft(tmp_path: Path, *extra: str) -> email.message.EmailMessage:
    master = write_mail_plan(tmp_path)
    drafts = tmp_path / "drafts"
    args = ["brief", str(master), "--drafts", str(drafts), "--as-of", AS_OF.isoformat(), *extra]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    (draft,) = drafts.glob("*.eml")
    return email.message_from_bytes(draft.read_bytes(), policy=email.policy.default)


def _addresses(msg: email.message.EmailMessage, header: str) -> set[str]:
    return {a.addr_spec for a in msg[header].addresses} if msg[header] else set()


def test_the_brief_goes_to_every_stakeholder_with_the_audited_plan(tmp_path: Path) -> None:
    msg = _brief_draft(tmp_path)
    assert msg[DRAFT_HEADER] == "1"
    assert _addresses(msg, "To") == {MARIA[1], SAM[1], HOUSING} and not msg["Bcc"]
    assert msg["From"].addresses[0].addr_spec == COORDINATOR[1] and COALITION in msg["Subject"]
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert COALITION in text and html.lstrip().lower().startswith("<!doctype html")
    attachments = {a.get_filename(): a for a in msg.iter_attachments()}
    assert set(attachments) == {"master.audited.xlsx", BRIEF_NAME}
    audited = attachments["master.audited.xlsx"]
    assert audited.get_content_type() == "/".join(ATTACHMENT_TYPES[".xlsx"])
    saved = tmp_path / "opened.xlsx"
    saved.write_bytes(audited.get_content())
    assert sheet_names(saved)[0] == schema.SUMMARY_SHEET
    assert audit_plan(saved, as_of=AS_OF).summary.coalition == COALITION


def test_bcc_hides_the_stakeholders_from_each_other(tmp_path: Path) -> None:
    msg = _brief_draft(tmp_path, "--bcc")
    assert _addresses(msg, "To") == {COORDINATOR[1]}
    assert _addresses(msg, "Bcc") == {MARIA[1], SAM[1], HOUSING}


def test_brief_needs_somewhere_to_go(tmp_path: Path) -> None:
    master = write_mail_plan(tmp_path)
    result = CliRunner().invoke(cli, ["brief", str(master)])
    assert result.exit_code == 2 and "--drafts" in result.output


def test_sending_the_brief_in_bcc_reaches_everyone_the_server_accepts(tmp_path: Path, smtp_server: Any) -> None:
    inbox, address = smtp_server  # refuses Sam's address
    master = write_mail_plan(tmp_path)
    drafts = tmp_path / "sent"
    args = ["brief", str(master), "--drafts", str(drafts), "--bcc", "--as-of", AS_OF.isoformat()]
    args += ["--send", "--smtp", address, "--smtp-user", USER]
    result = CliRunner().invoke(cli, args, env={PASSWORD_ENV: PASSWORD})
    assert result.exit_code == 2 and SAM[1] in result.output and "550" in result.output  # reported
    (arrived,) = inbox.messages  # one message, to every address the server took
    mail_from, rcpt, content = arrived
    assert mail_from == COORDINATOR[1] and sorted(rcpt) == sorted([COORDINATOR[1], MARIA[1], HOUSING])
    sent = email.message_from_bytes(content, policy=email.policy.default)
    assert sent["Bcc"] is None and _addresses(sent, "To") == {COORDINATOR[1]}  # no one sees the others
    (kept,) = drafts.glob("*.eml")  # kept as sent, Bcc and all, for the record
    assert _addresses(email.message_from_bytes(kept.read_bytes(), policy=email.policy.default), "Bcc") == {
        MARIA[1],
        SAM[1],
        HOUSING,
    }


def test_the_page_and_the_email_come_from_one_audit(tmp_path: Path, monkeypatch: Any) -> None:
    # -o and --drafts together audit the plan once: the page written is the page sent, and asking for the page
    # as well opens the plan no more often than the email alone does.
    master = write_mail_plan(tmp_path)
    as_of = ["--as-of", AS_OF.isoformat()]
    opens = count_opens(monkeypatch)
    alone = CliRunner().invoke(cli, ["brief", str(master), "--drafts", str(tmp_path / "d1"), *as_of])
    assert alone.exit_code == 0, alone.output
    email_only = opens[master.name]
    opens.clear()
    page = tmp_path / "brief.html"
    both = CliRunner().invoke(cli, ["brief", str(master), "-o", str(page), "--drafts", str(tmp_path / "d2"), *as_of])
    assert both.exit_code == 0, both.output
    assert opens[master.name] == email_only
    (draft,) = (tmp_path / "d2").glob("*.eml")
    msg = email.message_from_bytes(draft.read_bytes(), policy=email.policy.default)
    sent = next(a for a in msg.iter_attachments() if a.get_filename() == BRIEF_NAME)
    assert sent.get_payload(decode=True) == page.read_bytes()
