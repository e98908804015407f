"""The bundled example: a fictional county coalition's plan, as a ``Plan``.

Everything here is invented (people, offices, figures). The plan is complete and consistent at
``EXAMPLE_AS_OF`` except for the deliberate gaps in ``EXAMPLE_GAPS``, so an audit of the example has
exactly those to show. Dates are chosen around ``EXAMPLE_AS_OF``: finished steps fall before it, open
steps after it, and measure readings are recent enough for their reporting frequency.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..plan.model import Plan, Record

D = dt.date

EXAMPLE_AS_OF: dt.date = D(2027, 3, 1)

# (rule slug, row ID) of every deliberate gap; each is a different rule of the catalogue.
EXAMPLE_GAPS: tuple[tuple[str, str], ...] = (
    ("goal-without-improvement", "G-6"),
    ("resources-unsecured", "I-6"),
    ("improvement-without-measure", "I-9"),
    ("measure-without-baseline", "M-8"),
    ("step-overdue", "A-8"),
    ("step-without-owner", "A-14"),
    ("step-not-serving-goal", "A-21"),
    ("step-without-due-date", "A-27"),
)

# fmt: off

COALITION: dict[str, Any] = {
    "name": "Alder County Reentry Coalition",
    "jurisdiction": "Alder County",
    "plan_start": D(2026, 7, 1),
    "plan_end": D(2029, 6, 30),
    "coordinator": "Renata Okafor",
    "coordinator_email": "renata.okafor@example.org",
    "review_cadence": "Quarterly",
    "last_reviewed": D(2027, 1, 21),
}

# Name, organization, sector, role, email, notes.
STAKEHOLDERS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("Renata Okafor", "Alder County Reentry Coalition", "Community-based reentry providers", "Coalition member",
     "renata.okafor@example.org", "Coordinates the plan and runs the quarterly review."),
    ("Luis Ferreira", "Alder County Jail", "Jail administration", "Decision maker", "luis.ferreira@example.org",
     "Captain over programs and release."),
    ("Mei Tanaka", "Alder Behavioral Health Services", "Behavioral health providers", "Coalition member",
     "mei.tanaka@example.org", "Clinical director."),
    ("Harriet Vance", "Alder County Circuit Court", "Judges and court administration", "Decision maker",
     "harriet.vance@example.org", "Presiding judge; chairs the coalition's steering group."),
    ("Omar Haddad", "Northgate Workforce Board", "Workforce board and providers", "Coalition member",
     "omar.haddad@example.org", "Reentry employment lead."),
    ("Priya Raman", "Alder Housing Authority", "Public housing authority", "Decision maker",
     "priya.raman@example.org", "Deputy director for admissions."),
    ("Theo Brandt", "Second Street Shelter Network", "Housing providers", "Community partner",
     "theo.brandt@example.org", "Runs intake for three shelters."),
    ("Janelle Brooks", "Alder County Probation Department", "Probation, parole and community supervision",
     "Coalition member", "janelle.brooks@example.org", "Supervisor of the reentry caseload."),
    ("Marcus Bell", "Returning Voices", "People with lived experience of reentry and their families",
     "Coalition member", "marcus.bell@example.org", "Peer support organisation led by returning citizens."),
    ("Sofia Lindqvist", "Alder County Department of Social Services", "Department of social services", "Stakeholder",
     "sofia.lindqvist@example.org", "Eligibility unit manager."),
    ("Grace Mbeki", "Riverside Community Health Center", "Medical providers", "Community partner",
     "grace.mbeki@example.org", "Accepts same-week appointments for people released from jail."),
    ("Daniel Ortiz", "Alder County Board of Commissioners", "Elected officials", "Decision maker",
     "daniel.ortiz@example.org", "Chairs the commission's public safety committee."),
)

# ID, priority, why it matters, lead.
PRIORITIES: tuple[tuple[str, str, str, str], ...] = (
    ("P-1", "Stable housing after release",
     "Nearly a third of people leaving the jail name no fixed address, and most re-bookings within a "
     "year involve someone without stable housing.",
     "Priya Raman"),
    ("P-2", "Work and income",
     "Employment in the first three months after release is the strongest local predictor of staying "
     "out, yet only about one in five is working by then.",
     "Omar Haddad"),
    ("P-3", "Behavioral health and continuity of care",
     "Two in five people in the jail take psychiatric medication; most leave without a supply or an "
     "appointment.",
     "Mei Tanaka"),
)

# ID, priority, goal, success measure, baseline, target, target date.
GOALS: tuple[tuple[str, str, str, str, str, str, dt.date], ...] = (
    ("G-1", "P-1", "Halve the share of people released from the jail to no fixed address",
     "Share of releases to no fixed address", "31%", "15%", D(2028, 12, 31)),
    ("G-2", "P-1", "Lease 40 supportive housing units to people leaving custody",
     "Units leased within 60 days of release", "6", "40", D(2029, 3, 31)),
    ("G-3", "P-2", "Double employment 90 days after release", "Share employed 90 days after release", "22%", "45%",
     D(2029, 6, 30)),
    ("G-4", "P-2", "Everyone leaves with a state ID and benefit applications under way",
     "Share released with a state ID in hand", "38%", "90%", D(2028, 6, 30)),
    ("G-5", "P-3", "No gap in psychiatric medication at release",
     "Share released with a 30-day supply and a booked appointment", "40%", "85%", D(2028, 12, 31)),
    ("G-6", "P-3", "Screen everyone booked for mental health and substance use needs within 48 hours",
     "Share screened within 48 hours of booking", "55%", "95%", D(2028, 6, 30)),
)

# ID, goal, improvement, policy or practice, mechanism, stakeholders, buy-in, resources needed,
# resources secured, estimated cost.
IMPROVEMENTS: tuple[tuple[str, str, str, str, str, str, str, str, str, int], ...] = (
    ("I-1", "G-1", "Start release planning at booking for every stay over 7 days, with a housing screen", "Practice",
     "Agency practice or protocol", "Jail administration; jail case managers", "Committed",
     "A half-time release planner", "Yes", 38000),
    ("I-2", "G-1", "Shelters hold reserved beds for same-day referrals from the jail", "Practice",
     "Interagency agreement", "Second Street Shelter Network; Alder County Jail", "Supportive", "Four reserved beds",
     "Yes", 52000),
    ("I-3", "G-2", "Housing Authority stops automatic denials for convictions older than three years", "Policy",
     "Administrative policy", "Housing Authority board; Commissioner Ortiz", "Engaged",
     "Legal review of the admissions policy", "Yes", 5000),
    ("I-4", "G-2", "A county budget line for rental subsidies for people leaving custody", "Policy",
     "Budget or appropriation", "Board of Commissioners; County Administrator", "Supportive", "The subsidy fund",
     "Partly", 400000),
    ("I-5", "G-3", "Job readiness classes and employer matching inside the jail", "Both",
     "Program or service change", "Northgate Workforce Board; Alder County Jail", "Committed",
     "Two instructors and classroom time", "Yes", 90000),
    ("I-6", "G-3", "A fair-chance hiring ordinance for county jobs and county contractors", "Policy",
     "Legislative policy", "Board of Commissioners; chamber of commerce", "Engaged",
     "Staff time to draft it and a budget for public hearings", "No", 15000),
    ("I-7", "G-4", "A state ID mobile unit visits the jail every month", "Practice", "Interagency agreement",
     "State licensing office; Alder County Jail", "Committed", "Mobile unit visit fees", "Yes", 12000),
    ("I-8", "G-4", "Medicaid and food assistance applications filed 30 days before release", "Practice",
     "Agency practice or protocol", "Department of Social Services; jail case managers", "Supportive",
     "An eligibility worker at the jail two days a week", "Yes", 30000),
    ("I-9", "G-5",
     "A 30-day medication supply and a booked first appointment for everyone released on psychiatric "
     "medication",
     "Both", "Contract or grant requirement", "Jail medical contractor; Alder Behavioral Health Services",
     "Committed", "Pharmacy budget for the supply", "Yes", 60000),
    ("I-10", "G-5", "Peer navigators meet people at release and go with them to their first appointment", "Practice",
     "Program or service change", "Returning Voices; Alder Behavioral Health Services", "Committed",
     "Three part-time peer navigators", "Yes", 75000),
)

# ID, improvement, measure, data source, baseline, target, latest value, latest as of, reporting
# frequency.
MEASURES: tuple[tuple[str, str, str, str, str, str, str, dt.date, str], ...] = (
    ("M-1", "I-1", "Share of stays over 7 days with a release plan on file at release", "Jail management system",
     "12%", "90%", "64%", D(2027, 2, 15), "Monthly"),
    ("M-2", "I-1", "Share of release plans that include a housing referral", "Case management records", "20%", "80%",
     "58%", D(2027, 2, 15), "Monthly"),
    ("M-3", "I-2", "Same-day shelter placements from the jail per month", "Shelter intake log", "2", "20", "11",
     D(2027, 2, 15), "Monthly"),
    ("M-4", "I-3", "Applicants denied for criminal history per year", "Housing Authority admissions report", "48",
     "Under 10", "31", D(2026, 12, 31), "Quarterly"),
    ("M-5", "I-4", "Households leasing with the county subsidy", "Subsidy program records", "0", "40", "9",
     D(2027, 1, 31), "Quarterly"),
    ("M-6", "I-5", "Class graduates employed 90 days after release", "Workforce board case records", "18%", "50%",
     "34%", D(2026, 12, 31), "Quarterly"),
    ("M-7", "I-6", "New county contracts with a fair-chance hiring clause", "County procurement office", "0%",
     "100%", "0%", D(2026, 12, 31), "Twice a year"),
    ("M-8", "I-7", "State IDs issued at the jail per quarter", "Mobile unit visit log", "", "150", "96",
     D(2027, 1, 31), "Quarterly"),
    ("M-9", "I-8", "Share of people released with a Medicaid application filed", "Eligibility system", "25%", "90%",
     "71%", D(2027, 2, 15), "Monthly"),
    ("M-10", "I-10", "Share of people released who are met by a peer navigator", "Returning Voices case log", "0%",
     "70%", "52%", D(2027, 2, 15), "Monthly"),
)

# ID, improvement, action step, serves goal?, how it serves the goal, responsible, start date, due date,
# status, resources needed, last updated, notes.
STEPS: tuple[tuple[str, str, str, str, str, str, dt.date, dt.date | None, str, str, dt.date, str], ...] = (
    ("A-1", "I-1", "Agree the housing screen with jail case management", "Yes",
     "Every long stay gets asked about housing, the first link to an address", "Luis Ferreira", D(2026, 7, 6),
     D(2026, 8, 31), "Complete", "Staff time", D(2026, 8, 28), "Screen adopted on 25 August."),
    ("A-2", "I-1", "Hire the half-time release planner", "Yes",
     "Someone owns each plan, so referrals happen before release day", "Luis Ferreira", D(2026, 8, 1),
     D(2026, 11, 30), "Complete", "Funded in the jail budget", D(2026, 12, 2), "Started 16 November."),
    ("A-3", "I-1", "Train booking officers to flag people with no address", "Yes",
     "Flags start the housing referral on day one", "Luis Ferreira", D(2027, 1, 11), D(2027, 4, 30), "In progress",
     "Two training sessions", D(2027, 2, 20), ""),
    ("A-4", "I-2", "Sign the reserved-bed agreement with the shelter network", "Yes",
     "Guarantees a bed the same day for people released with nowhere to go", "Theo Brandt", D(2026, 7, 15),
     D(2026, 10, 31), "Complete", "", D(2026, 10, 20), "Signed by both boards."),
    ("A-5", "I-2", "Set up a release-day phone line between jail and shelter intake", "Yes",
     "Makes same-day referrals possible outside office hours", "Theo Brandt", D(2026, 11, 1), D(2027, 3, 31),
     "In progress", "A shared phone", D(2027, 2, 24), ""),
    ("A-6", "I-2", "Review bed use after six months and resize the agreement", "Yes",
     "Keeps the number of reserved beds matched to real demand", "Renata Okafor", D(2027, 5, 1), D(2027, 6, 30),
     "Not started", "", D(2027, 1, 21), ""),
    ("A-7", "I-3", "Collect three years of admission denials with reasons", "Yes",
     "Shows the board how many denials the policy change would prevent", "Priya Raman", D(2026, 7, 1),
     D(2026, 9, 30), "Complete", "Analyst time", D(2026, 9, 29), ""),
    ("A-8", "I-3", "Present the revised admissions policy to the Housing Authority board", "Yes",
     "The board vote is what changes the policy", "Priya Raman", D(2026, 10, 1), D(2027, 2, 12), "In progress", "",
     D(2027, 1, 8), "Board meeting moved twice."),
    ("A-9", "I-3", "Train admissions staff on the new screening rules", "Yes",
     "Staff apply the new rules from the first application", "Priya Raman", D(2027, 4, 1), D(2027, 6, 30),
     "Not started", "Half-day training", D(2027, 1, 21), ""),
    ("A-10", "I-4", "Cost a three-year rental subsidy pilot", "Yes",
     "Gives the commission a figure to put in the budget", "Renata Okafor", D(2026, 7, 1), D(2026, 10, 15),
     "Complete", "", D(2026, 10, 10), ""),
    ("A-11", "I-4", "Brief the public safety committee before budget hearings", "Yes",
     "Committee support is needed for the budget line", "Daniel Ortiz", D(2027, 1, 15), D(2027, 4, 15),
     "In progress", "", D(2027, 2, 18), ""),
    ("A-12", "I-4", "Agree subsidy rules with the Housing Authority", "Partly",
     "Needed before any household can lease, though the fund itself comes first", "Priya Raman", D(2027, 5, 1),
     D(2027, 9, 30), "Not started", "", D(2027, 1, 21), ""),
    ("A-13", "I-5", "Agree a classroom schedule with the jail", "Yes", "Classes cannot start without protected time",
     "Omar Haddad", D(2026, 7, 1), D(2026, 8, 31), "Complete", "", D(2026, 8, 30), ""),
    ("A-14", "I-5", "Recruit ten employers for the matching events", "Yes",
     "Graduates meet employers before release", "", D(2026, 11, 1), D(2027, 5, 31), "In progress", "",
     D(2027, 2, 10), "Six employers so far."),
    ("A-15", "I-5", "Run the first employer matching event inside the jail", "Yes",
     "Turns class completion into job offers", "Omar Haddad", D(2027, 6, 1), D(2027, 7, 31), "Not started",
     "Room and escorts", D(2027, 1, 21), ""),
    ("A-16", "I-6", "Draft the fair-chance ordinance with county counsel", "Yes",
     "A draft is the first step to a vote", "Daniel Ortiz", D(2026, 8, 1), D(2026, 12, 15), "Complete", "",
     D(2026, 12, 12), ""),
    ("A-17", "I-6", "Hold two listening sessions with employers", "Yes",
     "Employer concerns answered early make the ordinance workable", "Omar Haddad", D(2027, 1, 10), D(2027, 4, 30),
     "In progress", "Venue", D(2027, 2, 26), ""),
    ("A-18", "I-6", "Put the ordinance on the commission's agenda", "Yes",
     "The vote makes fair-chance hiring binding on county contractors", "Daniel Ortiz", D(2027, 6, 1),
     D(2027, 10, 31), "Not started", "", D(2027, 1, 21), ""),
    ("A-19", "I-7", "Sign the mobile unit agreement with the state licensing office", "Yes",
     "Brings ID issuing into the jail", "Luis Ferreira", D(2026, 7, 1), D(2026, 9, 30), "Complete", "",
     D(2026, 9, 28), ""),
    ("A-20", "I-7", "Check birth records for people without documents before each visit", "Yes",
     "Without documents no ID can be issued at the visit", "Janelle Brooks", D(2026, 10, 1), D(2027, 6, 30),
     "In progress", "Record request fees", D(2027, 2, 21), ""),
    ("A-21", "I-7", "Order printed coalition tote bags for the spring resource fair", "No",
     "Nice to have, but it does not get anyone an ID", "Renata Okafor", D(2027, 3, 15), D(2027, 4, 15),
     "Not started", "Printing budget", D(2027, 1, 21), ""),
    ("A-22", "I-8", "Station an eligibility worker at the jail two days a week", "Yes",
     "Applications get filed before release, not after", "Sofia Lindqvist", D(2026, 7, 1), D(2026, 10, 31),
     "Complete", "", D(2026, 10, 30), ""),
    ("A-23", "I-8", "Add a benefits check to the release checklist", "Yes",
     "Nobody leaves without knowing where their application stands", "Sofia Lindqvist", D(2027, 1, 4),
     D(2027, 4, 30), "In progress", "", D(2027, 2, 19), ""),
    ("A-24", "I-8", "Share monthly application counts with the coalition", "Yes",
     "Shows whether the 30-day target is met", "Sofia Lindqvist", D(2027, 5, 1), D(2027, 12, 31), "Not started", "",
     D(2027, 1, 21), ""),
    ("A-25", "I-9", "Add the 30-day supply to the jail medical contract", "Yes",
     "Makes the supply a contract duty, not a favour", "Luis Ferreira", D(2026, 7, 1), D(2026, 12, 31), "Complete",
     "", D(2026, 12, 20), "Amendment signed."),
    ("A-26", "I-9", "Book first appointments before release with the clinic", "Yes",
     "The appointment closes the gap between the last dose inside and the next prescription", "Mei Tanaka",
     D(2027, 1, 4), D(2027, 5, 31), "In progress", "Scheduling access", D(2027, 2, 23), ""),
    ("A-27", "I-9", "Set up a pharmacy pick-up point near the jail", "Yes",
     "People can collect the supply on release day", "Grace Mbeki", D(2027, 6, 1), None, "Not started", "",
     D(2027, 1, 21), "Waiting on a pharmacy partner."),
    ("A-28", "I-10", "Hire and train three peer navigators", "Yes",
     "Navigators are the people who meet each person at release", "Marcus Bell", D(2026, 7, 1), D(2026, 11, 30),
     "Complete", "Training budget", D(2026, 11, 25), ""),
    ("A-29", "I-10", "Agree a release-time notice from the jail to Returning Voices", "Yes",
     "Navigators need to know when someone walks out", "Marcus Bell", D(2026, 12, 1), D(2027, 4, 30), "In progress",
     "", D(2027, 2, 17), ""),
    ("A-30", "I-10", "Follow up every person at 30 days and report no-shows to the clinic", "Yes",
     "Catches missed appointments before medication runs out", "Marcus Bell", D(2027, 4, 1), D(2028, 3, 31),
     "Not started", "", D(2027, 1, 21), ""),
)

# fmt: on


def _record(sheet: str, keys: tuple[str, ...], row: tuple[Any, ...], *, with_id: bool = True) -> Record:
    values = {k: (None if v == "" else v) for k, v in zip(keys, row, strict=True)}
    record_id = values.pop("id") if with_id else None
    return Record(sheet=sheet, id=record_id, values=values)


def example_plan() -> Plan:
    """A fresh copy of the fictional Alder County plan."""
    plan = Plan(coalition=dict(COALITION))
    tables: tuple[tuple[str, tuple[str, ...], tuple[tuple[Any, ...], ...]], ...] = (
        ("priorities", ("id", "priority", "why", "lead"), PRIORITIES),
        ("goals", ("id", "priority", "goal", "success_measure", "baseline", "target", "target_date"), GOALS),
        (
            "improvements",
            (
                "id",
                "goal",
                "improvement",
                "policy_or_practice",
                "mechanism",
                "stakeholders",
                "buy_in",
                "resources_needed",
                "resources_secured",
                "estimated_cost",
            ),
            IMPROVEMENTS,
        ),
        (
            "measures",
            (
                "id",
                "improvement",
                "measure",
                "data_source",
                "baseline",
                "target",
                "latest_value",
                "latest_as_of",
                "reporting_frequency",
            ),
            MEASURES,
        ),
        (
            "steps",
            (
                "id",
                "improvement",
                "step",
                "serves_goal",
                "how_it_serves",
                "responsible",
                "start_date",
                "due_date",
                "status",
                "resources_needed",
                "last_updated",
                "notes",
            ),
            STEPS,
        ),
    )
    for sheet, keys, rows in tables:
        plan.rows(sheet).extend(_record(sheet, keys, row) for row in rows)
    stakeholder_keys = ("name", "organization", "sector", "role", "email", "notes")
    plan.rows("stakeholders").extend(
        _record("stakeholders", stakeholder_keys, row, with_id=False) for row in STAKEHOLDERS
    )
    return plan
