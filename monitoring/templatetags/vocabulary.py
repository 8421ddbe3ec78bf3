"""The one name of each draw kind (monitoring.kinds) and analyte (cases.analytes) in templates:
``{{ row.kind|kind_name }}`` -> "Liver panel", ``{{ row.analytes|analyte_names }}`` -> "ALT, AST"."""

from __future__ import annotations

from django import template

from cases.analytes import ANALYTES
from monitoring.kinds import kind_label

register = template.Library()


@register.filter
def kind_name(kind: str) -> str:
    return kind_label(kind)


@register.filter
def analyte_names(analytes) -> str:
    return ", ".join(ANALYTES[a].label if a in ANALYTES else a for a in analytes)
