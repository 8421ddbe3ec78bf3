"""Screens and documents cite public sources only, never an internal file (issue 12 item 8).

Users and payers read gate sources, scrubber findings, flag sources and the PA packet; those
print public labels ("FDA label §5.1", "Aetna CPB 0953", "Clinic billing card (payer practice)").
Code comments, docstrings and internal strings cite `docs/domain.md §N` (docs/domain.md header).
"""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from billing.packet import packet_create
from cases.models import Case
from demo.context import DEMO_CASES, DEMO_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
APP_DIRS = ("accounts", "billing", "cases", "common", "config", "demo", "monitoring")
# What no user- or payer-facing output may contain (checked with whitespace removed, since PDF
# text extraction breaks lines anywhere).
INTERNAL = ("domain.md", "shared/", "DESIGN.md", "BRIEF")
BARE_DOMAIN_MD = re.compile(r"(?<!docs/)domain\.md")


def _internal_refs(text: str) -> list[str]:
    flat = re.sub(r"\s+", "", text)
    return [needle for needle in INTERNAL if needle in flat]


def _login(username: str) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, f"{username} could not log in"
    return client


@pytest.fixture
def demo(db):
    from django.apps import apps

    from accounts.roles import ensure_roles

    ensure_roles(apps)
    call_command("seed_demo", verbosity=0)


def test_screens_and_the_pa_packet_cite_no_internal_file(demo):
    mrns = {f"{site}-{10001 + i}": key for i, (key, site, *_rest) in enumerate(DEMO_CASES) if site == "NCH"}
    cases = {mrns[c.patient.mrn]: c for c in Case.objects.filter(patient__mrn__in=mrns).select_related("patient")}
    pks = [case.pk for case in cases.values()]
    # (user, URL name, per-case?) for every screen or download that prints sources.
    pages = [
        *((user, "cases:detail", True) for user in ("coordinator", "physician", "billing", "manager")),
        ("coordinator", "cases:gate", True),
        ("coordinator", "monitoring:case_ics", True),
        ("physician", "cases:infusion", True),
        ("physician", "monitoring:steroids", True),
        ("billing", "billing:claim", True),
        ("billing", "billing:claim_csv", True),
        ("billing", "billing:reference", False),
        ("billing", "billing:payers", False),
        ("manager", "monitoring:protocol", False),
    ]
    clients = {user: _login(user) for user in {p[0] for p in pages}}
    found, rendered = [], {}
    for user, name, per_case in pages:
        for url in [reverse(name, args=[pk]) for pk in pks] if per_case else [reverse(name)]:
            response = clients[user].get(url)
            if response.status_code != 200:  # e.g. no signed infusion yet: no claim to show
                continue
            rendered[name] = rendered.get(name, 0) + 1
            body = b"".join(response) if response.streaming else response.content
            found += [f"{user} {url}: {ref}" for ref in _internal_refs(body.decode())]
    assert set(rendered) == {name for _user, name, _per_case in pages}, rendered

    by = get_user_model().objects.get(username="billing")
    # A final packet (every gate passes) and a draft that lists blockers with their fixes.
    for case, final in ((cases["ready"], True), (cases["titer_high"], False)):
        packet = packet_create(case=case, by=by, final=final)
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(packet.file.read())).pages)
        assert "Eligibility checklist" in text
        found += [f"packet for {case.patient.mrn}: {ref}" for ref in _internal_refs(text)]
    assert not found, "\n".join(found)


def _docstring_nodes(tree: ast.AST) -> set[int]:
    nodes = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                nodes.add(id(body[0].value))
    return nodes


def test_app_strings_cite_the_domain_reference_as_docs_domain_md():
    """A string that is not a docstring may be shown to someone: if it cites the domain
    reference at all, it names the repository file (docs/domain.md), never a bare domain.md."""
    bad = []
    for app in APP_DIRS:
        for path in sorted((ROOT / app).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            docstrings = _docstring_nodes(tree)
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in docstrings
                    and BARE_DOMAIN_MD.search(node.value)
                ):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:80]!r}")
    assert not bad, "\n".join(bad)


def test_templates_mention_domain_md_only_in_comments():
    comment = re.compile(r"\{#.*?#\}|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", re.S)
    bad = []
    for path in sorted((ROOT / "templates").rglob("*")):
        if path.is_file():
            text = comment.sub("", path.read_text(encoding="utf-8"))
            bad += [f"{path.relative_to(ROOT)}: {ref}" for ref in _internal_refs(text)]
    assert not bad, "\n".join(bad)
