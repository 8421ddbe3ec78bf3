from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache():
    """The dashboard caches its on-time rates; each test starts without them."""
    cache.clear()
    yield
    cache.clear()
