"""Named personas (healthchecks' alice/bob/charlie): staff of site A and an outsider at site B."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.models import Membership, Site
from cases.models import Case, Patient

PASSWORD = "correct-horse-battery-staple"
MARKER_NAME = "Zyxwv Markerchild"  # a value that must never appear in a denied response
MARKER_MRN = "MRN-MARKER-9137"


def make_site(code: str, **extra) -> Site:
    defaults = dict(
        name=f"Site {code}",
        npi="1245319599",  # the facility's NPI (Type 2); tests' physicians use 1234567893 (Type 1)
        tin="04-1234567",
        phone="(617) 555-0100",
        fax="(617) 555-0101",
        address=f"{code} street",
        place_of_service="21",
        certified_center=True,
    )
    defaults.update(extra)
    return Site.objects.create(short_code=code, **defaults)


def make_user(username: str, role: str, *sites: Site, **extra):
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.org", first_name=username.title(), **extra
    )
    user.groups.add(Group.objects.get(name=role))
    for site in sites:
        Membership.objects.create(user=user, site=site)
    return user


# The patient's home address make_case records (the 837's subscriber N3/N4); address={} for none.
TEST_ADDRESS = dict(
    address_line1="12 Elm Street", address_line2="Apt 3", city="Northfield", state="MA", zip_code="01360"
)


def make_case(
    site: Site,
    *,
    name: str = "Ava Test",
    mrn: str = "MRN-1",
    dob: date = date(2026, 6, 1),
    address: dict | None = None,
    **case_fields,
):
    patient = Patient.objects.create(
        site=site,
        legal_name=name,
        date_of_birth=dob,
        sex="F",
        mrn=mrn,
        gestational_age_weeks=39,
        birth_weight_kg=Decimal("3.30"),
        guardian_name="Pat Guardian",
        guardian_phone="555-0100",
        **(address if address is not None else TEST_ADDRESS),
    )
    fields = dict(sma_type="1", primary_diagnosis="G12.0")
    fields.update(case_fields)
    return Case.objects.create(patient=patient, site=site, **fields)


class Personas:
    """Attribute access to the standard cast, created fresh per test."""

    def __init__(self) -> None:
        from django.apps import apps

        from accounts.roles import ensure_roles

        ensure_roles(apps)  # transactional (browser) tests flush the groups the migration made
        self.site_a = make_site("A", name="Site A Children's")
        self.site_b = make_site("B", name="Site B Pediatrics")
        self.coordinator = make_user("coordinator", "coordinator", self.site_a)
        self.physician = make_user("physician", "physician", self.site_a)
        self.billing = make_user("billing", "billing", self.site_a)
        self.manager = make_user("manager", "manager", self.site_a)
        self.outsider = make_user("outsider", "coordinator", self.site_b)
        self.case_a = make_case(self.site_a, name=MARKER_NAME, mrn=MARKER_MRN, coordinator=self.coordinator)
