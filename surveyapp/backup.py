"""Consistent backups of a live SQLite database (PostgreSQL is backed up with pg_dump)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    """The backup could not be taken; the message says why and what to do instead."""


def backup_sqlite(database_url: str, destination: str | Path) -> Path:
    """Copy a live SQLite database with SQLite's online backup API.

    Writers may keep working: the copy is a consistent snapshot, unlike copying the
    file (which can catch a half-written page or miss the write-ahead log).
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            "surveyapp db backup copies SQLite databases. For PostgreSQL use: "
            "pg_dump --format=custom DBNAME > surveyapp.dump (see README)."
        )
    source_path = url.database
    if not source_path or source_path == ":memory:" or not Path(source_path).exists():
        raise BackupError(f"There is no SQLite database at {source_path!r}")
    destination = Path(destination)
    if destination.is_dir():
        raise BackupError(
            f"{destination} is a folder: give a file name, e.g. {destination / 'surveyapp-backup.sqlite3'}"
        )
    if destination.exists():
        raise BackupError(f"{destination} already exists: choose a new file name")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(partial)
    try:
        with target:
            source.backup(target, pages=1024)
        check = target.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"The copy failed its integrity check: {check}")
    finally:
        target.close()
        source.close()
    partial.rename(destination)  # never leave a half-written file under the final name
    return destination
