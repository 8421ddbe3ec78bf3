"""A case's audit history as people read it: who did what when, each change as field: old → new.

The entries are django-auditlog's (append-only). Views of the case are summarised as one line
per person per day with a count; the CSV export lists every entry. Kinds of entry:

- changes: rows created, changed or removed (the case, its results, documents, the infusion
  record, the prior authorization, monitoring results);
- signatures: the infusion record or the letter of medical necessity signed;
- views: the case or patient opened;
- exports: a document or PA packet downloaded, the audit history exported.

Entries of another app's rows are found by the case id they carry (``get_additional_data``);
this module names those models by their labels, never imports them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from auditlog.models import LogEntry
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, Max, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from cases.analytes import ANALYTES
from cases.infusion.models import InfusionRecord
from cases.models import Case, Document, Patient
from common.wording import day_text, moment_text, signs

A = LogEntry.Action
KINDS = {
    "": "Everything (views summarised)",
    "changes": "Changes",
    "signatures": "Signatures",
    "views": "Views",
    "exports": "Downloads and exports",
}
# Columns a person never typed and that say nothing to a reader (ids, hashes, bookkeeping).
HIDDEN_FIELDS = {
    "id",
    "version",
    "case",
    "site",
    "patient",
    "record",
    "draw",
    "prior_authorization",
    "file",
    "sha256",
    "size",
    "content_type",
    "result_key",
    "value_canonical",
    "uln_canonical",
    "canonical_unit",
    "created_at",
    "updated_at",
    "entered_at",
    "uploaded_at",
    "snapshot",
    "code",  # a flag's machine code; its message says the same in words
    "observed_at",
    "body",  # a letter's text: each version is its own row, read on the letter's page
    "facts",
    "facts_sha256",
    "fingerprint",
}
# Field names whose verbose name is not a reader's word.
LABELS = {
    "mrn": "MRN",
    "kg": "Weight (kg)",
    "sma_type": "SMA type",
    "birth_weight_kg": "Birth weight (kg)",
    "result_text": "Result",
    "original_name": "File name",
    "uln": "Upper limit of normal",
    "by": "By",
    "uln_is_fallback": "Published limit used (lab gave none)",
}
CREATE_FIELDS_SHOWN = 6
VERBS = {A.CREATE: "added", A.UPDATE: "changed", A.DELETE: "removed"}


@dataclass
class AuditRow:
    """One line of the history: an entry, or one person's views of one day."""

    timestamp: datetime
    actor: object
    kind: str  # changes / signatures / views / exports
    what: str
    changes: list[str] = field(default_factory=list)
    count: int = 1
    pk: object = None  # the entry's id; "views-<person>-<day>" for a day of views


def _letter_model():
    return apps.get_model("billing", "MedicalNecessityLetter")


def _types():
    return ContentType.objects.get_for_models(Case, Patient, InfusionRecord, _letter_model())


def _viewed(types) -> Q:
    not_export = Q(additional_data__isnull=True) | ~Q(additional_data__has_key="export")
    return Q(action=A.ACCESS, content_type__in=[types[Case], types[Patient]]) & not_export


def kind_filter(kind: str, types=None) -> Q:
    """The entries of one kind ("" for every kind)."""
    types = types or _types()
    viewed = _viewed(types)
    signed = Q(
        content_type__in=[types[InfusionRecord], types[_letter_model()]], action=A.UPDATE, changes__has_key="signed_at"
    )
    if kind == "views":
        return viewed
    if kind == "exports":
        return Q(action=A.ACCESS) & ~viewed
    if kind == "signatures":
        return signed
    if kind == "changes":
        return ~Q(action=A.ACCESS) & ~signed
    return Q()


def case_entries(case: Case):
    """Every audit entry of the case and its rows, newest first."""
    types = _types()
    return (
        LogEntry.objects.filter(
            Q(content_type=types[Case], object_id=case.pk)
            | Q(content_type=types[Patient], object_id=case.patient_id)
            | Q(additional_data__case_id=case.pk)
        )
        .select_related("actor", "content_type")
        .order_by("-timestamp", "-pk")
    )


class AuditHistory:
    """The case's history with a kind and a person filter, as a sequence a Paginator pages:
    entries one by one, views one line per person per day, merged newest first."""

    def __init__(self, case: Case, *, kind: str = "", actor_id: int | None = None, upto: int | None = None):
        types = _types()
        base = case_entries(case)
        if upto is not None:
            base = base.filter(pk__lte=upto)
        if actor_id:
            base = base.filter(actor_id=actor_id)
        viewed = _viewed(types)
        self.entries = None if kind == "views" else base.exclude(viewed).filter(kind_filter(kind, types))
        self.views = None
        if kind in ("", "views"):
            self.views = (
                base.filter(viewed)
                .annotate(day=TruncDate("timestamp"))
                .values("actor_id", "day")
                .annotate(times=Count("pk"), last=Max("timestamp"))
                .order_by("-last", "actor_id")
            )
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = (self.entries.count() if self.entries is not None else 0) + (
                self.views.count() if self.views is not None else 0
            )
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop = index.start or 0, index.stop if index.stop is not None else self.count()
        rows = []
        if self.entries is not None:
            rows += entry_rows(list(self.entries[:stop]))
        if self.views is not None:
            rows += _view_rows(list(self.views[:stop]))
        rows.sort(key=lambda row: row.timestamp, reverse=True)
        return rows[start:stop]


def people(case: Case):
    """The people who appear in the case's history (the person filter's choices)."""
    ids = case_entries(case).exclude(actor=None).values_list("actor_id", flat=True).distinct()
    return get_user_model().objects.filter(pk__in=list(ids)).order_by("first_name", "last_name", "username")


def _view_rows(groups: list[dict]) -> list[AuditRow]:
    users = get_user_model().objects.in_bulk([g["actor_id"] for g in groups if g["actor_id"]])
    return [
        AuditRow(
            timestamp=g["last"],
            actor=users.get(g["actor_id"]),
            kind="views",
            what=f"Viewed the case {_times(g['times'])} on {day_text(g['day'])}",
            count=g["times"],
            pk=f"views-{g['actor_id']}-{g['day']}",
        )
        for g in groups
    ]


def _times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def entry_rows(entries: list[LogEntry]) -> list[AuditRow]:
    """Plain rows: when, who, what, and each change as "field: old → new"."""
    user_ids: set[int] = set()
    for entry in entries:
        model = entry.content_type.model_class()
        for name, values in entry.changes_dict.items():
            if _is_user_field(model, name):
                user_ids.update(int(v) for v in values if str(v).isdigit())
    users = get_user_model().objects.in_bulk(user_ids)
    doc_type = ContentType.objects.get_for_model(Document)
    documents = Document.objects.in_bulk(
        [e.object_id for e in entries if e.action == A.ACCESS and e.content_type_id == doc_type.pk]
    )
    return [_entry_row(entry, users, documents) for entry in entries]


def _entry_row(entry: LogEntry, users: dict, documents: dict) -> AuditRow:
    model = entry.content_type.model_class()
    noun = str(model._meta.verbose_name if model is not None else entry.content_type.name)
    noun = noun[:1].upper() + noun[1:]
    if entry.action == A.ACCESS:
        kind = "views" if model in (Case, Patient) and not (entry.additional_data or {}).get("export") else "exports"
        what = (entry.additional_data or {}).get("export") or (
            f"{noun} downloaded" if kind == "exports" else f"{noun} viewed"
        )
        if model is Document and entry.object_id in documents:
            what = f"{documents[entry.object_id].get_kind_display()} downloaded"
        return AuditRow(entry.timestamp, entry.actor, kind, what, pk=entry.pk)
    changes = entry.changes_dict
    if model is InfusionRecord and entry.action == A.UPDATE and "signed_at" in changes:
        signer = changes.get("signed_name", [None, None])[1]
        what = f"Infusion record signed by {signer}" if signer and signer != "None" else "Infusion record signed"
        return AuditRow(entry.timestamp, entry.actor, "signatures", what, pk=entry.pk)
    if model is _letter_model() and entry.action == A.UPDATE and "signed_at" in changes:
        signer = changes.get("signer_name", [None, None])[1]
        what = "Letter of medical necessity signed" + (f" by {signer}" if signer and signer != "None" else "")
        return AuditRow(entry.timestamp, entry.actor, "signatures", what, pk=entry.pk)
    lines = []
    for name, values in changes.items():
        label, shown = _field(model, name)
        if not shown:
            continue
        old, new = (_value(model, name, v, users) for v in values)
        if entry.action == A.CREATE:
            if new != "—":
                lines.append(f"{label}: {new}")
        elif entry.action == A.DELETE:
            if old != "—":
                lines.append(f"{label}: {old}")
        elif old != new:
            lines.append(f"{label}: {old} → {new}")
    if entry.action in (A.CREATE, A.DELETE) and lines:
        lines = [" · ".join(lines[:CREATE_FIELDS_SHOWN])]
    moved = (entry.additional_data or {}).get("moved") if isinstance(entry.additional_data, dict) else None
    if isinstance(moved, dict):  # a result moved between draws (monitoring.workflows.result_move)
        lines.append(f"{moved.get('from', '?')} → {moved.get('to', '?')}: {moved.get('reason', '')}")
    what = f"{noun} {VERBS.get(entry.action, 'changed')}"
    return AuditRow(entry.timestamp, entry.actor, "changes", what, lines, pk=entry.pk)


def _field(model, name: str):
    """(label, shown?) of a field: hidden ones, reverse relations and removed fields are not shown."""
    if model is None or name in HIDDEN_FIELDS:
        return name, False
    try:
        f = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name, False
    if not getattr(f, "concrete", False):
        return name, False
    if f.is_relation and f.related_model is not get_user_model():
        return name, False  # another row's id says nothing to a reader
    label = LABELS.get(name) or str(getattr(f, "verbose_name", name))
    return label[:1].upper() + label[1:], True


def _is_user_field(model, name: str) -> bool:
    try:
        f = model._meta.get_field(name)
    except (FieldDoesNotExist, AttributeError):
        return False
    return bool(getattr(f, "is_relation", False) and f.related_model is get_user_model())


def _value(model, name: str, raw, users: dict) -> str:
    """A stored value in the screen's words: choices by label, dates in words, yes/no, people by name."""
    if raw is None or raw in ("None", ""):
        return "—"
    text = str(raw)
    f = model._meta.get_field(name)
    if name == "analyte" and text in ANALYTES:
        return ANALYTES[text].label
    if getattr(f, "choices", None):
        return str(dict(f.choices).get(text, text))
    if _is_user_field(model, name):
        user = users.get(int(text)) if text.isdigit() else None
        return (user.get_full_name() or user.username) if user else "someone"
    internal = f.get_internal_type()
    if internal == "DecimalField":
        try:
            return signs(format(Decimal(text).normalize(), "f"))
        except InvalidOperation:
            return signs(text)
    if internal == "BooleanField":
        return "yes" if text == "True" else "no"
    if internal == "DateField" and (day := parse_date(text)):
        return day_text(day)
    if internal == "DateTimeField" and (moment := parse_datetime(text)):
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=UTC)
        return moment_text(moment)
    if internal == "JSONField":
        try:
            value = json.loads(text)
        except ValueError:
            return signs(text)
        if isinstance(value, list):
            return ", ".join(ANALYTES[v].label if v in ANALYTES else str(v) for v in value) or "—"
        return signs(text)
    return signs(text)
