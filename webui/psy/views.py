"""Views for psychometricians: no candidate name ever reaches these pages."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request
from flask.typing import ResponseReturnValue

from placement.sessions import exports
from placement.sessions.models import Role
from webui.auth import actor, login_required
from webui.extensions import db
from webui.psy import bp

PSY_ROLES = (Role.PSYCHOMETRICIAN, Role.ADMIN)


def _releases() -> tuple[list[dict[str, Any]], str | None]:
    """The published releases, newest first, with what their manifests say."""
    import itembank

    root = current_app.config.get("BANK_ROOT")
    try:
        versions = list(itembank.list_releases(root=root))
    except (OSError, ValueError, LookupError) as error:
        return [], str(error)
    rows = []
    for version in reversed(versions):
        row: dict[str, Any] = {"version": version}
        try:
            # listing only: the files' hashes are checked when a release is used for a test
            release = itembank.load_release(version, root=root, verify=False)
        except (OSError, ValueError, LookupError) as error:
            row["error"] = str(error)
        else:
            row["items"] = len(release.items)
            row["policy"] = release.policy
            row["created_at"] = getattr(release, "created_at", None)
            row["files"] = len(getattr(release, "manifest", {}) or {})
            changelog = getattr(release, "changelog", None)
            to_markdown = getattr(changelog, "to_markdown", None)
            row["changelog"] = to_markdown(version) if callable(to_markdown) else None
        rows.append(row)
    return rows, None


@bp.get("/")
@login_required(*PSY_ROLES)
def index() -> ResponseReturnValue:
    """Bank releases and the export."""
    releases, error = _releases()
    return render_template(
        "psy/index.html",
        releases=releases,
        error=error,
        n_responses=exports.response_count(db.session),
    )


@bp.get("/responses.csv")
@login_required(*PSY_ROLES)
def responses_csv() -> ResponseReturnValue:
    """Every response with its score, pseudonymous ids instead of names (CSV)."""
    release = request.args.get("release") or None
    content = exports.responses_csv(
        db.session, current_app.config["SECRET_KEY"], actor(), release=release
    )
    db.session.commit()
    response = current_app.response_class(content, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="responses.csv"'
    return response
