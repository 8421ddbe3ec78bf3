"""Bearer tokens of the FHIR endpoint: one site each, stored as SHA-256 (a token is 32 random
bytes, so a fast hash is enough: nothing to guess), shown once when issued, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.utils import timezone

from monitoring.inbox.models import InboxToken

PREFIX = "ggt_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(token: InboxToken, *, by=None) -> str:
    """Give ``token`` (unsaved: site and label set) a fresh secret; save it; return the secret."""
    secret = PREFIX + secrets.token_urlsafe(32)
    token.token_hash = _hash(secret)
    token.prefix = secret[:10]
    token.created_by = by
    token.save()
    return secret


def revoke(token: InboxToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def authenticate(header: str) -> InboxToken | None:
    """The active token an ``Authorization: Bearer …`` header carries, or None."""
    scheme, _, secret = (header or "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    digest = _hash(secret)
    token = InboxToken.objects.filter(token_hash=digest, revoked_at__isnull=True).select_related("site").first()
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    InboxToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token
