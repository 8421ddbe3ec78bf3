"""Malformed input never crashes the inbox: Hypothesis-generated frames, HL7 text and bundles
end as an ACK code with a reason (or a stored failure), never an exception or a 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitoring.inbox import fhir, hl7v2
from monitoring.inbox.mllp import END, START, FrameReader
from monitoring.inbox.records import InboxError
from monitoring.inbox.workflows import receive_fhir, receive_hl7
from tests.inbox.helpers import NEW_YORK, bundle, oru

SEGMENT_IDS = st.sampled_from(["MSH", "PID", "OBR", "OBX", "NTE", "ORC", "ZZZ", "", "MSA"])
FIELD = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@st.composite
def hl7ish(draw):
    """Text shaped like HL7 (segments of |-fields, ^ components), often broken."""
    base = draw(st.sampled_from([oru(), oru(kind="ORU^R01"), "", "MSH|^~\\&|"]))
    segments = draw(
        st.lists(st.builds(lambda s, fs: "|".join([s, *fs]), SEGMENT_IDS, st.lists(FIELD, max_size=14)), max_size=6)
    )
    cut = draw(st.integers(min_value=0, max_value=len(base)))
    return base[:cut] + "\r".join(segments)


@given(st.lists(st.binary(max_size=200), max_size=6))
def test_the_frame_reader_takes_any_bytes(chunks):
    reader = FrameReader(max_bytes=256)
    for chunk in chunks:
        for item in reader.feed(chunk):
            assert len(item.payload) <= 257
    reader.pending()


@given(hl7ish())
def test_the_hl7_parser_raises_only_inbox_errors_and_acks_anything(text):
    try:
        hl7v2.parse(text, NEW_YORK)
    except InboxError as exc:
        assert exc.ack in ("AE", "AR") and exc.reason
    ack = hl7v2.ack(text, "AR", "reason | with ^ delimiters")
    assert ack.startswith("MSH") and "MSA|AR" in ack


@given(st.one_of(st.binary(max_size=300), st.builds(str.encode, st.text(max_size=300))))
def test_the_fhir_parser_raises_only_inbox_errors(data):
    try:
        fhir.parse(data, NEW_YORK)
    except InboxError as exc:
        assert exc.reason


@pytest.mark.django_db
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=hl7ish())
def test_any_hl7_message_ends_as_an_ack_and_a_stored_row(cast, text):
    outcome = receive_hl7(text.encode("utf-8"), default_site=cast.site_a)
    assert outcome.ack in ("AA", "AE", "AR")
    assert outcome.message is not None and outcome.message.pk


@pytest.mark.django_db
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=4000), junk=st.text(max_size=30))
def test_any_truncated_bundle_ends_stored_with_a_reason(cast, cut, junk):
    outcome = receive_fhir(bundle()[:cut] + junk, site=cast.site_a)
    assert outcome.message is not None
    assert outcome.message.status in ("failed", "needs_review", "processed", "matched") and (
        outcome.message.reason or outcome.duplicate or outcome.message.status == "processed"
    )


def test_frames_split_anywhere_come_out_whole():
    payload = oru().encode()
    stream = START + payload + END + b"\r" + START + payload + END + b"\r"
    for size in (1, 2, 7, 64):
        reader = FrameReader()
        frames = [f for i in range(0, len(stream), size) for f in reader.feed(stream[i : i + size])]
        assert [f.payload for f in frames] == [payload, payload] and not any(f.error for f in frames)
