"""A small plan for the mail tests: members with non-ASCII names, one without an email, an overdue step, an
undated step and member text that HTML would take for markup.

Import from tests as ``from mail_plans import ...`` (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from plans import AS_OF, add, add_step, clean_plan, get

from reentry_workbook.plan import schema
from reentry_workbook.plan.model import Plan
from reentry_workbook.workbook.generate import write_plan_workbook

COALITION = "Coalición de Reingreso del Condado Peñasco"
COORDINATOR = ("Dana Whitfield", "dana@example.org")
MARIA = ("María López", "maria@example.org")
SAM = ("Sam Okafor", "sam@example.org")
NO_EMAIL = "Jo Quinn"  # responsible for a step, on the Stakeholders sheet without an email
MARKUP_STEP = "Agree <b>fee</b> waiver & ID with the state DMV"


def mail_plan() -> Plan:
    plan = clean_plan()
    plan.coalition.update(name=COALITION, coordinator=COORDINATOR[0], coordinator_email=COORDINATOR[1])
    for step in plan.rows("steps"):
        if step.get("responsible") in ("Maria Lopez", "maria  LOPEZ"):
            step.values["responsible"] = MARIA[0]
    get(plan, "steps", "A-1").values["due_date"] = AS_OF - dt.timedelta(days=20)  # overdue
    a4 = get(plan, "steps", "A-4")
    a4.values.update(step=MARKUP_STEP, due_date=None)  # no due date
    get(plan, "steps", "A-5").values["responsible"] = NO_EMAIL
    soon = AS_OF + dt.timedelta(days=30)
    add_step(plan, "A-6", "I-3", "Book the DMV van for the jail", responsible=MARIA[0], due_date=soon)
    role = schema.CHOICES["role"][2]
    for name, email in (MARIA, SAM, (NO_EMAIL, None)):
        add(plan, "stakeholders", name=name, organization="Peñasco", role=role, email=email)
    return plan


def write_mail_plan(folder: Path) -> Path:
    return write_plan_workbook(folder / "master.xlsx", mail_plan())
