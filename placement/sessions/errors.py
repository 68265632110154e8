"""Errors of the test-session layer (operations on candidates, sessions, results).

Each error carries a French ``message`` for people (the auditeur or the candidate) and an HTTP
``status`` the web app answers with. The web layer maps them in one place (``webui/errors.py``).

Exception tree::

    SessionsError                 base; status 400
    ├── NotFound                  a candidate, session, response, user... does not exist (404)
    ├── Forbidden                 the user may not do this (403)
    ├── Conflict                  the change clashes with the current state (409)
    │   └── StaleAnswer           an answer for an item that is no longer on screen (409)
    ├── InvalidInput              bad input from a person: missing reason, bad date... (400)
    │   └── InvalidAnswer         a candidate's answer that cannot be read (422)
    ├── CodeThrottled             too many wrong session codes from one address (429)
    └── LoginRefused              wrong user name or password, inactive account (401)
        └── LoginThrottled        too many failures: locked for a while (429)
"""

from __future__ import annotations


class SessionsError(Exception):
    """Base of the session layer's errors; ``message`` is French, for people."""

    status: int = 400
    default_message = "La demande n'a pas pu être traitée."

    def __init__(self, message: str | None = None, **detail: object) -> None:
        self.message = message or self.default_message
        self.detail = detail
        super().__init__(self.message)


class NotFound(SessionsError):
    """Something the request names does not exist (or was erased)."""

    status = 404
    default_message = "Introuvable."


class Forbidden(SessionsError):
    """The user's role does not allow this."""

    status = 403
    default_message = "Vous n'avez pas le droit de faire cela."


class Conflict(SessionsError):
    """The change clashes with the current state (already done, already finished...)."""

    status = 409
    default_message = "Cette action n'est plus possible dans l'état actuel."


class StaleAnswer(Conflict):
    """An answer for an item that is not the one on screen (double tap, old tab)."""

    default_message = "Cette réponse a déjà été enregistrée. Nous passons à la suite."


class InvalidInput(SessionsError):
    """Bad input from a person: a missing reason, a malformed date, an unknown value."""

    status = 400
    default_message = "Les informations saisies ne sont pas valables."


class InvalidAnswer(InvalidInput):
    """A candidate's answer that cannot be read for this item."""

    status = 422
    default_message = "Cette réponse ne peut pas être lue. Veuillez réessayer."


class CodeThrottled(SessionsError):
    """Too many wrong session codes typed from one address: refused for a while."""

    status = 429
    default_message = (
        "Trop de codes erronés depuis cet appareil. Attendez quelques minutes "
        "ou demandez de l'aide à l'agent."
    )


class LoginRefused(SessionsError):
    """Wrong user name or password, or an inactive account (one message for all: no hint)."""

    status = 401
    default_message = "Identifiant ou mot de passe incorrect."


class LoginThrottled(LoginRefused):
    """Too many failed logins for this user or this address: locked for a while."""

    status = 429
    default_message = (
        "Trop d'essais infructueux. Réessayez dans quelques minutes "
        "ou demandez à un administrateur."
    )
