"""Every role decision is one row of accounts.permissions.PERMISSIONS: each action the code and
templates ask exists there, and no module outside accounts/ decides by role names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accounts.models import Role
from accounts.permissions import PERMISSIONS, can, roles_for

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "cases", "billing", "monitoring", "common", "config")
ASKED = re.compile(r"""\b(?:can|require)\(\s*[\w.]+,\s*["']([a-z_]+)["']""")
ASKED_IN_TEMPLATES = re.compile(r"\bcan\.([a-z_]+)")
STAGE_ACTIONS = re.compile(r"""action=["']([a-z_]+)["']""")


def _sources(pattern: str):
    for app in APPS:
        yield from (p for p in (ROOT / app).rglob(pattern) if "migrations" not in p.parts)


def test_every_action_asked_is_in_the_table():
    asked = set()
    for path in _sources("*.py"):
        text = path.read_text()
        asked |= set(ASKED.findall(text))
        if path.name == "stage_rules.py":
            asked |= set(STAGE_ACTIONS.findall(text))
    for path in (ROOT / "templates").rglob("*.html"):
        asked |= set(ASKED_IN_TEMPLATES.findall(path.read_text()))
    assert asked, "the scan found nothing: the patterns are wrong"
    assert sorted(asked - set(PERMISSIONS)) == []


def test_no_role_decision_outside_accounts():
    literal_roles = "|".join(role.value for role in Role)
    tuple_of_roles = re.compile(rf"""\(\s*["']({literal_roles})["']\s*,\s*["']({literal_roles})["']""")
    offenders = []
    for path in _sources("*.py"):
        if path.parts[len(ROOT.parts)] == "accounts":
            continue
        text = path.read_text()
        if "has_role(" in text or "require_role(" in text or re.search(r"\b[A-Z]+_ROLES\b", text):
            offenders.append(str(path.relative_to(ROOT)))
        if tuple_of_roles.search(text):
            offenders.append(str(path.relative_to(ROOT)))
    for path in (ROOT / "templates").rglob("*.html"):
        if re.search(rf"""["']({literal_roles})["']\s+in\s+user_roles""", path.read_text()):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_an_unknown_action_fails_loudly():
    with pytest.raises(KeyError):
        roles_for("sign_infusoin")


@pytest.mark.django_db
def test_can_asks_the_site_when_given(cast):
    assert can(cast.physician, "sign_infusion")
    assert can(cast.physician, "sign_infusion", cast.site_a)
    assert not can(cast.physician, "sign_infusion", cast.site_b)
    assert not can(cast.coordinator, "sign_infusion", cast.site_a)
