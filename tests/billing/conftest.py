from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.utils import timezone

from tests.billing.helpers import make_payer, make_ready_case, sign_letter
from tests.personas import make_user


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def payer(db):
    return make_payer()


@pytest.fixture
def ready_case(cast, payer, today):
    """A case ready for a final packet: every gate passes and the physician signed the letter."""
    case = make_ready_case(cast.site_a, today=today, payer=payer)
    sign_letter(case, cast.physician)
    return case


@pytest.fixture
def admin_user(cast):
    return make_user("ada", "admin", cast.site_a, cast.site_b)


def pdf_text(data: bytes, tmp_path: Path, *, layout: bool = False) -> str:
    path = tmp_path / "packet.pdf"
    path.write_bytes(data)
    args = ["pdftotext", *(["-layout"] if layout else []), str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def pdf_pages(data: bytes, tmp_path: Path) -> list[str]:
    """Text of each page (pdftotext separates pages with a form feed)."""
    return pdf_text(data, tmp_path).split("\f")[:-1]


@pytest.fixture
def pas_payer():
    """A real local HTTP server playing the payer's Da Vinci PAS endpoint (demo/pas_payer.py)."""
    from demo.pas_payer import Payer

    server = Payer(slow_seconds=1.2).start()
    yield server
    server.stop()


@pytest.fixture
def pas_fast(settings):
    """Short deadlines and no waiting between automatic attempts."""
    settings.PAS_TIMEOUT_SECONDS = 0.4
    settings.PAS_RETRY_BASE_SECONDS = 0
    settings.PAS_MAX_ATTEMPTS = 3
    return settings


def point_payer(case, url: str, **extra) -> None:
    """Give the case's payer a PAS endpoint (and any other fields)."""
    payer = case.payer
    payer.pas_endpoint = url
    for name, value in extra.items():
        setattr(payer, name, value)
    payer.save()
