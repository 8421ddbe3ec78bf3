"""Demo data for `make run`: two sites and one user per role at each.

Each app adds its own demo data in ``<app>/demo.py`` (function ``seed(ctx)``); the seed_demo
command calls them in dependency order. Demo data shows every state a feature has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.models import Membership, PrescriberProfile, Site, Specialty
from accounts.roles import ensure_roles

DEMO_PASSWORD = "GeneGate-demo-2026"

SITES = [
    dict(
        short_code="NCH",
        name="Northfield Children's Hospital",
        npi="1234567893",
        tin="04-3217654",
        phone="(413) 555-0140",
        fax="(413) 555-0141",
        address="100 Harbor Way, Northfield, MA 01360",
        place_of_service="21",
        certified_center=True,
        timezone="America/New_York",
    ),
    dict(
        short_code="LPC",
        name="Lakeshore Pediatric Center",
        npi="1245319599",
        tin="36-2764981",
        phone="(312) 555-0190",
        fax="(312) 555-0191",
        address="2200 Lakeshore Dr, Chicago, IL 60614",
        place_of_service="22",
        certified_center=True,
        timezone="America/Chicago",
    ),
]

# (username, full name, role, site short codes)
USERS = [
    ("coordinator", "Casey Morgan", "coordinator", ["NCH"]),
    ("physician", "Dr. Priya Raman", "physician", ["NCH"]),
    ("billing", "Blake Ortiz", "billing", ["NCH"]),
    ("manager", "Morgan Lee", "manager", ["NCH"]),
    ("outsider", "Oscar Quinn", "coordinator", ["LPC"]),
    ("physician2", "Dr. Lena Fischer", "physician", ["LPC"]),
    ("billing2", "Bea Santos", "billing", ["LPC"]),
    ("manager2", "Marcus Hill", "manager", ["LPC"]),
    ("admin", "Ada Admin", "admin", ["NCH", "LPC"]),
]
# Physicians' own identifiers (individual NPIs, Type 1, never a site's facility NPI): what their
# signature on a letter of medical necessity carries. Synthetic NPIs with a valid check digit.
PRESCRIBERS = {
    "physician": ("1987654328", Specialty.CHILD_NEUROLOGY, "MD"),
    "physician2": ("1765432103", Specialty.NEUROMUSCULAR, "MD"),
}


@dataclass
class DemoContext:
    """What earlier seed steps made, for later ones."""

    today: date
    sites: dict[str, Site] = field(default_factory=dict)
    users: dict[str, object] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)


def seed(ctx: DemoContext) -> None:
    from django.apps import apps

    ensure_roles(apps)  # idempotent; a flushed database (transactional tests) has no groups
    User = get_user_model()
    for row in SITES:
        site, _ = Site.objects.update_or_create(short_code=row["short_code"], defaults=row)
        ctx.sites[site.short_code] = site
    for username, full_name, role, site_codes in USERS:
        first, _, last = full_name.rpartition(" ")
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@genegate.invalid"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
        user.is_staff = role == "admin"
        user.is_superuser = role == "admin"
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        for code in site_codes:
            Membership.objects.get_or_create(user=user, site=ctx.sites[code])
        if username in PRESCRIBERS:
            npi, specialty, credentials = PRESCRIBERS[username]
            PrescriberProfile.objects.update_or_create(
                user=user, defaults={"npi": npi, "specialty": specialty, "credentials": credentials}
            )
        ctx.users[username] = user


# The demo cast: one patient per state the features have. Each app's demo step reads this list
# and adds its part (demo.cases: intake facts and gate state; billing: PA and packets; the
# infusion record; monitoring: draws, results, flags; reminders: acknowledgements). Dates are
# relative to the day the demo is loaded, so `make run` always shows a lived-in present.
# age_days: age today; scenario: what the case should show.
DEMO_CASES = [
    # key, site, legal name, sex, age_days, scenario
    ("ready", "NCH", "Ava Thompson", "F", 120, "all gates pass, PA approved, infusion scheduled in 6 days"),
    ("pa_submitted", "NCH", "Olivia Reyes", "F", 95, "all gates pass, PA submitted and pended for more information"),
    ("titer_stale", "NCH", "Liam Carter", "M", 150, "AAV9 titer 1:25 drawn 20 days before the planned date: stale"),
    ("titer_high", "NCH", "Noah Patel", "M", 70, "AAV9 titer 1:100: above 1:50, retest guidance"),
    ("intake", "NCH", "Mia Johnson", "F", 40, "just entered: no genetic report, no labs"),
    ("age_out", "NCH", "Ethan Brooks", "M", 715, "second birthday falls before the planned infusion date"),
    ("premature", "NCH", "Sofia Nguyen", "F", 21, "born at 32 weeks, not yet full-term corrected age"),
    ("pa_denied", "NCH", "Lucas Kim", "M", 200, "PA denied (titer not documented), appealed"),
    ("infused_recent", "NCH", "Harper Wilson", "F", 110, "infused 3 days ago: first draws upcoming"),
    ("monitoring_normal", "NCH", "Jack Martinez", "M", 160, "infused 40 days ago: results normal, taper started"),
    ("monitoring_abnormal", "NCH", "Amelia Davis", "F", 140, "infused 30 days ago: ALT 3.1x ULN, taper blocked"),
    ("overdue", "NCH", "Benjamin Lee", "M", 130, "infused 27 days ago: day-21 draw overdue, reminders escalated"),
    ("extension", "NCH", "Isabella Clark", "F", 230, "infused 100 days ago: liver still abnormal, extension draws"),
    ("follow_up", "NCH", "Charlotte Hall", "F", 400, "infused 8 months ago: 6-month milestone recorded"),
    ("lpc_ready", "LPC", "Henry Scott", "M", 90, "Lakeshore: all gates pass"),
    ("lpc_overdue", "LPC", "Grace Young", "F", 150, "Lakeshore: infused 20 days ago, day-14 draw overdue"),
    (
        "lpc_office",
        "LPC",
        "Leo Walker",
        "M",
        130,
        "Lakeshore clinic office (POS 11): professional claim the payer refuses",
    ),
]
