"""Returns straight from the mail: `audit` reads .eml files, .mbox mailboxes and folders of them, and each
workbook attached is a return labelled with who sent it and when; hostile mail gets one line each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
from click.testing import CliRunner
from mail_plans import MARIA, NO_EMAIL, SAM
from mail_returns import ASSISTANT, XLSX, build_returns
from member_edits import table
from plans import AS_OF

from reentry_workbook.audit.reader import read_plan
from reentry_workbook.audit.rollup_sheet import COLUMNS, ROLLUP_SHEET
from reentry_workbook.cli import cli
from reentry_workbook.cycle.merge_model import NOT_MERGED
from reentry_workbook.cycle.merge_sheets import CONFLICT_HEADERS, LOG_HEADERS
from reentry_workbook.plan import schema

ROW_FIGURES = ("coalition", "responsible", "alignment", "completeness", "counts", "overdue", "reason")


def audit_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["audit", *args, "--as-of", AS_OF.isoformat(), "--json", "--jobs", "1"])
    return result.exit_code, json.loads(result.output)


def test_audit_of_mail_equals_the_audit_of_the_same_attachments_as_files(tmp_path: Path) -> None:
    returns = build_returns(tmp_path)
    code, by_mail = audit_json(str(returns.folder), "-o", str(tmp_path / "audited-mail"))
    files = (returns.maria_first, returns.maria_second, returns.sam)
    file_code, by_file = audit_json(*map(str, files), "-o", str(tmp_path / "audited-files"))
    assert code == file_code

    rows = by_mail["files"]
    mailed = [r for r in rows if r["attachment"]]
    assert [(r["sender"], r["attachment"]) for r in mailed] == [
        (f"{MARIA[0]} <{MARIA[1]}>", f"{MARIA[0]}.xlsx"),
        (f"{MARIA[0]} <{MARIA[1]}>", f"{MARIA[0]} (2).xlsx"),
        (f"{ASSISTANT[0]} <{ASSISTANT[1]}>", f"{SAM[0]}.xlsx"),
    ]
    assert "first sent by" in mailed[2]["note"] and SAM[1] in mailed[2]["note"]
    assert mailed[0]["sent"].startswith("2027-03-02T09:15") and mailed[1]["sent"].startswith("2027-03-04T16:40")
    for got, want in zip(mailed, by_file["files"], strict=True):
        assert {k: got[k] for k in ROW_FIGURES} == {k: want[k] for k in ROW_FIGURES}

    empty = [r for r in rows if not r["attachment"]]  # listed, not errors
    assert [(r["sender"].split(" <")[0], r["reason"]) for r in empty] == [(NO_EMAIL, None), (SAM[0], None)]
    assert empty[0]["note"] == "no workbook attached" and "minutes.pdf" in empty[1]["note"]

    book = openpyxl.load_workbook(tmp_path / "audited-mail" / "rollup.xlsx", read_only=True)
    table = list(book[ROLLUP_SHEET].iter_rows(values_only=True))
    assert list(table[0]) == [title for title, _width in COLUMNS]
    sent_by = [row[list(table[0]).index("Sent by")] for row in table[1:]]
    assert sent_by[:3] == [mailed[0]["sender"], mailed[1]["sender"], mailed[2]["sender"]]
    book.close()
    copies = sorted(p.name for p in (tmp_path / "audited-mail").glob("*.audited.xlsx"))
    assert copies == [f"{MARIA[0]} (2).audited.xlsx", f"{MARIA[0]}.audited.xlsx", f"{SAM[0]}.audited.xlsx"]


def test_audit_terminal_says_who_sent_what(tmp_path: Path) -> None:
    returns = build_returns(tmp_path)
    result = CliRunner().invoke(
        cli, ["audit", str(returns.folder / "replies.mbox"), "--no-copy", "--as-of", AS_OF.isoformat()]
    )
    assert result.exit_code in (0, 1), result.output
    assert f"from {MARIA[0]} <{MARIA[1]}> on 2027-03-04 16:40 (replies.mbox, message 1)" in result.output
    assert "no workbook attached" in result.output
    assert "2 returns: 2 audited, 0 unusable, 2 messages with no workbook" in result.output


def test_merge_of_mail_equals_the_merge_of_the_latest_attachments_as_files(tmp_path: Path) -> None:
    returns = build_returns(tmp_path)
    by_mail, by_files = tmp_path / "by-mail.xlsx", tmp_path / "by-files.xlsx"
    result = CliRunner().invoke(cli, ["merge", str(returns.master), str(returns.folder), "-o", str(by_mail)])
    assert result.exit_code == 0, result.output
    files = CliRunner().invoke(cli, ["merge", str(returns.master), str(returns.maria_second), str(returns.sam),
                                     "-o", str(by_files)])
    assert files.exit_code == 0, files.output

    mailed, filed = read_plan(by_mail).plan, read_plan(by_files).plan
    assert mailed.coalition == filed.coalition
    for sheet in schema.SHEETS:
        assert [r.values for r in mailed.rows(sheet.key)] == [r.values for r in filed.rows(sheet.key)], sheet.name
    steps = {r.id: r for r in mailed.rows("steps")}
    assert steps["A-1"].get("status") == "Complete"  # María's later reply, not her first
    assert steps["A-3"].get("notes") == "Ten staff trained"  # Sam's, forwarded by Pat

    maria, pat = f"{MARIA[0]} <{MARIA[1]}>", f"{ASSISTANT[0]} <{ASSISTANT[1]}>"
    sender = "Sender"
    assert sender in {h for h, _w in LOG_HEADERS} and sender in {h for h, _w in CONFLICT_HEADERS}
    log = table(by_mail, schema.MERGE_LOG_SHEET, LOG_HEADERS[0][0])
    assert {row[sender] for row in log if row.get(sender)} >= {maria, pat}
    (superseded,) = [row for row in log if "superseded" in str(row.get("Note"))]
    assert superseded[sender] == maria and superseded["Action"] == NOT_MERGED
    assert superseded["Received"].startswith("2027-03-02")
    left = [row for row in log if row["Action"] == NOT_MERGED]
    assert len(left) == 3  # the first reply, Jo's message without a workbook, Sam's minutes
    conflicts = table(by_mail, schema.MERGE_CONFLICTS_SHEET, CONFLICT_HEADERS[0][0])
    assert {row[sender] for row in conflicts} == {maria, pat}
    assert "superseded by" in result.output and maria in result.output


def test_progress_counts_the_files_given_not_the_attachments(tmp_path: Path) -> None:
    from reentry_workbook.audit.batch import audit_many
    from reentry_workbook.audit.inputs import expand_inputs

    returns = build_returns(tmp_path)
    inputs = expand_inputs([returns.folder]).items
    steps: list[int] = []
    batch = audit_many(inputs, as_of=AS_OF, write=False, jobs=2, progress=steps.append)
    assert len(inputs) == 2 and sum(steps) == 2 and len(batch.rows) == 5


# --- hostile mail -------------------------------------------------------------------------------------------

BOUNDARY = "==hostile=="


def _raw(sender: str, subject: str, parts: list[str], content_type: str | None = None) -> bytes:
    head = f"From: {sender}\r\nTo: dana@example.org\r\nSubject: {subject}\r\nDate: Thu, 04 Mar 2027 16:40:00 -0500\r\n"
    head += f"MIME-Version: 1.0\r\nContent-Type: {content_type or f'multipart/mixed; boundary={BOUNDARY!r}'}\r\n\r\n"
    body = "".join(f"--{BOUNDARY}\r\n{p}\r\n" for p in parts) + f"--{BOUNDARY}--\r\n"
    return (head + body).replace("'", '"').encode()


def _part(name: str, data: bytes, extra: str = "") -> str:
    import base64

    return (
        f"Content-Type: {'/'.join(XLSX)}\r\nContent-Disposition: attachment; filename=\"{name}\"{extra}\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{base64.encodebytes(data).decode()}"
    )


def _tree(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def test_hostile_mail_gets_one_line_each_and_nothing_is_written_outside_the_output(tmp_path: Path) -> None:
    from bad_inputs import build_case

    (tmp_path / "plan").mkdir()
    returns = build_returns(tmp_path / "plan")
    workbook = returns.sam.read_bytes()
    bomb = build_case("zip-bomb", tmp_path / "cases").read_bytes()
    hostile = tmp_path / "deep" / "er" / "hostile"
    hostile.mkdir(parents=True)
    text = "Content-Type: text/plain\r\n\r\nsee attached"
    (hostile / "climb.eml").write_bytes(_raw("eve@example.org", "climb", [text, _part("../../x.xlsx", workbook)]))
    big = _part("big.xlsx", b"PK\x03\x04 not really", "; size=2147483648")
    (hostile / "big.eml").write_bytes(_raw("eve@example.org", "big", [text, big]))
    (hostile / "bomb.eml").write_bytes(_raw("eve@example.org", "bomb", [text, _part("bomb.xlsx", bomb)]))
    broken = _raw("eve@example.org", "broken", [text, _part("lost.xlsx", workbook)], content_type="multipart/mixed")
    (hostile / "broken.eml").write_bytes(broken)
    nested = text
    for level in range(30):
        nested = f"Content-Type: multipart/mixed; boundary=n{level}\r\n\r\n--n{level}\r\n{nested}\r\n--n{level}--"
    (hostile / "nested.eml").write_bytes(_raw("eve@example.org", "nested", [nested]))
    for level in range(30, 1000):
        nested = f"Content-Type: multipart/mixed; boundary=n{level}\r\n\r\n--n{level}\r\n{nested}\r\n--n{level}--"
    (hostile / "maze.eml").write_bytes(_raw("eve@example.org", "maze", [nested]))
    forwarded = text
    for level in range(3000):  # forwarded in forwarded...: deeper than the standard parser's recursion goes
        forwarded = f"Content-Type: message/rfc822\r\n\r\nSubject: {level}\r\n{forwarded}"
    (hostile / "abyss.eml").write_bytes(_raw("eve@example.org", "abyss", [forwarded]))
    (hostile / "outlook.msg").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))

    before = _tree(tmp_path)
    out = hostile / "audited"
    result = CliRunner().invoke(cli, ["audit", str(hostile), "-o", str(out), "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 2, result.output  # unusable returns
    assert "Traceback" not in result.output
    lines = result.output.splitlines()

    def line(*words: str) -> str:
        found = [x for x in lines if all(w in x for w in words)]
        assert len(found) == 1, (words, result.output)
        return found[0]

    line("big.xlsx", "unusable", "larger than 100 MB")
    line("bomb.xlsx", "unusable", "zip bomb")
    line("broken.eml", "unusable", "damaged MIME structure")
    line("nested.eml", "unusable", "levels deep")
    line("maze.eml", "unusable", "nested parts")
    line("abyss.eml", "unusable", "thousands of levels deep")
    line("outlook.msg", "unusable", "Outlook", "Save As")
    line("x.xlsx", "100%")  # the climbing name is made safe, and the workbook audited
    line("attached as '../../x.xlsx', saved as 'x.xlsx'")
    written = _tree(tmp_path) - before
    assert written and all(out in p.parents or p == out for p in written), sorted(map(str, written))
    assert (out / "x.audited.xlsx").is_file() and not list(tmp_path.rglob("x.xlsx"))

    merged = out / "merged.xlsx"
    result = CliRunner().invoke(cli, ["merge", str(returns.master), str(hostile), "-o", str(merged)])
    assert result.exit_code == 2 and "Traceback" not in result.output  # written, and the refused ones listed
    lines = result.output.splitlines()
    for words in (("big.xlsx", "larger than 100 MB"), ("bomb.xlsx", "zip bomb"), ("broken.eml", "damaged MIME")):
        line(*words)
    assert merged.is_file()
    written = _tree(tmp_path) - before
    assert all(out in p.parents or p == out for p in written), sorted(map(str, written))
