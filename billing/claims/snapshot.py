"""Plain JSON for the frozen dataclasses a stored claim is made of, and back.

A stored claim (billing.models.Claim) keeps its ClaimSummary as JSON: every view renders the
dataclasses decoded from that JSON, never the live case. `encode` turns dates, times, Decimals,
tuples and frozensets into JSON values; `decode` rebuilds the dataclass from its type hints, so
a value comes back as the type it was (a Decimal stays a Decimal, a time a time).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache


def encode(value: object, *, canonical: bool = False) -> object:
    """Return ``value`` as JSON-ready data (dataclasses as dicts of their fields).

    ``canonical``: Decimals without trailing zeros (1.000 and 1 are one amount), for the
    fingerprint, so a value read back from the database is not a change."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name), canonical=canonical) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if canonical else str(value)
    if isinstance(value, (datetime, date, time)):  # datetime first: it is also a date
        return value.isoformat()
    if isinstance(value, frozenset):
        return sorted(encode(v, canonical=canonical) for v in value)
    if isinstance(value, (list, tuple)):
        return [encode(v, canonical=canonical) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise TypeError(f"A stored claim holds no {type(value).__name__}")


@cache
def _hints(cls: type) -> dict[str, object]:
    return typing.get_type_hints(cls)


def decode(hint: object, data: object) -> object:
    """Return ``data`` (from `encode`) as the type ``hint`` names."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return decode(options[0], data)
    if dataclasses.is_dataclass(hint):
        hints = _hints(hint)
        fields = {f.name for f in dataclasses.fields(hint)}
        return hint(**{k: decode(hints[k], v) for k, v in data.items() if k in fields})
    if origin in (list, tuple, frozenset):
        args = typing.get_args(hint)
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return tuple(decode(a, v) for a, v in zip(args, data, strict=True))
        items = [decode(args[0], v) for v in data]
        return origin(items)
    if hint is Decimal:
        return Decimal(data)
    if hint is datetime:
        return datetime.fromisoformat(data)
    if hint is date:
        return date.fromisoformat(data)
    if hint is time:
        return time.fromisoformat(data)
    return data


def fingerprint(data: object) -> str:
    """SHA-256 of the encoded data in one canonical form (sorted keys, no spaces)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()
