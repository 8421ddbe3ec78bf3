"""Demo data for `make run`: two sites and one user per role at each.

Each app adds its own demo data in ``<app>/demo.py`` (function ``seed(ctx)``); the seed_demo
command calls them in dependency order. Demo data shows every state a feature has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from cases.models import Membership, Site

DEMO_PASSWORD = "GeneGate-demo-2026"

SITES = [
    dict(
        short_code="NCH",
        name="Northfield Children's Hospital",
        npi="1234567893",
        address="100 Harbor Way, Northfield, MA 01360",
        place_of_service="21",
        certified_center=True,
        timezone="America/New_York",
    ),
    dict(
        short_code="LPC",
        name="Lakeshore Pediatric Center",
        npi="1245319599",
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


@dataclass
class DemoContext:
    """What earlier seed steps made, for later ones."""

    today: date
    sites: dict[str, Site] = field(default_factory=dict)
    users: dict[str, object] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)


def seed(ctx: DemoContext) -> None:
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
        ctx.users[username] = user
