"""django-auditlog entries written many at a time: the same entries auditlog's own signal
receivers write (same diff, repr, additional data, correlation id, actor and address), built in
memory and inserted with one bulk insert.

Why: auditlog writes one INSERT per saved row, and for an update it first SELECTs the old row
again. The results inbox records hundreds of messages a second (issue 19 item 8), each a few
rows; the caller already holds the old row, so the entries are built from it and flushed once.

Use ``AuditBatch.created(instance)`` after a bulk_create (which sends no signals) and
``AuditBatch.updated(old, new, fields)`` for a save made inside ``auditlog_off()``; then
``flush()`` inside the same transaction. ``mark()`` / ``discard(mark)`` drop the entries of
work that was rolled back (a savepoint), so nothing is audited that did not happen.
"""

from __future__ import annotations

import copy
from contextlib import AbstractContextManager

from auditlog.cid import get_cid
from auditlog.context import disable_auditlog
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import pre_save
from django.utils.encoding import smart_str


def auditlog_off() -> AbstractContextManager:
    """Saves inside write no audit entry of their own (the caller adds it to an AuditBatch)."""
    return disable_auditlog()


def snapshot(instance):
    """A shallow copy of a model instance as it is now: the "old" side of an update's diff."""
    return copy.copy(instance)


class AuditBatch:
    def __init__(self) -> None:
        self.entries: list[LogEntry] = []

    def _entry(self, instance, action, changes) -> None:
        pk = instance.pk
        entry = LogEntry(
            content_type=ContentType.objects.get_for_model(instance),
            object_pk=smart_str(pk),
            object_repr=smart_str(instance),
            serialized_data=LogEntry.objects._get_serialized_data_or_none(instance),
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
        changes = model_instance_diff(None, instance, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES)
        self._entry(instance, LogEntry.Action.CREATE, changes)

    def updated(self, old, new, fields=None) -> None:
        changes = model_instance_diff(
            old,
            new,
            fields_to_check=frozenset(fields) if fields else None,
            use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES,
        )
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
        LogEntry.objects.bulk_create(self.entries)
        self.entries = []
