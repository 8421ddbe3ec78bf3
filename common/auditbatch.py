"""django-auditlog entries written many at a time: the same entries auditlog's own signal
receivers write (same diff, repr, additional data, correlation id, actor and address), built in
memory and inserted with one bulk insert.

Why: auditlog writes one INSERT per saved row, and for an update it first SELECTs the old row
again. The results inbox records hundreds of messages a second (issue 19 item 8), each a few
rows; the caller already holds the old row, so the entries are built from it and flushed once.
The diff reads each model's fields through readers worked out once per model (_plan), and the
flush is the one UNNEST insert bulk_create would send, without its per-row compiling (_insert).

Use ``AuditBatch.created(instance)`` after a bulk_create (which sends no signals) and
``AuditBatch.updated(old, new, fields)`` for a save made inside ``auditlog_off()``; then
``flush()`` inside the same transaction. ``mark()`` / ``discard(mark)`` drop the entries of
work that was rolled back (a savepoint), so nothing is audited that did not happen.
"""

from __future__ import annotations

import copy
import json
from contextlib import AbstractContextManager, suppress
from datetime import UTC

from auditlog.cid import get_cid
from auditlog.context import disable_auditlog
from auditlog.diff import get_field_value, model_instance_diff, track_field
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.db.models import DateTimeField, Field, ForeignKey, JSONField
from django.db.models.signals import pre_save
from django.utils import timezone
from django.utils.encoding import smart_str


def auditlog_off() -> AbstractContextManager:
    """Saves inside write no audit entry of their own (the caller adds it to an AuditBatch)."""
    return disable_auditlog()


def snapshot(instance):
    """A shallow copy of a model instance as it is now: the "old" side of an update's diff."""
    return copy.copy(instance)


# auditlog's model_instance_diff works out a model's tracked fields, and how to read each, anew
# for every row; a batch of hundreds of rows of a few models spends most of its audit time
# there. The same diff, with the fields and their readers worked out once per model (and per
# fields_to_check): _diff gives what model_instance_diff gives (strings, as
# AUDITLOG_STORE_JSON_CHANGES is off); a model with masked fields, or JSON changes, takes
# auditlog's own path.
_PLANS: dict[tuple, list | None] = {}
_SERIALIZED: dict[type, bool] = {}  # model -> whether auditlog stores its serialized data


def _reader(field):
    """A function reading ``field`` of an instance as auditlog's get_field_value does."""
    name = field.name
    if not field.concrete:  # reverse relations and the like: auditlog's own reader

        def read(obj):
            return get_field_value(obj, field, False)

        return read
    if isinstance(field, DateTimeField):

        def read(obj):
            try:
                value = getattr(obj, name)
                try:
                    value = field.to_python(value)
                except TypeError:
                    return value
                if value is not None and settings.USE_TZ and not timezone.is_naive(value):
                    value = timezone.make_naive(value, timezone=UTC)
                return value
            except (ObjectDoesNotExist, AttributeError):
                return get_field_value(obj, field, False)

        return read
    if isinstance(field, JSONField):

        def read(obj):
            try:
                value = field.to_python(getattr(obj, name))
                with suppress(TypeError):
                    value = json.dumps(value, sort_keys=True, cls=field.encoder)
                return value
            except (ObjectDoesNotExist, AttributeError):
                return get_field_value(obj, field, False)

        return read
    if (
        not settings.AUDITLOG_USE_FK_STRING_REPRESENTATION
        and (field.one_to_one or field.many_to_one)
        and hasattr(field, "rel_class")
    ):
        attname = field.get_attname()

        def read(obj):
            try:
                return smart_str(getattr(obj, attname), strings_only=True)
            except (ObjectDoesNotExist, AttributeError):
                return get_field_value(obj, field, False)

        return read

    def read(obj):
        try:
            value = getattr(obj, name)
        except (ObjectDoesNotExist, AttributeError):
            return get_field_value(obj, field, False)
        return value if type(value) is str else smart_str(value)

    return read


def _plan(model, fields_to_check: frozenset | None, create: bool) -> list | None:
    """The (name, reader) of each field model_instance_diff compares, in its order; None where
    auditlog's own path is taken (masked fields, JSON changes)."""
    key = (model, fields_to_check, create, settings.AUDITLOG_USE_FK_STRING_REPRESENTATION, settings.USE_TZ)
    if key in _PLANS:
        return _PLANS[key]
    model_fields = auditlog.get_model_fields(model) if auditlog.contains(model) else None
    if settings.AUDITLOG_STORE_JSON_CHANGES or (model_fields and model_fields["mask_fields"]):
        _PLANS[key] = None
        return None
    # The same set (and so the same order) model_instance_diff iterates.
    fields = (
        {f for f in model._meta.get_fields() if track_field(f)}
        if create
        else set(model._meta.fields + model._meta.fields)
    )
    if fields_to_check:
        fields = {
            f
            for f in fields
            if (isinstance(f, ForeignKey) and f.attname in fields_to_check) or f.name in fields_to_check
        }
    if model_fields and (model_fields["include_fields"] or model_fields["exclude_fields"]) and fields:
        if model_fields["include_fields"]:
            fields = [f for f in fields if f.name in model_fields["include_fields"]]
        if model_fields["exclude_fields"]:
            fields = [f for f in fields if f.name not in model_fields["exclude_fields"]]
    plan = [(f.name, _reader(f)) for f in fields]
    _PLANS[key] = plan
    return plan


def _diff(old, new, fields_to_check: frozenset | None) -> dict | None:
    """model_instance_diff(old, new, fields_to_check) for a new row (old None) or an update."""
    plan = _plan(type(new), fields_to_check, old is None)
    if plan is None:
        return model_instance_diff(
            old, new, fields_to_check=fields_to_check, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES
        )
    diff = {}
    if old is None:  # auditlog reads a missing instance's every field as "None"
        for name, read in plan:
            value = read(new)
            if value != "None":
                diff[name] = ("None", smart_str(value))
    else:
        for name, read in plan:
            before, after = read(old), read(new)
            if before != after:
                diff[name] = (smart_str(before), smart_str(after))
    return diff or None


def _serialized(instance):
    """LogEntry.objects._get_serialized_data_or_none, with a model auditlog serializes nothing of
    known after the first row."""
    model = type(instance)
    if model not in _SERIALIZED:
        _SERIALIZED[model] = auditlog.contains(model) and auditlog.get_serialize_options(model)["serialize_data"]
    return LogEntry.objects._get_serialized_data_or_none(instance) if _SERIALIZED[model] else None


class AuditBatch:
    def __init__(self) -> None:
        self.entries: list[LogEntry] = []

    def _entry(self, instance, action, changes) -> None:
        pk = instance.pk
        entry = LogEntry(
            content_type=ContentType.objects.get_for_model(instance),
            object_pk=smart_str(pk),
            object_repr=smart_str(instance),
            serialized_data=_serialized(instance),
            action=action,
            changes=changes,
            cid=get_cid(),
        )
        if isinstance(pk, int):
            entry.object_id = pk
        additional = getattr(instance, "get_additional_data", None)
        if callable(additional):
            entry.additional_data = additional()
        self.entries.append(entry)

    def created(self, instance) -> None:
        changes = _diff(None, instance, None)
        self._entry(instance, LogEntry.Action.CREATE, changes)

    def updated(self, old, new, fields=None) -> None:
        changes = _diff(old, new, frozenset(fields) if fields else None)
        if changes:  # auditlog writes no entry for a save that changed nothing
            self._entry(new, LogEntry.Action.UPDATE, changes)

    def mark(self) -> int:
        return len(self.entries)

    def discard(self, mark: int) -> None:
        del self.entries[mark:]

    def flush(self) -> None:
        """Insert the entries (one query); pre_save is sent for each, as auditlog's request
        context fills in the actor and the address there (bulk_create sends no signals)."""
        if not self.entries:
            return
        for entry in self.entries:
            pre_save.send(sender=LogEntry, instance=entry, raw=False, using="default", update_fields=None)
        _insert(self.entries)
        self.entries = []


# Field types whose database value is the attribute itself when it is of these Python types
# (what get_db_prep_save returns for them); any other field or value is converted by Django.
_AS_IS = {
    "CharField": (str, type(None)),
    "TextField": (str, type(None)),
    "ForeignKey": (int, type(None)),
    "BigIntegerField": (int, type(None)),
    "IntegerField": (int, type(None)),
    "PositiveIntegerField": (int, type(None)),
    "PositiveSmallIntegerField": (int, type(None)),
}


def _insert(entries: list[LogEntry]) -> None:
    """LogEntry.objects.bulk_create(entries) as the one query Django sends for it on PostgreSQL
    (INSERT ... SELECT * FROM UNNEST(column arrays)), the values read without Django's per-row,
    per-field compiling (most of an audit batch's insert time): a column whose values are all
    of the plain types in _AS_IS goes as it is, any other through the field's own
    pre_save and get_db_prep_save, as bulk_create does. The entries' ids are not read back."""
    if connection.vendor != "postgresql" or len(entries) < 2:
        LogEntry.objects.bulk_create(entries)
        return
    fields = [f for f in LogEntry._meta.concrete_fields if not f.primary_key]
    columns, casts, values = [], [], []
    for field in fields:
        attname = field.attname
        column = [getattr(entry, attname) for entry in entries]
        plain = _AS_IS.get(field.get_internal_type())
        if field.pre_save.__func__ is not Field.pre_save or plain is None or any(type(v) not in plain for v in column):
            column = [field.get_db_prep_save(field.pre_save(entry, True), connection) for entry in entries]
        columns.append(connection.ops.quote_name(field.column))
        casts.append("(%s)::" + field.db_type(connection).split("(")[0] + "[]")
        values.append(column)
    # Names and types from the model, quoted; the values are parameters.
    sql = "INSERT INTO {} ({}) SELECT * FROM UNNEST({})".format(  # noqa: S608
        connection.ops.quote_name(LogEntry._meta.db_table), ", ".join(columns), ", ".join(casts)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
