"""Which uploaded documents a PA packet appends (issue 17 item 6): the user chooses for each one
when generating; GeneGate suggests the newest current document of each kind. A document left out
is listed in the packet with the reason chosen, in the words the payer reads."""

from __future__ import annotations

from cases.models import Document

# What a user may choose for each uploaded document when generating a packet (issue 17 item 6).
# A reason to leave one out is printed in the packet as the payer reads it.
APPEND = "append"
LEAVE_OUT_REASONS = {
    "superseded": "superseded by a newer document of the same kind",
    "not_relevant": "not relevant to this request",
    "already_sent": "already sent to the payer",
    "duplicate": "a duplicate of an appended document",
}
DOCUMENT_CHOICES = [(APPEND, "Append")] + [(key, f"Leave out: {words}") for key, words in LEAVE_OUT_REASONS.items()]


def suggested_document_choices(documents) -> dict[int, str]:
    """The choice a packet form starts from: the newest current document of each kind is
    appended, an older one of the same kind is left out as superseded. ``documents`` are the
    case's current documents, newest first."""
    seen, choices = set(), {}
    for doc in documents:
        choices[doc.pk] = APPEND if doc.kind not in seen else "superseded"
        seen.add(doc.kind)
    return choices


def current_documents(case) -> list[Document]:
    """The case's current (not voided) documents, newest first, as the packet form lists them."""
    prefetched = getattr(case, "_prefetched_objects_cache", {}).get("documents")
    if prefetched is not None:
        current = [doc for doc in prefetched if doc.voided_at is None]
        return sorted(current, key=lambda doc: (doc.uploaded_at, doc.pk), reverse=True)
    return list(Document.objects.filter(case=case, voided_at__isnull=True).order_by("-uploaded_at", "-pk"))
