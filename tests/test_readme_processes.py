"""The README's production process list cannot rot: every documented command names a module
that imports, an application object that exists, and options its program accepts; the
worker and beat run as the unprivileged user, and refuse root in production."""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

import pytest
from celery.bin.beat import beat as beat_command
from celery.bin.worker import worker as worker_command
from gunicorn.config import KNOWN_SETTINGS

from config.celery import RunningAsRoot, refuse_root

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BLOCK = re.search(r"<!-- production-processes -->\n```sh\n(.*?)```\n<!-- /production-processes -->", README, re.S)


def commands() -> list[list[str]]:
    assert BLOCK, "README.md has no production-processes block"
    lines = [line for line in BLOCK.group(1).splitlines() if line.strip() and not line.startswith("#")]
    return [shlex.split(line) for line in lines]


def by_program() -> dict[str, list[str]]:
    out = {}
    for argv in commands():
        name = argv[0] if argv[0] != "celery" else f"celery {argv[3]}"
        out[name] = argv
    return out


def options(argv: list[str]) -> set[str]:
    return {arg.split("=")[0] for arg in argv if arg.startswith("--")}


def test_the_readme_documents_web_worker_and_beat():
    assert set(by_program()) == {"gunicorn", "celery worker", "celery beat"}


def test_the_web_command_names_a_wsgi_application_that_imports_and_options_gunicorn_knows():
    argv = by_program()["gunicorn"]
    target = next(arg for arg in argv[1:] if ":" in arg and not arg.startswith("-") and "." in arg.split(":")[0])
    module, attr = target.split(":")
    assert callable(getattr(importlib.import_module(module), attr))
    known = {flag for setting in KNOWN_SETTINGS for flag in (setting.cli or []) if flag.startswith("--")}
    assert options(argv) <= known, options(argv) - known
    assert argv[argv.index("--user") + 1] == "genegate"


@pytest.mark.parametrize(("program", "command"), [("celery worker", worker_command), ("celery beat", beat_command)])
def test_worker_and_beat_name_the_celery_app_and_run_as_genegate(program, command):
    argv = by_program()[program]
    assert argv[1] == "-A"
    package = importlib.import_module(argv[2])
    app = package.celery_app
    assert app.main == "genegate" and app.conf.beat_schedule
    for entry in app.conf.beat_schedule.values():  # every task the beat names can be imported
        module, _, name = entry["task"].rpartition(".")
        assert callable(getattr(importlib.import_module(module), name))
    known = {opt for param in command.params for opt in param.opts if opt.startswith("--")}
    assert options(argv) <= known, options(argv) - known
    assert argv[argv.index("--uid") + 1] == "genegate" and argv[argv.index("--gid") + 1] == "genegate"


def test_the_environment_the_readme_names_is_read_by_the_settings():
    settings_text = (ROOT / "config/settings.py").read_text()
    section = README.split("## Production processes", 1)[1].split("<!-- production-processes -->", 1)[0]
    names = re.findall(r"`([A-Z][A-Z_]+)(?:=[^`]*)?`", section)
    assert "SECRET_KEY" in names and "REDIS_URL" in names
    for name in names:
        if name != "DJANGO_SETTINGS_MODULE":
            assert f'"{name}' in settings_text, f"{name} is documented but config/settings.py does not read it"


def test_a_worker_or_beat_refuses_root_in_production_only():
    with pytest.raises(RunningAsRoot, match="--uid genegate"):
        refuse_root(0, debug=False, testing=False)
    refuse_root(1000, debug=False, testing=False)
    refuse_root(0, debug=True, testing=False)
    refuse_root(0, debug=False, testing=True)
