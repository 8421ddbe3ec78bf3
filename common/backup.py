"""Backup and restore: the database (pg_dump/pg_restore for PostgreSQL, SQLite's online backup
API for SQLite) plus the uploaded documents, with a manifest of row counts to check a restore.

`make backup` writes data/backups/<timestamp>/; `make restore BACKUP=<dir>` restores it.

A backup holds every patient's data: its folder is 0700 and its files 0600 (owner only). A
restore first loads the backup into a scratch database and checks its row counts against the
manifest (and that the documents archive reads); only then does it replace the live data
(issue 13 item 4).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from contextlib import closing
from pathlib import Path

import psycopg
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


DIR_MODE = 0o700
FILE_MODE = 0o600


def _private_file(path: Path):
    """Create ``path`` readable and writable by its owner only (0600) and return it open for
    binary writing; refuse to reuse an existing file."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb")


def _private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) as 0700 (chmod too: mkdir's mode passes the umask)."""
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    path.mkdir(mode=DIR_MODE)
    path.chmod(DIR_MODE)


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
    _private_file(target / "db.dump").close()  # pg_dump writes into it and keeps its 0600
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
    The folder is created 0700 and every file 0600 (they hold every patient's data).
    """
    _private_dir(target)
    db = connection.settings_dict
    created_at = timezone.now().isoformat()
    if connection.vendor == "postgresql":
        counts = _pg_dump_with_counts(target, db)
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        _private_file(target / "db.sqlite3").close()
        with closing(sqlite3.connect(target / "db.sqlite3")) as dest:
            connection.connection.backup(dest)
        counts = _sqlite_file_counts(target / "db.sqlite3")
    else:
        raise RuntimeError(f"Backups support PostgreSQL and SQLite, not {connection.vendor}")
    manifest = {"created_at": created_at, "engine": db["ENGINE"], "counts": counts}
    media = Path(settings.MEDIA_ROOT)
    with _private_file(target / "media.tar.gz") as out, tarfile.open(fileobj=out, mode="w:gz") as tar:
        if media.exists():
            tar.add(media, arcname="media")
    with _private_file(target / "manifest.json") as out:
        out.write(json.dumps(manifest, indent=2, sort_keys=True).encode())
    return target


def _counts_differ(expected: dict[str, int], found: dict[str, int]) -> dict:
    return {k: (v, found.get(k)) for k, v in expected.items() if found.get(k) != v}


def _table_counts(cursor) -> dict[str, int]:
    counts = {}
    for model in _counted_models():
        table = connection.ops.quote_name(model._meta.db_table)  # the model's own name, not input
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
        counts[model._meta.label] = cursor.fetchone()[0]
    return counts


def _pg_verify_in_scratch(source: Path, db: dict, expected: dict[str, int]) -> None:
    """Load the dump into a new scratch database, compare its row counts with the manifest,
    then drop it. Raises RuntimeError (the live database untouched) when either fails."""
    scratch = f"{db['NAME'][:40]}_restore_check_{secrets.token_hex(4)}"
    quoted = connection.ops.quote_name(scratch)
    env, args = _pg_env_and_args(db)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {quoted}")  # the role has CREATEDB (scripts/services.sh)
    try:
        loaded = subprocess.run(
            [_pg_tool("pg_restore"), "--no-owner", "--exit-on-error", "-d", scratch, *args, str(source / "db.dump")],
            env=env,
            capture_output=True,
            timeout=1800,
        )
        if loaded.returncode != 0:
            detail = loaded.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
            raise RuntimeError(f"The backup's database dump does not load ({detail[0]}); nothing was replaced.")
        params = {"host": db.get("HOST") or "127.0.0.1", "user": db.get("USER") or "postgres", "dbname": scratch}
        if db.get("PORT"):
            params["port"] = db["PORT"]
        if db.get("PASSWORD"):
            params["password"] = db["PASSWORD"]
        with closing(psycopg.connect(**params, connect_timeout=30)) as checker, checker.cursor() as cursor:
            found = _table_counts(cursor)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    differ = _counts_differ(expected, found)
    if differ:
        raise RuntimeError(f"The backup's rows differ from its manifest: {differ}; nothing was replaced.")


def _sqlite_verify(source: Path, expected: dict[str, int]) -> None:
    path = source / "db.sqlite3"
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise RuntimeError("The backup's database file is damaged; nothing was replaced.")
        found = _sqlite_file_counts(path)
    except sqlite3.Error as exc:
        raise RuntimeError(f"The backup's database file cannot be read ({exc}); nothing was replaced.") from None
    differ = _counts_differ(expected, found)
    if differ:
        raise RuntimeError(f"The backup's rows differ from its manifest: {differ}; nothing was replaced.")


def _unpack_media(source: Path, media: Path) -> Path:
    """Extract the documents archive beside MEDIA_ROOT (not over it); return the new folder.
    Raises RuntimeError (and leaves nothing behind) when the archive does not read."""
    media.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=media.parent))
    try:
        with tarfile.open(source / "media.tar.gz", "r:gz") as tar:
            tar.extractall(staging, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise RuntimeError(f"The backup's documents archive does not read ({exc}); nothing was replaced.") from None
    return staging


def restore(source: Path) -> dict[str, int]:
    """Restore a backup made by backup() over the current database and MEDIA_ROOT.

    1. Verify before replacing anything: PostgreSQL loads the dump into a scratch database and
       counts its rows there; SQLite checks the file's integrity and counts; both compare with
       the manifest. The documents archive is unpacked beside MEDIA_ROOT.
    2. Only then replace the database and swap the unpacked documents into place.
    3. Count the live rows again. Returns them; raises RuntimeError when a check fails.
    """
    if connection.in_atomic_block:
        raise RuntimeError("A restore creates a scratch database; run it outside a transaction.")
    manifest = json.loads((source / "manifest.json").read_text())
    expected = manifest["counts"]
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        _pg_verify_in_scratch(source, db, expected)
    elif connection.vendor == "sqlite":
        _sqlite_verify(source, expected)
    else:
        raise RuntimeError(f"Restores support PostgreSQL and SQLite, not {connection.vendor}")
    media = Path(settings.MEDIA_ROOT)
    staging = _unpack_media(source, media)
    try:
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
        else:
            connection.ensure_connection()
            with closing(sqlite3.connect(source / "db.sqlite3")) as src:
                src.backup(connection.connection)
        old = media.with_name(f".{media.name}-replaced-{secrets.token_hex(4)}")
        if media.exists():
            media.rename(old)
        if (staging / "media").exists():
            (staging / "media").rename(media)
        else:
            media.mkdir()
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    counts = row_counts()
    differ = _counts_differ(expected, counts)
    if differ:
        raise RuntimeError(f"Restored row counts differ from the backup: {differ}")
    return counts
