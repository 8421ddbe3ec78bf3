"""The form renderer: Django's Jinja2 widget templates where Django ships them (the same HTML
as the Django-template versions in about half the time), else the Django templates, which the
admin's own widgets (related-object wrappers, split date/time) exist only as."""

from __future__ import annotations

from django.forms.renderers import BaseRenderer, DjangoTemplates, Jinja2
from django.template import TemplateDoesNotExist
from django.utils.functional import cached_property


class JinjaFirstRenderer(BaseRenderer):
    @cached_property
    def _jinja(self) -> Jinja2:
        return Jinja2()

    @cached_property
    def _django(self) -> DjangoTemplates:
        return DjangoTemplates()

    def get_template(self, template_name):
        try:
            return self._jinja.get_template(template_name)
        except TemplateDoesNotExist:
            return self._django.get_template(template_name)
