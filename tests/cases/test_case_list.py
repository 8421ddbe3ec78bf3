"""The case list: search, filters, sorting and pages, all in the URL; htmx swaps the results."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import Payer
from tests.personas import MARKER_NAME, make_case

URL = reverse("cases:list")


def _names(response) -> list[str]:
    return [case.patient.legal_name for case, _report, _summary in response.context["rows"]]


def _cast_with_cases(cast):
    aetna = Payer.objects.create(name="Aetna")
    make_case(cast.site_a, name="Bella Adams", mrn="A-100", dob=date(2026, 3, 1), payer=aetna, stage="gating")
    make_case(cast.site_a, name="Carl Brown", mrn="A-200", dob=date(2026, 1, 1))
    make_case(cast.site_b, name="Hidden Elsewhere", mrn="B-100")
    return aetna


def test_the_list_shows_only_the_users_sites_sorted_by_name(cast, login):
    _cast_with_cases(cast)
    response = login(cast.billing).get(URL)
    assert _names(response) == ["Bella Adams", "Carl Brown", MARKER_NAME]
    assert "Hidden Elsewhere" not in response.content.decode()


def test_search_by_name_or_mrn(cast, login):
    _cast_with_cases(cast)
    client = login(cast.coordinator)
    assert _names(client.get(URL, {"q": "bella"})) == ["Bella Adams"]
    assert _names(client.get(URL, {"q": "A-200"})) == ["Carl Brown"]
    assert _names(client.get(URL, {"q": "B-100"})) == []


def test_filters_by_site_stage_and_payer(cast, login):
    aetna = _cast_with_cases(cast)
    client = login(cast.coordinator)
    assert _names(client.get(URL, {"stage": "gating"})) == ["Bella Adams"]
    assert _names(client.get(URL, {"payer": aetna.pk})) == ["Bella Adams"]
    assert len(_names(client.get(URL, {"site": cast.site_a.pk}))) == 3
    # Another site's id is not a choice: the filter is ignored, the scope still applies.
    assert "Hidden Elsewhere" not in _names(client.get(URL, {"site": cast.site_b.pk}))


def test_sorting_by_a_column_and_in_reverse(cast, login):
    _cast_with_cases(cast)
    client = login(cast.coordinator)
    assert _names(client.get(URL, {"sort": "-name"}))[0] == MARKER_NAME
    assert _names(client.get(URL, {"sort": "dob"}))[0] == "Carl Brown"
    assert _names(client.get(URL, {"sort": "stage"}))[-1] == "Bella Adams"
    assert _names(client.get(URL, {"sort": "nonsense"})) == ["Bella Adams", "Carl Brown", MARKER_NAME]


def test_pages_keep_the_filters_in_their_links(cast, login):
    for i in range(30):
        make_case(cast.site_a, name=f"Child {i:02d}", mrn=f"P-{i}")
    response = login(cast.coordinator).get(URL, {"q": "Child", "sort": "-name"})
    assert len(response.context["rows"]) == 25 and response.context["page"].paginator.num_pages == 2
    body = response.content.decode()
    assert "?q=Child&amp;sort=-name&amp;page=2" in body
    second = login(cast.coordinator).get(URL, {"q": "Child", "sort": "-name", "page": 2})
    # "Markerchild" matches too and sorts first: 31 results, 6 on page 2.
    assert _names(second) == ["Child 05", "Child 04", "Child 03", "Child 02", "Child 01", "Child 00"]


def test_htmx_gets_only_the_results_partial(cast, login):
    body = login(cast.coordinator).get(URL, {"q": "Zyx"}, HTTP_HX_REQUEST="true").content.decode()
    assert body.lstrip().startswith('<section id="results"') and MARKER_NAME in body and "<html" not in body


def test_the_list_runs_the_same_number_of_queries_for_3_and_25_cases(cast, login, django_assert_num_queries):
    client = login(cast.coordinator)
    client.get(URL)
    for i in range(2):
        make_case(cast.site_a, name=f"Small {i}", mrn=f"S-{i}")
    with CaptureQueriesContext(connection) as small:
        client.get(URL)
    for i in range(22):
        make_case(cast.site_a, name=f"Large {i}", mrn=f"L-{i}")
    with django_assert_num_queries(len(small)):
        client.get(URL)
