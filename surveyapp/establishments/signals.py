"""What the establishments area tells the rest of the app, without importing it."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent once a register (GIAS) import has been applied, inside its transaction, with ``actor``. Areas that
#: hold establishments (running audit cycles) bring themselves in step and return what they changed, so
#: the import's preview, run in a savepoint that is rolled back, can show those consequences too.
register_imported = _signals.signal("register-imported")


def consequences_of_register_import(actor=None) -> list:
    """Tell every receiver the register changed; return everything they report, in one flat list."""
    results = []
    for _receiver, result in register_imported.send(None, actor=actor):
        results.extend(result or [])
    return results


def preview_register_import(apply_import, actor=None) -> list:
    """Apply an import and its consequences in a savepoint, note what changed, and roll it all back."""
    from surveyapp.extensions import db

    savepoint = db.session.begin_nested()
    try:
        apply_import()
        return consequences_of_register_import(actor)
    finally:
        savepoint.rollback()
