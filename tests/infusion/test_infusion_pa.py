"""cases.infusion.pa: the one adapter from the infusion day to billing's PriorAuthorization."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import PriorAuthorization
from cases.infusion.pa import pa_status_for
from tests.infusion.factories import make_record, payer, ready_case
from tests.personas import PASSWORD

TODAY = timezone.localdate


@pytest.fixture
def strict(cast):
    case = ready_case(cast.site_a)
    case.payer = payer("Strict Health", pa_required=True)
    case.save()
    return case


@pytest.fixture
def fake_pa():
    """Creates real billing.PriorAuthorization rows from the pa() descriptions below."""

    class Rows:
        def __setattr__(self, name, rows):
            for row in rows:
                PriorAuthorization.objects.update_or_create(case_id=row.case_id, defaults=row.fields)

    return Rows()


def pa(case, status="approved", days=(-10, 20), number="UHC-4471"):
    return SimpleNamespace(
        case_id=case.pk,
        fields={
            "payer": case.payer,
            "status": status,
            "auth_number": number,
            "valid_from": TODAY() + timedelta(days=days[0]),
            "valid_through": TODAY() + timedelta(days=days[1]),
        },
    )


def test_with_no_pa_recorded_a_required_pa_blocks(strict):
    status = pa_status_for(strict, TODAY())
    assert status.required and status.blocks and status.auth_number is None
    assert "no approved PA covering" in status.message


def test_a_payer_without_pa_does_not_block(cast):
    case = ready_case(cast.site_a)
    assert not pa_status_for(case, TODAY()).blocks


def test_an_approved_pa_valid_that_day_opens_the_day_and_its_number_goes_on_the_claim(cast, client, strict, fake_pa):
    fake_pa.rows = [pa(strict)]
    strict.refresh_from_db()
    status = pa_status_for(strict, TODAY())
    assert status.approved_and_valid and status.auth_number == "UHC-4471"
    make_record(strict, cast.coordinator)
    client.force_login(cast.physician)
    assert (
        client.post(reverse("cases:infusion_sign", args=[strict.pk]), {"password": PASSWORD, "version": 1}).status_code
        == 302
    )
    body = client.get(reverse("billing:claim", args=[strict.pk])).content.decode()
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
