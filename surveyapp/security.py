"""Response headers and session lifetime rules applied to every request."""

from __future__ import annotations

from flask import Flask, request, session
from flask_login import current_user, logout_user

from surveyapp.timeutil import utcnow

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def register(app: Flask) -> None:
    @app.before_request
    def end_idle_sign_in() -> None:
        # The sign-in ends after SESSION_IDLE_TIMEOUT without a request, but the
        # cookie (and its CSRF secret) stays, so a save posted after the timeout
        # can be kept while the user signs in again.
        if request.endpoint == "static" or not current_user.is_authenticated:
            return
        now = utcnow().timestamp()
        last_seen = session.get("last_seen")
        signed_in_at = session.get("signed_in_at", now)
        idle = app.config["SESSION_IDLE_TIMEOUT"].total_seconds()
        absolute = app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
        if (last_seen is not None and now - last_seen > idle) or now - signed_in_at > absolute:
            logout_user()
            # "timeout": idle for SESSION_IDLE_TIMEOUT (the sign-in page says so); "expired": the absolute limit.
            session["signed_out_reason"] = "timeout" if now - signed_in_at <= absolute else "expired"
            return
        session["last_seen"] = now

    @app.after_request
    def set_security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["ENV_NAME"] == "production":
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint != "static" and not request.path.startswith("/assets/"):
            # Pages may carry audit data: never keep them in a shared or back-button cache.
            headers["Cache-Control"] = "no-store"
        return response
