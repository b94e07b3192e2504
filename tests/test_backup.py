"""`surveyapp db backup`: a consistent copy of a live SQLite database that restores every response."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from surveyapp.audits.models import Answer, Response
from surveyapp.backup import BackupError, backup_sqlite
from surveyapp.extensions import db
from tests.conftest import database_url, make_app
from tests.journey_data import POLICIES_OK, PREVENT_OK


def test_backup_restores_every_response_and_answer(app, make, sign_in, client, tmp_path):
    if not database_url().startswith("sqlite"):
        with pytest.raises(BackupError, match="pg_dump"):
            backup_sqlite(database_url(), tmp_path / "copy.sqlite3")
        return
    schools = [make.establishment() for _ in range(3)]
    dsl = make.dsl(*schools)
    make.cycle()
    sign_in(dsl)
    for response in db.session.scalars(select(Response)).all():
        client.post(f"/audits/{response.id}/sections/policies", data=POLICIES_OK)
        client.post(f"/audits/{response.id}/sections/prevent", data=PREVENT_OK)
    expected = db.session.execute(
        select(Answer.response_id, Answer.question_key, Answer.value).order_by(Answer.id)
    ).all()
    assert len(expected) == 3 * 6

    result = app.test_cli_runner().invoke(args=["db", "backup", str(tmp_path / "copy.sqlite3")])
    assert result.exit_code == 0, result.output
    again = app.test_cli_runner().invoke(args=["db", "backup", str(tmp_path / "copy.sqlite3")])
    assert again.exit_code == 1 and "already exists" in again.output

    restored = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'copy.sqlite3'}")
    with restored.app_context():
        rows = db.session.execute(
            select(Answer.response_id, Answer.question_key, Answer.value).order_by(Answer.id)
        ).all()
        responses = db.session.scalar(select(func.count()).select_from(Response))
        db.session.remove()
        db.engine.dispose()
    assert rows == expected and responses == 3
