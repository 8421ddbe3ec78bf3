"""One vocabulary on every screen, e-mail and calendar of the demo (issue 18 item 2).

Every page each role reaches from the home page (at most a few URLs per URL name), every
reminder e-mail the sweep sends and every calendar is read as text and checked against the
patterns below: one date style ("3 Dec 2026"), one set of comparison signs (≤ ≥), one name per
analyte and draw kind, units offered once, no raw keys, internal codes or internal document
references. CSV files keep ISO dates and column keys: they are files, not screens.
"""

from __future__ import annotations

import html
import re
from collections import Counter, deque
from datetime import date

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from common.wording import day_text

ROLES = ("coordinator", "physician", "billing", "manager", "admin")
PER_URL_NAME = 3  # pages visited per URL name and role: the same template with other data
SKIP = ("/admin", "/static", "/accounts/logout", "/accounts/2fa")
MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"

# (what is wrong, pattern) checked on the visible text of screens, e-mails and calendars.
FORBIDDEN = [
    ("ISO date on a screen", re.compile(r"\b20\d\d-\d\d-\d\d\b")),
    ("month-first date", re.compile(rf"\b(?:{MONTHS})\.? \d{{1,2}}\b")),
    ("day with a leading zero", re.compile(rf"\b0\d (?:{MONTHS})\b")),
    (
        "full month name",
        re.compile(r"\b(?:January|February|March|April|June|July|August|September|October|November|December) \d"),
    ),
    ("ASCII comparison sign", re.compile(r"<=|>=|=<|=>")),
    ("raw key", re.compile(r"(?<![\w.])[a-z][a-z0-9]*_[a-z0-9_]+\b(?!\.(?:pdf|png|jpe?g))")),
    ("internal document", re.compile(r"domain\.md|DESIGN\.md|BRIEF")),
    ("internal jargon", re.compile(r"England 2009|fallback ULN|grace passed|\(\w+_\w+\)")),
    ("second name for an analyte", re.compile(r"\bHgb\b|\bLFTs?\b|Liver function|Platelets \(CBC\)|PT/INR")),
    ("untypeset power of ten", re.compile(r"10\^\d|\dx10\b")),
    ("unit offered twice", re.compile(r"<option[^>]*>\s*(?:sec|seconds|IU/L|pg/mL|µg/L|×10\^9/L|K/µL)\s*</option>")),
]
# Calendars and e-mails go to families and staff outside the product: no citations either.
FORBIDDEN_OUTSIDE = [("citation in a calendar or e-mail", re.compile(r"§|\blabel\b", re.I))]
# The screens added since the rules were first written (claims, the letter of medical necessity,
# the results inbox, flag acknowledgements, steroid corrections): the crawl must reach each, so a
# screen cannot drop out of the check unnoticed.
MUST_VISIT = {
    "billing:claim",
    "billing:letter",
    "monitoring:inbox",
    "monitoring:inbox_message",
    "monitoring:flag_acknowledge",
    "monitoring:steroids",
    "cases:infusion",
    "cases:audit",
    "monitoring:dashboard",
    "billing:desk",
}
FUTURE_SINCE = re.compile(rf"\bsince (\d{{1,2}}) ({MONTHS}) (\d{{4}})")


def visible_text(body: str) -> str:
    # A message's raw payload is shown as the file it arrived as (ISO dates, its own codes).
    body = re.sub(r"(?s)<script.*?</script>|<style.*?</style>|<!--.*?-->|<pre[^>]*data-raw-payload.*?</pre>", " ", body)
    body = re.sub(r"(?s)<[^>]+>", " ", body)
    return html.unescape(re.sub(r"\s+", " ", body))


def problems_in(where: str, text: str, *, outside: bool = False, today: date | None = None) -> list[str]:
    """Every forbidden pattern in ``text``, as "where: what: 'context'"."""
    found = []
    for what, pattern in FORBIDDEN + (FORBIDDEN_OUTSIDE if outside else []):
        for match in pattern.finditer(text):
            context = text[max(0, match.start() - 40) : match.end() + 40]
            found.append(f"{where}: {what}: {context!r}")
    today = today or timezone.localdate()
    for match in FUTURE_SINCE.finditer(text):
        month = MONTHS.split("|").index(match[2]) + 1
        if date(int(match[3]), month, int(match[1])) > today:
            found.append(f"{where}: 'since' a future date: {match[0]!r}")
    return found


def ics_text(body: str) -> str:
    """The human-read lines of a calendar (SUMMARY, DESCRIPTION, X-WR-CALNAME), unfolded."""
    unfolded = body.replace("\r\n ", "")
    lines = [
        line.split(":", 1)[1] for line in unfolded.splitlines() if line.startswith(("SUMMARY", "DESCRIPTION", "X-WR"))
    ]
    return "\n".join(line.replace("\\,", ",").replace("\\;", ";").replace("\\n", " ") for line in lines)


def crawl(client: Client, role: str, names: set | None = None) -> dict[str, tuple[str, str]]:
    """{url: (content type, body)} for the pages ``role`` reaches from the home page; the URL
    names of the pages read are added to ``names``."""
    names = set() if names is None else names
    seen: dict[str, tuple[str, str]] = {}
    per_name: Counter = Counter()
    queue = deque(["/"])
    while queue:
        url = queue.popleft()
        if url in seen:
            continue
        try:
            name = resolve(url.split("?")[0]).view_name
        except Resolver404:
            continue
        if per_name[name] >= PER_URL_NAME:
            continue
        per_name[name] += 1
        response = client.get(url)
        kind = response.get("Content-Type", "")
        if response.status_code != 200 or not kind.startswith(("text/html", "text/calendar")):
            seen[url] = (kind, "")
            continue
        body = (b"".join(response) if response.streaming else response.content).decode()
        seen[url] = (kind, body)
        names.add(name)
        if kind.startswith("text/html"):
            for href in re.findall(r'href="([^"#]*)', body):
                href = html.unescape(href)
                if href.startswith("?"):
                    href = url.split("?")[0] + href
                if href.startswith("/") and not href.startswith(SKIP) and href not in seen:
                    queue.append(href)
    return seen


@pytest.fixture
def demo(db):
    from django.apps import apps

    from accounts.roles import ensure_roles

    ensure_roles(apps)
    call_command("seed_demo", verbosity=0)


def test_day_text_is_the_one_date_style():
    assert day_text(date(2026, 12, 3)) == "3 Dec 2026"
    assert problems_in("x", "due 3 Dec 2026, ≤ 1:50, Liver panel") == []
    assert len(problems_in("x", "Dec 3, 2026 · 2026-12-03 · 03 Dec · <=1:50 · troponin_above_baseline")) == 5
    assert problems_in("x", "Blocking since 18 Dec 2026", today=date(2026, 12, 3))


def test_screens_emails_and_calendars_use_one_vocabulary(demo):
    from demo.context import DEMO_PASSWORD
    from monitoring.reminders.sweep import reminder_email

    problems, pages, calendars, names = [], 0, 0, set()
    for role in ROLES:
        client = Client()
        assert client.post("/accounts/login/", {"username": role, "password": DEMO_PASSWORD}).status_code == 302
        for url, (kind, body) in crawl(client, role, names).items():
            if not body:
                continue
            if kind.startswith("text/calendar"):
                calendars += 1
                problems += problems_in(f"{role} {url}", ics_text(body), outside=True)
            else:
                pages += 1
                text = visible_text(body)
                problems += problems_in(f"{role} {url}", text)
                problems += [p for p in problems_in(f"{role} {url} (options)", body) if "unit offered twice" in p]
    assert pages > 60 and calendars >= 2, (pages, calendars)
    assert not MUST_VISIT - names, f"screens the crawl did not reach: {sorted(MUST_VISIT - names)}"

    # Every e-mail the demo's reminders sent, and one of each kind the demo has no row of.
    from monitoring.models import Flag, Milestone, Reminder, ReminderKind

    reminders = list(Reminder.objects.select_related("case__patient", "site", "draw", "flag", "milestone"))
    flag = Flag.objects.select_related("case__patient", "site").order_by("pk").first()
    milestone = Milestone.objects.select_related("case__patient", "site").order_by("pk").first()
    reminders += [
        Reminder(kind=ReminderKind.URGENT_FLAG, flag=flag, case=flag.case, site=flag.site),
        Reminder(kind=ReminderKind.ABNORMAL_FLAG, flag=flag, case=flag.case, site=flag.site),
        Reminder(kind=ReminderKind.FLAG_ESCALATION, flag=flag, case=flag.case, site=flag.site, repeat=1),
        Reminder(kind=ReminderKind.MILESTONE_DUE, milestone=milestone, case=milestone.case, site=milestone.site),
    ]
    assert {r.kind for r in reminders} >= {ReminderKind.OVERDUE, ReminderKind.DUE_TOMORROW, ReminderKind.URGENT_FLAG}
    for reminder in reminders:
        message = reminder_email(reminder, ["someone@example.org"])
        problems += problems_in(f"e-mail {message.subject!r}", f"{message.subject}\n{message.body}", outside=True)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(sorted(set(problems))[:2000])


def test_the_claim_pdf_writes_dates_in_the_one_style(demo):
    """The claim summary PDF (a document staff read) states its dates in words, like its page."""
    import io

    from pypdf import PdfReader

    from cases.infusion.models import InfusionRecord
    from demo.context import DEMO_PASSWORD

    record = InfusionRecord.objects.exclude(signed_at=None).order_by("pk").first()
    client = Client()
    assert client.post("/accounts/login/", {"username": "billing", "password": DEMO_PASSWORD}).status_code == 302
    response = client.get(reverse("billing:claim_pdf", args=[record.case_id]))
    assert response.status_code == 200, response.status_code
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert day_text(record.infused_on) in text
    assert not [p for p in problems_in("claim PDF", text) if "date" in p], problems_in("claim PDF", text)
