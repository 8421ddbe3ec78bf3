"""Backup and restore: the database (pg_dump/pg_restore for PostgreSQL, SQLite's online backup
API for SQLite) plus the uploaded documents, with a manifest of row counts to check a restore.

`make backup` writes data/backups/<timestamp>/; `make restore BACKUP=<dir>` restores it.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

COUNTED_APPS = ("cases", "billing", "monitoring", "auditlog", "auth", "otp_totp", "otp_static")


def row_counts() -> dict[str, int]:
    """Rows per model of the apps that hold the clinic's data."""
    counts = {}
    for label in COUNTED_APPS:
        try:
            app = apps.get_app_config(label)
        except LookupError:
            continue
        for model in app.get_models():
            counts[model._meta.label] = model._default_manager.count()
    return counts


def _pg_env_and_args(db: dict) -> tuple[dict, list[str]]:
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    args = ["-h", str(db.get("HOST") or "127.0.0.1"), "-U", str(db.get("USER") or "postgres")]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    return env, args


def _pg_tool(name: str) -> str:
    """The pg_dump/pg_restore of the newest installed server (matches the server's version)."""
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True):
        if (base / name).exists():
            return str(base / name)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: install the PostgreSQL client (apt-get install postgresql-client)")
    return found


def backup(target: Path) -> Path:
    """Write a backup into ``target`` (created) and return it.

    1. Count rows per model (the manifest).
    2. Dump the database: pg_dump -Fc, or SQLite's backup API (consistent while the app runs).
    3. Archive the uploaded documents (MEDIA_ROOT).
    """
    target.mkdir(parents=True, exist_ok=False)
    db = connection.settings_dict
    manifest = {"created_at": timezone.now().isoformat(), "engine": db["ENGINE"], "counts": row_counts()}
    if connection.vendor == "postgresql":
        env, args = _pg_env_and_args(db)
        subprocess.run(
            [_pg_tool("pg_dump"), "-Fc", "--no-owner", "-f", str(target / "db.dump"), *args, db["NAME"]],
            check=True,
            env=env,
            capture_output=True,
            timeout=1800,
        )
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        with sqlite3.connect(target / "db.sqlite3") as dest:
            connection.connection.backup(dest)
    else:
        raise RuntimeError(f"Backups support PostgreSQL and SQLite, not {connection.vendor}")
    media = Path(settings.MEDIA_ROOT)
    with tarfile.open(target / "media.tar.gz", "w:gz") as tar:
        if media.exists():
            tar.add(media, arcname="media")
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return target


def restore(source: Path) -> dict[str, int]:
    """Restore a backup made by backup() over the current database and MEDIA_ROOT.

    Returns the restored row counts; raises RuntimeError if they differ from the manifest.
    """
    manifest = json.loads((source / "manifest.json").read_text())
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        connections.close_all()
        env, args = _pg_env_and_args(db)
        subprocess.run(
            [
                _pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "-d",
                db["NAME"],
                *args,
                str(source / "db.dump"),
            ],
            check=True,
            env=env,
            capture_output=True,
            timeout=1800,
        )
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        with sqlite3.connect(source / "db.sqlite3") as src:
            src.backup(connection.connection)
    else:
        raise RuntimeError(f"Restores support PostgreSQL and SQLite, not {connection.vendor}")
    media = Path(settings.MEDIA_ROOT)
    with tarfile.open(source / "media.tar.gz", "r:gz") as tar:
        if media.exists():
            shutil.rmtree(media)
        media.parent.mkdir(parents=True, exist_ok=True)
        tar.extractall(media.parent, filter="data")
    counts = row_counts()
    missing = {k: (v, counts.get(k)) for k, v in manifest["counts"].items() if counts.get(k) != v}
    if missing:
        raise RuntimeError(f"Restored row counts differ from the backup: {missing}")
    return counts
