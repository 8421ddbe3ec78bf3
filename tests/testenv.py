"""Loaded with `-p tests.testenv` before pytest-django reads the settings."""

from __future__ import annotations

import os

os.environ.setdefault("GENEGATE_TESTING", "1")
# Two-factor sign-in is on in production; tests that exercise it turn it on themselves.
os.environ.setdefault("GENEGATE_REQUIRE_2FA", "0")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# around it are ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
