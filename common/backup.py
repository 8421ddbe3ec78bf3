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
from contextlib import closing
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

COUNTED_APPS = ("cases", "billing", "monitoring", "auditlog", "auth", "otp_totp", "otp_static")


def _counted_models():
    for label in COUNTED_APPS:
        try:
            app = apps.get_app_config(label)
        except LookupError:
            continue
        yield from app.get_models()


def row_counts() -> dict[str, int]:
    """Rows per model of the apps that hold the clinic's data."""
    return {model._meta.label: model._default_manager.count() for model in _counted_models()}


def _sqlite_file_counts(path: Path) -> dict[str, int]:
    """row_counts() read from a SQLite backup file: what that file holds, whatever ran since."""
    counts = {}
    with closing(sqlite3.connect(path)) as db:
        for model in _counted_models():
            # The table name is the model's own (code, not input), quoted as an identifier.
            table = model._meta.db_table.replace('"', '""')
            counts[model._meta.label] = db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # noqa: S608
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


def _pg_dump_with_counts(target: Path, db: dict) -> dict[str, int]:
    """Dump the database and count its rows from one snapshot; return the counts.

    Counting first and dumping after let writes in between into the dump but not the counts, so
    a backup taken while people work failed its own restore check (issue 13 item 4). Instead:
    1. Open a REPEATABLE READ, READ ONLY transaction and export its snapshot
       (pg_export_snapshot, PostgreSQL manual "Snapshot Synchronization Functions").
    2. Count the rows inside it: every query of that transaction sees that snapshot.
    3. Run ``pg_dump --snapshot`` with it while the transaction stays open: the dump sees
       exactly what was counted, whatever is written meanwhile.
    """
    if connection.in_atomic_block:
        raise RuntimeError("A backup takes its own snapshot; run it outside a transaction.")
    env, args = _pg_env_and_args(db)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        counts = row_counts()
        subprocess.run(
            [
                _pg_tool("pg_dump"),
                "-Fc",
                "--no-owner",
                f"--snapshot={snapshot}",
                "-f",
                str(target / "db.dump"),
                *args,
                db["NAME"],
            ],
            check=True,
            env=env,
            capture_output=True,
            timeout=1800,
        )
    return counts


def backup(target: Path) -> Path:
    """Write a backup into ``target`` (created) and return it.

    1. Dump the database and count its rows per model (the manifest) from the same state:
       one exported snapshot for PostgreSQL (``_pg_dump_with_counts``); for SQLite the online
       backup API's copy, counted from the copy.
    2. Archive the uploaded documents (MEDIA_ROOT).
    """
    target.mkdir(parents=True, exist_ok=False)
    db = connection.settings_dict
    created_at = timezone.now().isoformat()
    if connection.vendor == "postgresql":
        counts = _pg_dump_with_counts(target, db)
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        with sqlite3.connect(target / "db.sqlite3") as dest:
            connection.connection.backup(dest)
        counts = _sqlite_file_counts(target / "db.sqlite3")
    else:
        raise RuntimeError(f"Backups support PostgreSQL and SQLite, not {connection.vendor}")
    manifest = {"created_at": created_at, "engine": db["ENGINE"], "counts": counts}
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
