"""cases.infusion_pa: the one adapter to billing's PriorAuthorization (absent on this branch)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import infusion_pa
from cases.infusion_pa import pa_status_for
from tests.infusion.factories import make_record, payer, ready_case
from tests.personas import PASSWORD

TODAY = timezone.localdate


class FakePriorAuthorization:
    """Stands in for billing.PriorAuthorization: filters approved PAs by validity like the ORM."""

    rows: list = []

    class objects:  # noqa: N801 - mimics the manager attribute
        @staticmethod
        def filter(case, status, valid_from__lte, valid_through__gte):
            hits = [
                r
                for r in FakePriorAuthorization.rows
                if r.case_id == case.pk
                and r.status == status
                and r.valid_from <= valid_from__lte
                and r.valid_through >= valid_through__gte
            ]
            return SimpleNamespace(order_by=lambda *a: SimpleNamespace(first=lambda: hits[0] if hits else None))


@pytest.fixture
def strict(cast):
    case = ready_case(cast.site_a)
    case.payer = payer("Strict Health", pa_required=True)
    case.save()
    return case


@pytest.fixture
def fake_pa(monkeypatch):
    FakePriorAuthorization.rows = []
    real = infusion_pa.apps.get_model

    def get_model(*args, **kwargs):
        if args == ("billing", "PriorAuthorization"):
            return FakePriorAuthorization
        return real(*args, **kwargs)

    monkeypatch.setattr(infusion_pa.apps, "get_model", get_model)
    return FakePriorAuthorization


def pa(case, status="approved", days=(-10, 20), number="UHC-4471"):
    return SimpleNamespace(
        case_id=case.pk,
        status=status,
        auth_number=number,
        valid_from=TODAY() + timedelta(days=days[0]),
        valid_through=TODAY() + timedelta(days=days[1]),
    )


def test_without_billings_model_a_required_pa_is_not_yet_recorded_and_blocks(strict):
    status = pa_status_for(strict, TODAY())
    assert status.required and status.blocks and status.auth_number is None
    assert "no approved PA covering" in status.message


def test_a_payer_without_pa_does_not_block(cast):
    case = ready_case(cast.site_a)
    assert not pa_status_for(case, TODAY()).blocks


def test_an_approved_pa_valid_that_day_opens_the_day_and_its_number_goes_on_the_claim(cast, client, strict, fake_pa):
    fake_pa.rows = [pa(strict)]
    status = pa_status_for(strict, TODAY())
    assert status.approved_and_valid and status.auth_number == "UHC-4471"
    make_record(strict, cast.coordinator)
    client.force_login(cast.physician)
    assert client.post(reverse("cases:infusion_sign", args=[strict.pk]), {"password": PASSWORD}).status_code == 302
    body = client.get(reverse("cases:infusion_claim", args=[strict.pk])).content.decode()
    assert "UHC-4471" in body and 'data-finding="missing_pa"' not in body


@pytest.mark.parametrize(
    "row",
    [
        {"days": (-40, -1)},  # expired the day before
        {"days": (1, 30)},  # starts the day after
        {"status": "denied"},
        {"status": "submitted"},
    ],
)
def test_a_pa_that_is_not_approved_and_valid_that_day_blocks(cast, client, strict, fake_pa, row):
    fake_pa.rows = [pa(strict, **row)]
    assert pa_status_for(strict, TODAY()).blocks
    client.force_login(cast.physician)
    body = client.get(reverse("cases:infusion", args=[strict.pk])).content.decode()
    assert "The infusion day cannot open" in body and "requires prior authorization" in body
