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
    register_proxies(app)
    register_converters(app)
    register_templates(app)
    register_extensions(app)
    register_blueprints(app)
    register_signal_receivers()
    register_errorhandlers(app)
    register_security(app)
    register_transaction(app)
    register_commands(app)
    return app


def register_proxies(app: Flask) -> None:
    """Believe X-Forwarded-For/-Proto only from the configured number of trusted proxies.

    Sign-in throttling and the activity log key on the client's address; behind a proxy every
    request would otherwise come from the proxy's one address.
    """
    count = app.config.get("TRUSTED_PROXY_COUNT", 0)
    if count < 0:
        from surveyapp.config import ConfigError

        raise ConfigError("TRUSTED_PROXY_COUNT must be 0 or more")
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)


def register_converters(app: Flask) -> None:
    from surveyapp.numbers import BoundedIntegerConverter

    app.url_map.converters["int"] = BoundedIntegerConverter


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
    from surveyapp.policy import may_in_template

    WTFormsHelpers(app)
    filters.register(app)
    app.jinja_env.globals["may"] = may_in_template


def register_extensions(app: Flask) -> None:
    from surveyapp import models  # noqa: F401  (every table known to Alembic and create_all)
    from surveyapp.auth.services import use_password_profile

    use_password_profile(app.config["PASSWORD_PROFILE"])

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
    """One blueprint per area of the product."""
    from surveyapp.actions.views import bp as actions_bp
    from surveyapp.activity_log.views import bp as activity_bp
    from surveyapp.analysis.views import bp as analysis_bp
    from surveyapp.audits.cycle_views import bp as cycles_bp
    from surveyapp.audits.editor_views import bp as editor_bp
    from surveyapp.audits.manage_views import bp as manage_bp
    from surveyapp.audits.views import bp as audits_bp
    from surveyapp.auth.views import bp as auth_bp
    from surveyapp.chasing.views import bp as chasing_bp
    from surveyapp.establishments.views import bp as establishments_bp
    from surveyapp.exports.views import bp as exports_bp
    from surveyapp.jobs.views import bp as jobs_bp
    from surveyapp.la_actions.views import bp as la_actions_bp
    from surveyapp.main_views import bp as main_bp
    from surveyapp.reports.views import bp as reports_bp

    for blueprint in (
        main_bp,
        auth_bp,
        establishments_bp,
        manage_bp,
        audits_bp,
        activity_bp,
        chasing_bp,
        analysis_bp,
        actions_bp,
        exports_bp,
        la_actions_bp,
        reports_bp,
        cycles_bp,
        editor_bp,
        jobs_bp,
    ):
        app.register_blueprint(blueprint)


def register_signal_receivers() -> None:
    """Connect the areas that follow another area's news (running cycles follow register imports, and
    action plans follow submitted and imported returns), and register the work each area does as jobs."""
    from surveyapp.actions import services as _actions  # noqa: F401  (connects on import)

    # The work of each kind of job, registered with the jobs area (surveyapp/jobs/work.py).
    from surveyapp.activity_log import jobs as _activity_log_jobs  # noqa: F401
    from surveyapp.audits import register_changes  # noqa: F401  (connects on import)
    from surveyapp.chasing import jobs as _chasing_jobs  # noqa: F401
    from surveyapp.establishments import jobs as _establishments_jobs  # noqa: F401
    from surveyapp.exports import jobs as _exports_jobs  # noqa: F401
    from surveyapp.reports import jobs as _reports_jobs  # noqa: F401


def register_errorhandlers(app: Flask) -> None:
    from surveyapp.errors import register

    register(app)


def register_security(app: Flask) -> None:
    from surveyapp.security import register

    register(app)


def register_transaction(app: Flask) -> None:
    from surveyapp.transaction import register

    register(app)


def register_commands(app: Flask) -> None:
    from surveyapp.cli import register

    register(app)
