"""surveyapp: safeguarding self-audits for local authorities, schools and trusts."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from surveyapp.config import load_config
from surveyapp.extensions import csrf, db, limiter, login_manager, migrate

#: where `npm ci` puts GOV.UK Frontend's built files; copied into static/ by the setup scripts
GOVUK_STATIC = Path(__file__).parent / "static" / "govuk"


def create_app(overrides: dict | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, errors, commands."""
    app = Flask(__name__, instance_path=os.environ.get("SURVEYAPP_INSTANCE") or None, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(load_config(app.instance_path, overrides))
    register_templates(app)
    register_extensions(app)
    register_blueprints(app)
    register_signal_receivers()
    register_errorhandlers(app)
    register_security(app)
    register_commands(app)
    return app


def register_templates(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("surveyapp"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    from govuk_frontend_wtf.main import WTFormsHelpers

    from surveyapp import filters

    WTFormsHelpers(app)
    filters.register(app)


def register_extensions(app: Flask) -> None:
    from surveyapp import models  # noqa: F401  (every table known to Alembic and create_all)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent.parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from surveyapp.dbsetup import configure_sqlite

        with app.app_context():
            configure_sqlite(db.engine)


def register_blueprints(app: Flask) -> None:
    from surveyapp.activity.views import bp as activity_bp
    from surveyapp.audits.views import bp as audits_bp
    from surveyapp.auth.views import bp as auth_bp
    from surveyapp.audits.manage_views import bp as manage_bp
    from surveyapp.establishments.views import bp as establishments_bp
    from surveyapp.main_views import bp as main_bp

    for blueprint in (main_bp, auth_bp, establishments_bp, manage_bp, audits_bp, activity_bp):
        app.register_blueprint(blueprint)
    from surveyapp.actions.views import bp as actions_bp
    from surveyapp.analysis.views import bp as analysis_bp
    from surveyapp.audits.cycle_views import bp as cycles_bp
    from surveyapp.chasing.views import bp as chasing_bp
    from surveyapp.la_actions.views import bp as la_actions_bp

    for blueprint in (chasing_bp, analysis_bp, actions_bp, cycles_bp, la_actions_bp):
        app.register_blueprint(blueprint)


def register_signal_receivers() -> None:
    """Connect the areas that follow another area's news (running cycles follow register imports)."""
    from surveyapp.audits import register_changes  # noqa: F401  (connects on import)


def register_errorhandlers(app: Flask) -> None:
    from surveyapp.errors import register

    register(app)


def register_security(app: Flask) -> None:
    from surveyapp.security import register

    register(app)


def register_commands(app: Flask) -> None:
    from surveyapp.cli import register

    register(app)
