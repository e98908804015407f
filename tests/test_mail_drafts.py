"""Drafts out: `packets --drafts` writes one email per member that mail programs open, and `--send` sends
them through a real SMTP server (STARTTLS, a login) on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from mail_plans import COALITION, COORDINATOR, MARIA, MARKUP_STEP, NO_EMAIL, SAM, write_mail_plan
from plans import AS_OF
from smtp_server import PASSWORD, USER, implicit_tls_server_fixture, starttls_server_fixture

from reentry_workbook.audit.reader import read_plan
from reentry_workbook.cli import cli
from reentry_workbook.cli.mail_commands import PASSWORD_ENV
from reentry_workbook.cycle.packets import read_packet_identity
from reentry_workbook.mail.compose import ATTACHMENT_TYPES, DRAFT_HEADER

REPLY_BY = dt.date(2027, 3, 19)
FIXTURES = (starttls_server_fixture, implicit_tls_server_fixture)  # smtp_server, smtps_server
XLSX_TYPE = "/".join(ATTACHMENT_TYPES[".xlsx"])


def parse(path: Path) -> EmailMessage:
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def run_packets(master: Path, tmp: Path, *extra: str, env: dict[str, str] | None = None) -> Any:
    args = ["packets", str(master), "-o", str(tmp / "packets"), "--drafts", str(tmp / "drafts")]
    args += ["--reply-by", REPLY_BY.isoformat(), "--as-of", AS_OF.isoformat(), *extra]
    return CliRunner().invoke(cli, args, env=env)


def test_every_draft_parses_and_carries_that_members_packet(tmp_path: Path) -> None:
    master = write_mail_plan(tmp_path)
    result = run_packets(master, tmp_path)
    assert result.exit_code == 0, result.output
    drafts = sorted((tmp_path / "drafts").glob("*.eml"))
    packets = {p.stem: p for p in (tmp_path / "packets").glob("*.xlsx")}
    assert {d.stem for d in drafts} == set(packets)
    recipients = {}
    for draft in drafts:
        raw = draft.read_bytes()
        assert raw.split(b"\r\n\r\n")[0].isascii()  # headers encoded (RFC 2047/2231), never raw UTF-8
        msg = parse(draft)
        assert msg[DRAFT_HEADER] == "1"
        assert COALITION in msg["Subject"] and "Friday 19 March 2027" in msg["Subject"]
        sender = msg["From"].addresses[0]
        assert (sender.display_name, sender.addr_spec) == COORDINATOR
        assert msg["Reply-To"].addresses[0].addr_spec == COORDINATOR[1]
        text = msg.get_body(preferencelist=("plain",)).get_content()
        html = msg.get_body(preferencelist=("html",)).get_content()
        (attachment,) = list(msg.iter_attachments())
        assert attachment.get_content_type() == XLSX_TYPE
        assert attachment.get_filename() == packets[draft.stem].name
        saved = tmp_path / "opened" / attachment.get_filename()
        saved.parent.mkdir(exist_ok=True)
        saved.write_bytes(attachment.get_content())
        identity = read_packet_identity(saved)
        assert identity is not None and identity.member.startswith(draft.stem.split(" (")[0][:4])
        for step in read_plan(saved).plan.rows("steps"):
            if step.get("status") == "Not started":
                assert step.id in text and step.id in html
        to = msg["To"].addresses if msg["To"] else ()
        recipients[identity.member] = [(a.display_name, a.addr_spec) for a in to]
    assert recipients[MARIA[0]] == [MARIA] and recipients[SAM[0]] == [SAM]
    assert recipients[NO_EMAIL] == []  # a draft without a recipient, and said on the terminal
    assert f"{NO_EMAIL}.eml" in result.output and "no email address" in result.output

    maria = parse(tmp_path / "drafts" / f"{MARIA[0]}.eml")
    text = maria.get_body(preferencelist=("plain",)).get_content()
    html = maria.get_body(preferencelist=("html",)).get_content()
    overdue, coming, undated = (text.index(t) for t in ("Overdue (1)", "Coming up (1)", "No due date yet (1)"))
    assert overdue < text.index("A-1") < coming < text.index("A-6") < undated < text.index("A-4")
    assert "A-2" not in text  # complete: nothing to do
    assert MARKUP_STEP in text and "&lt;b&gt;fee&lt;/b&gt; waiver &amp; ID" in html and "<b>fee" not in html
    assert f"Dear {MARIA[0]}" in text and f"Dear {MARIA[0]}" in html


def test_jobs_reaches_the_packets_written_with_drafts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import concurrent.futures

    def no_pool(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("--jobs 1 writes the packets in this process")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_pool)
    master = write_mail_plan(tmp_path)
    result = run_packets(master, tmp_path, "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "packets").glob("*.xlsx"))) > 1


def test_nothing_is_sent_without_send_and_send_needs_a_server(tmp_path: Path) -> None:
    master = write_mail_plan(tmp_path)
    result = run_packets(master, tmp_path, "--smtp", "127.0.0.1:9")
    assert result.exit_code == 2 and "add --send" in result.output
    assert not (tmp_path / "drafts").exists()
    result = run_packets(master, tmp_path, "--send")
    assert result.exit_code == 2 and "--smtp HOST" in result.output


def test_send_over_starttls_with_login_delivers_and_reports_a_refused_recipient(
    tmp_path: Path, smtp_server: Any
) -> None:
    inbox, address = smtp_server
    master = write_mail_plan(tmp_path)
    env = {PASSWORD_ENV: PASSWORD}
    result = run_packets(master, tmp_path, "--send", "--smtp", address, "--smtp-user", USER, env=env)
    assert result.exit_code == 2, result.output  # one message failed
    assert SAM[1] in result.output and "550" in result.output and "Sent 1 of 2" in result.output

    (arrived,) = inbox.messages  # María's; Sam's was refused; Jo has no address, so nothing was tried
    mail_from, rcpt, content = arrived
    assert mail_from == COORDINATOR[1] and rcpt == [MARIA[1]]
    msg = email.message_from_bytes(content, policy=email.policy.default)
    assert msg[DRAFT_HEADER] is None
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_filename() == f"{MARIA[0]}.xlsx"
    assert attachment.get_content() == (tmp_path / "packets" / f"{MARIA[0]}.xlsx").read_bytes()

    kept = {p.stem: parse(p) for p in (tmp_path / "drafts").glob("*.eml")}
    assert kept[MARIA[0]][DRAFT_HEADER] is None  # kept as sent
    assert kept[SAM[0]][DRAFT_HEADER] == "1"  # still a draft, to send by hand
    assert kept[NO_EMAIL][DRAFT_HEADER] == "1"


def test_a_wrong_password_is_one_line_and_exit_2(tmp_path: Path, smtp_server: Any) -> None:
    inbox, address = smtp_server
    master = write_mail_plan(tmp_path)
    env = {PASSWORD_ENV: "wrong"}
    result = run_packets(master, tmp_path, "--send", "--smtp", address, "--smtp-user", USER, env=env)
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "refused the user name or password" in errors[0] and "Traceback" not in result.output
    assert inbox.messages == []
    assert all(parse(p)[DRAFT_HEADER] == "1" for p in (tmp_path / "drafts").glob("*.eml"))  # drafts kept


def test_plain_smtp_is_refused_unless_asked(tmp_path: Path, smtp_server: Any) -> None:
    """STARTTLS is required by default; --smtp-insecure against a TLS-requiring server is refused by it."""
    _inbox, address = smtp_server
    master = write_mail_plan(tmp_path)
    env = {PASSWORD_ENV: PASSWORD}
    result = run_packets(master, tmp_path, "--send", "--smtp", address, "--smtp-insecure", "--smtp-user", USER, env=env)
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_implicit_tls_with_smtp_ssl(tmp_path: Path, smtps_server: Any) -> None:
    inbox, address = smtps_server
    master = write_mail_plan(tmp_path)
    env = {PASSWORD_ENV: PASSWORD}
    result = run_packets(master, tmp_path, "--send", "--smtp", address, "--smtp-ssl", env=env)
    assert result.exit_code == 2 and "Sent 1 of 2" in result.output  # Sam's address is refused here too
    assert [rcpt for _from, rcpt, _content in inbox.messages] == [[MARIA[1]]]


def test_an_untrusted_certificate_is_one_line(
    tmp_path: Path, smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, address = smtp_server
    monkeypatch.delenv("SSL_CERT_FILE")
    master = write_mail_plan(tmp_path)
    env = {PASSWORD_ENV: PASSWORD}
    result = run_packets(master, tmp_path, "--send", "--smtp", address, "--smtp-user", USER, env=env)
    assert result.exit_code == 2 and "could not be verified" in result.output and "Traceback" not in result.output
    assert inbox.messages == []


def test_a_member_typed_without_accents_still_finds_their_email() -> None:
    from mail_plans import mail_plan

    from reentry_workbook.cycle.drafts import recipient_of

    plan = mail_plan()
    assert recipient_of(plan, "maria  LOPEZ") == recipient_of(plan, MARIA[0])
    assert recipient_of(plan, MARIA[0]).address == MARIA[1]
    assert recipient_of(plan, NO_EMAIL) is None and recipient_of(plan, "Someone Else") is None
