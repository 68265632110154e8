"""Operations on candidates, test sessions and overrides: the only code that changes them.

Each operation takes a SQLAlchemy ``Session``, does its change, writes an audit event, flushes
and never commits (the caller owns the transaction: a view or the command line). Bad input raises
a domain error from :mod:`placement.sessions.errors` with a French message, before anything is
changed.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from itembank.model import SKILLS
from placement.cat.rules import LEVELS
from placement.sessions import audit, offices
from placement.sessions.audit import Actor
from placement.sessions.errors import Conflict, Forbidden, InvalidInput, NotFound
from placement.sessions.models import (
    Candidate,
    Override,
    Response,
    Result,
    Role,
    SessionState,
    Stage,
    TestSession,
    User,
    utcnow,
)

#: Letters and digits of a session code: no 0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G to misread.
CODE_ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
CODE_LENGTH = 6
#: How long a session code can be typed on the tablet.
CODE_TTL = timedelta(hours=4)
#: Shortest written reason for an override.
MIN_REASON_LENGTH = 10
DECISION_KINDS = ("dispense", "prescription")
#: The states of a test not yet over: created, or opened on the tablet.
RUNNING_STATES = (SessionState.WAITING, SessionState.IN_PROGRESS)
_DOSSIER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.-]{2,39}$")


def require_role(user: User | Actor, *roles: Role) -> None:
    """Raise Forbidden unless ``user`` has one of ``roles`` (admins may do anything; the
    system actor of jobs and the command line too)."""
    if isinstance(user, User) and Role(user.role) not in roles and Role(user.role) != Role.ADMIN:
        raise Forbidden()


# --- candidates ---------------------------------------------------------------------------


def require_not_erased(candidate: Candidate) -> None:
    """Raise Conflict if the candidate's personal data were erased."""
    if candidate.erased_at is not None:
        raise Conflict("Les données de ce candidat ont été effacées.")


#: why a second test of a candidate is refused
RUNNING_MESSAGE = (
    "Un test est déjà en cours pour ce candidat : reprenez-le ou abandonnez-le d'abord."
)


def running_test(candidate: Candidate) -> TestSession | None:
    """The candidate's test that is waiting or in progress, if any."""
    return next((s for s in candidate.sessions if s.state in RUNNING_STATES), None)


def has_running_test(candidate: Candidate) -> bool:
    """Whether one of the candidate's tests is waiting or in progress."""
    return running_test(candidate) is not None


def _clean_name(value: str, what: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise InvalidInput(f"Le {what} est obligatoire.")
    if len(value) > 120:
        raise InvalidInput(f"Le {what} ne peut pas dépasser 120 caractères.")
    return value


def normalise_dossier(dossier_number: str) -> str:
    """The dossier number as stored: stripped, upper case; raises InvalidInput if malformed."""
    value = dossier_number.strip().upper()
    if not _DOSSIER_RE.fullmatch(value):
        raise InvalidInput(
            "Le numéro de dossier doit compter 3 à 40 lettres, chiffres ou les signes / _ . -"
        )
    return value


def parse_birth_date(value: str | date | None) -> date | None:
    """A birth date from ``AAAA-MM-JJ`` or ``JJ/MM/AAAA``; raises InvalidInput if impossible."""
    if value is None or isinstance(value, date):
        return value
    value = value.strip()
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            parsed = datetime.strptime(value, fmt).replace(tzinfo=UTC).date()
        except ValueError:
            continue
        if parsed > utcnow().date() or parsed.year < 1900:
            raise InvalidInput("La date de naissance n'est pas plausible.")
        return parsed
    raise InvalidInput("La date de naissance doit s'écrire JJ/MM/AAAA.")


def create_candidate(
    db: Session,
    user: User | Actor,
    *,
    dossier_number: str,
    last_name: str,
    first_name: str,
    birth_date: str | date | None = None,
    help_language: str | None = None,
    non_reader: bool = False,
) -> Candidate:
    """Register a candidate; raises Conflict if the dossier number is already known."""
    require_role(user, Role.AUDITEUR)
    dossier = normalise_dossier(dossier_number)
    if db.scalar(select(Candidate.id).where(Candidate.dossier_number == dossier)) is not None:
        raise Conflict(f"Le dossier {dossier} existe déjà.")
    candidate = Candidate(
        dossier_number=dossier,
        last_name=_clean_name(last_name, "nom"),
        first_name=_clean_name(first_name, "prénom"),
        birth_date=parse_birth_date(birth_date),
        help_language=(help_language or "").strip()[:40] or None,
        non_reader=bool(non_reader),
    )
    db.add(candidate)
    db.flush()
    audit.record(db, user, "candidate.create", candidate_id=candidate.id)
    db.flush()
    return candidate


def get_candidate(db: Session, candidate_id: int, user: User | Actor | None = None) -> Candidate:
    """The candidate; with ``user``, the view is written in the audit trail. Raises NotFound."""
    candidate = db.get(Candidate, candidate_id)
    if candidate is None:
        raise NotFound("Ce candidat n'existe pas.")
    if user is not None:
        audit.record(db, user, "candidate.view", candidate_id=candidate.id)
    return candidate


def find_candidate(db: Session, dossier_number: str) -> Candidate | None:
    """The candidate with this dossier number, if any (not audited: the number is the query)."""
    try:
        dossier = normalise_dossier(dossier_number)
    except InvalidInput:
        return None
    return db.scalar(select(Candidate).where(Candidate.dossier_number == dossier))


def set_candidate_non_reader(
    db: Session, candidate_id: int, non_reader: bool, user: User | Actor
) -> Candidate:
    """Mark a candidate non-lecteur/non-scripteur (before a test; after one, use an override)."""
    candidate = get_candidate(db, candidate_id)
    candidate.non_reader = bool(non_reader)
    audit.record(
        db,
        user,
        "candidate.non_reader",
        candidate_id=candidate.id,
        detail={"non_reader": candidate.non_reader},
    )
    db.flush()
    return candidate


# --- sessions -----------------------------------------------------------------------------


def new_code() -> str:
    """A random session code such as ``K7P-4QX`` (22 symbols, 6 places: ~1.1e8 codes)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:3]}-{raw[3:]}"


def normalise_code(code: str) -> str:
    """A typed code as stored: upper case, without spaces, with its dash."""
    raw = re.sub(r"[^A-Za-z0-9]", "", code).upper()
    return f"{raw[:3]}-{raw[3:]}" if len(raw) == CODE_LENGTH else raw


def _unique_code(db: Session) -> str:
    for _ in range(20):
        code = new_code()
        if db.scalar(select(TestSession.id).where(TestSession.code == code)) is None:
            return code
    raise Conflict("Impossible de créer un code de session ; réessayez.")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class ReleaseChoice:
    """The bank release and policy a new session is started on."""

    release_version: str
    policy: str


def resolve_release(release_version: str | None, policy: str | None) -> ReleaseChoice:
    """The release (None: newest) and policy (None: the release's) that exist; else NotFound."""
    from placement.sessions.bankcache import engine_bank

    try:
        bank = engine_bank(release_version, policy=policy)
    except NotFound as error:
        if release_version is None and "banque" in error.message:
            raise NotFound(
                "Aucune version de la banque de questions n'est publiée : un administrateur "
                "doit en construire une (« itembank build »)."
            ) from error
        raise
    return ReleaseChoice(bank.version, policy or str(bank.release.policy))


def require_non_reader_path(choice: ReleaseChoice, rules: str = "cir") -> None:
    """Raise Conflict, in French, when the release cannot fill a non-reader's test.

    The engine's own check (``placement.cat.check_blueprint`` on the non-reader path: items of
    the non-reader skills that need no reading) decides; this only says it to the auditeur.
    """
    from placement.cat import check_blueprint
    from placement.errors import BlueprintUnsatisfiable
    from placement.sessions.bankcache import engine_bank

    bank = engine_bank(choice.release_version, rules=rules, policy=choice.policy)
    try:
        check_blueprint(bank.pool, bank.rules, non_reader=True)
    except BlueprintUnsatisfiable as error:
        detail = (
            f"la partie {error.skill} demande au moins {error.needed} questions sans lecture, "
            f"la banque en a {error.available}"
            if error.skill is not None
            else str(error)
        )
        raise Conflict(
            f"La version {choice.release_version} de la banque de questions ne peut pas faire "
            f"passer le test d'un candidat non-lecteur : {detail}. Lancez le test sans la case "
            "« non-lecteur », ou publiez une version de la banque qui a assez de questions "
            "sans lecture."
        ) from error


def start_session(
    db: Session,
    candidate_id: int,
    user: User | Actor,
    release_version: str | None = None,
    policy: str | None = None,
    *,
    rules: str = "cir",
    code_ttl: timedelta = CODE_TTL,
    language: str | None = None,
) -> TestSession:
    """Start a test for a candidate: a random seed, a short code for the tablet, a secret token.

    ``language`` is the ISO 639 code of the language the tablet's own words are given in
    besides French (the web layer checks it against its list); None: French only.
    Raises NotFound for an unknown candidate, release or policy, Conflict for an erased
    candidate, one whose test is already running, or a non-reader on a release whose non-reader
    pool cannot fill the blueprint, InvalidInput for a malformed language code.
    """
    require_role(user, Role.AUDITEUR)
    language = (language or "").strip().lower() or None
    if language is not None and not re.fullmatch(r"[a-z]{2,3}", language):
        raise InvalidInput("La langue du candidat est inconnue.")
    candidate = get_candidate(db, candidate_id)
    require_not_erased(candidate)
    if has_running_test(candidate):
        raise Conflict(RUNNING_MESSAGE)
    choice = resolve_release(release_version, policy)
    if candidate.non_reader:
        require_non_reader_path(choice, rules)
    now = utcnow()
    creator_id = user.id if isinstance(user, User) else user.user_id
    creator = db.get(User, creator_id) if creator_id is not None else None
    session = TestSession(
        candidate=candidate,
        office_id=offices.office_of(db, creator),
        created_by_id=creator_id,
        code=_unique_code(db),
        code_expires_at=now + code_ttl,
        token=secrets.token_urlsafe(32),
        release_version=choice.release_version,
        policy=choice.policy,
        rules=rules,
        seed=secrets.randbits(62),
        state=SessionState.WAITING,
        stage=Stage.WELCOME,
        non_reader=candidate.non_reader,
        language=language,
        created_at=now,
    )
    db.add(session)
    db.flush()
    audit.record(
        db,
        user,
        "session.create",
        candidate_id=candidate.id,
        session_id=session.id,
        detail={
            "release": choice.release_version,
            "policy": choice.policy,
            "rules": rules,
            "language": language,
        },
    )
    db.flush()
    return session


def get_session(db: Session, session_id: int, user: User | Actor | None = None) -> TestSession:
    """The session; with ``user``, the view is audited. Raises NotFound."""
    session = db.get(TestSession, session_id)
    if session is None:
        raise NotFound("Cette session de test n'existe pas.")
    if user is not None:
        audit.record(
            db,
            user,
            "session.view",
            candidate_id=session.candidate_id,
            session_id=session.id,
        )
    return session


def abandon_session(db: Session, session_id: int, user: User | Actor) -> TestSession:
    """Mark an unfinished session abandoned; the tablet's token stops working."""
    require_role(user, Role.AUDITEUR)
    session = get_session(db, session_id)
    if session.state not in RUNNING_STATES:
        raise Conflict("Seul un test en attente ou en cours peut être abandonné.")
    previous = session.state
    session.state = SessionState.ABANDONED
    session.token = secrets.token_urlsafe(32)
    session.code_expires_at = utcnow()
    audit.record(
        db,
        user,
        "session.abandon",
        candidate_id=session.candidate_id,
        session_id=session.id,
        detail={"from": previous},
    )
    db.flush()
    return session


def release_code(db: Session, session_id: int, user: User | Actor) -> TestSession:
    """Let the session's code be opened on another tablet (the first one broke, say).

    The token changes, so the device that held the test loses it; the code stays as it was (a
    new one if it expired: :func:`resume_session`). Raises Conflict for a finished test.
    """
    require_role(user, Role.AUDITEUR)
    session = get_session(db, session_id)
    if session.finished_at is not None or session.state not in RUNNING_STATES:
        raise Conflict("Ce test n'est pas en cours : son code ne peut pas être libéré.")
    session.code_used_at = None
    session.token = secrets.token_urlsafe(32)
    audit.record(
        db, user, "session.release", candidate_id=session.candidate_id, session_id=session.id
    )
    db.flush()
    return session


def resume_session(
    db: Session, session_id: int, user: User | Actor, *, code_ttl: timedelta = CODE_TTL
) -> TestSession:
    """Give an unfinished (or abandoned) session a new code and token: it goes on where it was.

    Also serves when the code expired before the tablet opened it, or the tablet broke.
    """
    require_role(user, Role.AUDITEUR)
    session = get_session(db, session_id)
    if (
        session.state not in (*RUNNING_STATES, SessionState.ABANDONED)
        or session.finished_at is not None
    ):
        raise Conflict("Ce test est terminé : il ne peut pas être repris.")
    previous = session.state
    session.code = _unique_code(db)
    session.code_expires_at = utcnow() + code_ttl
    session.token = secrets.token_urlsafe(32)
    session.code_used_at = None
    # the tablet comes back through the code; the stage and the pending item are kept
    session.state = SessionState.WAITING
    audit.record(
        db,
        user,
        "session.resume",
        candidate_id=session.candidate_id,
        session_id=session.id,
        detail={"from": previous},
    )
    db.flush()
    return session


def local_day_bounds(day: date, tz: str = "Europe/Paris") -> tuple[datetime, datetime]:
    """The UTC instants where ``day`` starts and ends in the office's time zone."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def sessions_of_day(
    db: Session, day: date, tz: str = "Europe/Paris", *, viewer: User | None = None
) -> list[TestSession]:
    """The sessions created on ``day`` (office time), oldest first; with ``viewer``, only those
    of the viewer's office (all for a national administrator)."""
    start, end = local_day_bounds(day, tz)
    return list(
        db.scalars(
            offices.visible_sessions(select(TestSession), viewer)
            .where(TestSession.created_at >= start, TestSession.created_at < end)
            .order_by(TestSession.created_at, TestSession.id)
            # the desk's list (polled every few seconds) reads all of these: one query each
            .options(
                selectinload(TestSession.candidate),
                selectinload(TestSession.responses),
                selectinload(TestSession.results),
                selectinload(TestSession.overrides),
                selectinload(TestSession.attestations),
                selectinload(TestSession.created_by),
            )
        )
    )


def today(tz: str = "Europe/Paris") -> date:
    """The office's current date."""
    return datetime.now(ZoneInfo(tz)).date()


# --- results and overrides -----------------------------------------------------------------


def latest_result(session: TestSession) -> Result | None:
    """The machine's newest result of the session (None before any)."""
    return session.results[-1] if session.results else None


def _check_reason(reason: str | None) -> str:
    text = " ".join((reason or "").split())
    if len(text) < MIN_REASON_LENGTH:
        raise InvalidInput(
            f"Une raison écrite d'au moins {MIN_REASON_LENGTH} caractères est obligatoire."
        )
    if len(text) > 2000:
        raise InvalidInput("La raison ne peut pas dépasser 2000 caractères.")
    return text


def _recompute(db: Session, session: TestSession) -> Result | None:
    """A new machine result with the overrides applied (E2's results.compute_result)."""
    if session.state in RUNNING_STATES:
        return None  # the test flow computes the result when the test ends
    from placement.sessions.results import compute_result
    from placement.sessions.testflow import settle_state

    db.flush()
    db.refresh(session, ["overrides", "responses"])
    if session.finished_at is not None and session.state != SessionState.ABANDONED:
        # a reviewed response may have been the last one waiting: the desk shows "done"
        session.state = settle_state(session)
    pending = any(r.score is None and not r.pretest for r in session.responses)
    return compute_result(db, session, status="provisional" if pending else "final")


def _add_override(
    db: Session,
    session: TestSession,
    user: User,
    *,
    target: str,
    from_value: Mapping[str, Any] | None,
    to_value: Mapping[str, Any],
    reason: str,
    response_id: int | None = None,
) -> Override:
    override = Override(
        session_id=session.id,
        response_id=response_id,
        user_id=user.id,
        target=target,
        from_value=dict(from_value) if from_value is not None else None,
        to_value=dict(to_value),
        reason=reason,
    )
    db.add(override)
    db.flush()
    audit.record(
        db,
        user,
        "override.create",
        candidate_id=session.candidate_id,
        session_id=session.id,
        detail={"override_id": override.id, "target": target, "to": dict(to_value)},
    )
    return override


def _overridable(db: Session, session_id: int, user: User) -> TestSession:
    require_role(user, Role.AUDITEUR)
    session = get_session(db, session_id)
    require_not_erased(session.candidate)
    return session


def override_response(
    db: Session, session_id: int, response_id: int, *, score: int, reason: str, user: User
) -> Override:
    """Set a response's score (the auditeur's review), then recompute the result."""
    session = _overridable(db, session_id, user)
    reason = _check_reason(reason)
    response = db.get(Response, response_id)
    if response is None or response.session_id != session.id:
        raise NotFound("Cette réponse n'existe pas dans cette session.")
    if not 0 <= score <= response.max_score:
        raise InvalidInput(f"La note doit être comprise entre 0 et {response.max_score}.")
    from placement.sessions.results import response_scores

    current = response_scores(session).get(response.id)
    override = _add_override(
        db,
        session,
        user,
        target="response",
        from_value={"score": current, "scorer": response.scorer},
        to_value={"score": int(score)},
        reason=reason,
        response_id=response.id,
    )
    _recompute(db, session)
    db.flush()
    return override


def confirm_machine_scores(
    db: Session, session_id: int, *, reason: str, user: User
) -> list[Override]:
    """Confirm, with one reason, the machine's score of every response still to check.

    Each confirmation is an override like any review (the score kept, the reason written), so
    the session leaves the "to review" state. Raises Conflict, changing nothing, while a
    response to check has no machine score yet (being transcribed, or failed): the auditeur
    scores that one.
    """
    session = _overridable(db, session_id, user)
    reason = _check_reason(reason)
    from placement.sessions.results import response_scores, responses_to_check

    pending = responses_to_check(session)
    unscored = [r for r in pending if r.score is None]
    if unscored:
        raise Conflict(
            f"{len(unscored)} réponse(s) n'ont pas encore de note de la machine "
            "(transcription en cours ou impossible) : notez-les vous-même."
        )
    return _confirm(db, session, pending, response_scores(session), reason=reason, user=user)


def confirm_response(
    db: Session, session_id: int, response_id: int, *, reason: str, user: User
) -> Override:
    """Confirm the machine's score of one response (the desk's one tap), like
    :func:`confirm_machine_scores` does for all of them. Raises InvalidInput when the response has
    no machine score to confirm (the auditeur then chooses one)."""
    session = _overridable(db, session_id, user)
    reason = _check_reason(reason)
    response = db.get(Response, response_id)
    if response is None or response.session_id != session.id:
        raise NotFound("Cette réponse n'existe pas dans cette session.")
    from placement.sessions.results import response_scores

    scores = response_scores(session)
    if scores.get(response.id) is None:
        raise InvalidInput("Cette réponse n'a pas de note à confirmer : choisissez-en une.")
    return _confirm(db, session, [response], scores, reason=reason, user=user)[0]


def _confirm(
    db: Session,
    session: TestSession,
    responses: list[Response],
    scores: dict[int, int | None],
    *,
    reason: str,
    user: User,
) -> list[Override]:
    """One confirmation override per response (its current score kept, marked ``confirmed``)."""
    overrides = [
        _add_override(
            db,
            session,
            user,
            target="response",
            from_value={"score": scores.get(r.id), "scorer": r.scorer},
            to_value={"score": scores.get(r.id), "confirmed": True},
            reason=reason,
            response_id=r.id,
        )
        for r in responses
    ]
    if overrides:
        _recompute(db, session)
    db.flush()
    return overrides


def override_level(
    db: Session, session_id: int, skill: str, *, level: str, reason: str, user: User
) -> Override:
    """Set a skill's level (``skill`` CO/CE/EO/EE or ``global``) beside the machine's."""
    session = _overridable(db, session_id, user)
    reason = _check_reason(reason)
    if skill not in (*SKILLS, "global"):
        raise InvalidInput(f"Compétence inconnue : {skill}.")
    if level not in LEVELS:
        raise InvalidInput(f"Niveau inconnu : {level}.")
    effective = effective_result(session)
    if effective is None:
        raise Conflict("Aucun résultat n'a encore été calculé pour ce test.")
    override = _add_override(
        db,
        session,
        user,
        target=f"level:{skill}",
        from_value={"level": effective.levels.get(skill)},
        to_value={"level": level},
        reason=reason,
    )
    db.flush()
    return override


#: The longest optional-training key accepted from a form (names in the policies are shorter).
MAX_TRAINING_KEY = 120


def policy_trainings(policy_name: str) -> dict[str, dict[str, Any]]:
    """The optional trainings of a policy, by every key that names one (its name, its target
    level, ``B1_oral`` for an oral one; case-insensitive): the only ones a document may print."""
    from placement.levels import load_policy

    try:
        policy = load_policy(policy_name)
    except (OSError, ValueError, LookupError):
        return {}
    known: dict[str, dict[str, Any]] = {}
    for training in policy.optional_trainings:
        keys = [training.name, training.target]
        if "oral" in training.name.casefold():
            keys += [f"{training.target}_oral", f"{training.target}-oral"]
        for key in keys:
            known.setdefault(key.casefold(), training.to_dict())
    return known


def known_training(known: dict[str, dict[str, Any]], given: Any) -> dict[str, Any] | None:
    """The policy's training that ``given`` (a key, or a stored training dict) names, if any."""
    if isinstance(given, Mapping):
        given = given.get("name") or given.get("id") or ""
    if not isinstance(given, str) or len(given) > MAX_TRAINING_KEY:
        return None
    return known.get(given.strip().casefold())


def override_decision(
    db: Session,
    session_id: int,
    kind: str,
    *,
    hours: int,
    reason: str,
    user: User,
    optional_trainings: list[str] | None = None,
) -> Override:
    """Set the decision (dispense, or prescription with hours) beside the machine's."""
    session = _overridable(db, session_id, user)
    reason = _check_reason(reason)
    if kind not in DECISION_KINDS:
        raise InvalidInput("La décision doit être « dispense » ou « prescription ».")
    if kind == "dispense":
        hours = 0
    elif not 0 < hours <= 1000:
        raise InvalidInput("Une prescription doit compter entre 1 et 1000 heures.")
    effective = effective_result(session)
    if effective is None:
        raise Conflict("Aucun résultat n'a encore été calculé pour ce test.")
    # only the policy's trainings, as the policy words them: never free text on a document
    known = policy_trainings(session.policy)
    chosen: list[dict[str, Any]] = []
    for given in optional_trainings or []:
        training = known_training(known, given)
        if training is None:
            names = " ; ".join(sorted({t["name"] for t in known.values()})) or "aucune"
            raise InvalidInput(
                f"Formation facultative inconnue de la politique {session.policy} "
                f"(possibles : {names})."
            )
        if training not in chosen:
            chosen.append(training)
    override = _add_override(
        db,
        session,
        user,
        target="decision",
        from_value=dict(effective.decision),
        to_value={"kind": kind, "hours": int(hours), "optional_trainings": chosen},
        reason=reason,
    )
    db.flush()
    return override


def override_non_reader(
    db: Session, session_id: int, *, non_reader: bool, reason: str, user: User
) -> Override:
    """Mark the candidate non-lecteur/non-scripteur (or not) for this test; recomputes."""
    session = _overridable(db, session_id, user)
    reason = _check_reason(reason)
    from placement.irt.errors import BlueprintUnsatisfiable, InvalidState
    from placement.sessions.results import effective_non_reader

    savepoint = db.begin_nested()
    try:
        override = _add_override(
            db,
            session,
            user,
            target="non_reader",
            from_value={"non_reader": effective_non_reader(session)},
            to_value={"non_reader": bool(non_reader)},
            reason=reason,
        )
        _recompute(db, session)
    except (InvalidState, BlueprintUnsatisfiable):
        # results keeps only the non-reader path's answers; should the engine still refuse the
        # state (a bank without a non-reader path, say), nothing is kept and the auditeur can
        # set the decision instead
        savepoint.rollback()
        db.expire(session)
        raise Conflict(
            "Le résultat ne peut pas être recalculé en non-lecteur avec cette version de la "
            "banque. Corrigez plutôt la décision, avec sa raison."
        ) from None
    savepoint.commit()
    db.flush()
    return override


@dataclass(frozen=True, slots=True)
class EffectiveResult:
    """The machine's newest result seen through the auditeur's corrections: what is retained.

    One way from levels to a decision: the retained levels (the machine's, or the auditeur's
    where corrected) give the ``proposed`` decision through the session's policy file
    (:func:`placement.levels.reassess`); the retained ``decision`` is that one, unless the
    auditeur decided otherwise with a reason of its own (``auditeur_decision``).
    """

    machine: Result
    #: skill (and "global") -> level shown; overridden ones differ from the machine's
    levels: dict[str, str | None]
    decision: dict[str, Any]
    #: which parts an auditeur set: "level:CO", "decision"...
    overridden: frozenset[str]
    #: the policy's decision for the retained levels (the machine's when nothing was corrected)
    proposed: dict[str, Any] = field(default_factory=dict)
    #: the auditeur's reason when the retained decision departs from the proposed one
    decision_reason: str | None = None

    @property
    def kind(self) -> str:
        """``dispense`` or ``prescription``."""
        return str(self.decision.get("kind", ""))

    @property
    def hours(self) -> int:
        """Prescribed hours (0 for a dispense)."""
        return int(self.decision.get("hours") or 0)

    @property
    def auditeur_decision(self) -> bool:
        """Whether the auditeur's decision departs from what the policy gives for the levels."""
        return self.decision_reason is not None


def machine_levels(result: Result) -> dict[str, str | None]:
    """The machine's level per skill and ``global`` from a result row."""
    levels: dict[str, str | None] = {}
    for skill in SKILLS:
        entry = result.levels.get(skill)
        levels[skill] = entry.get("level") if isinstance(entry, Mapping) else None
    levels["global"] = result.global_level
    return levels


def same_decision(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two decisions are the same kind with the same hours."""
    return a.get("kind") == b.get("kind") and int(a.get("hours") or 0) == int(b.get("hours") or 0)


def proposed_decision(
    session: TestSession, result: Result, retained: Mapping[str, str]
) -> dict[str, Any]:
    """The policy's decision for the machine's levels with ``retained`` ones in their place."""
    if not retained:
        return dict(result.decision)
    from placement.irt import Estimate
    from placement.levels import reassess
    from placement.sessions.results import bank_for, effective_non_reader

    try:
        bank = bank_for(session)
    except NotFound:
        # the release is gone from this server: the levels cannot be placed on its cuts, so
        # the machine's decision stands (the page says the bank is unavailable)
        return dict(result.decision)
    non_reader = effective_non_reader(session, loaded=True)
    estimates = {
        skill: Estimate(float(e["theta"]), float(e["se"])) if isinstance(e, Mapping) else None
        for skill, e in (result.estimates or {}).items()
    }
    assessment = reassess(
        estimates,
        bank.cut_scores,
        retained,
        bank.policy,
        non_reader=non_reader,
    )
    return assessment.decision.to_dict()


def _offered_trainings(session: TestSession, levels: Mapping[str, str | None]) -> list[Any]:
    """The optional trainings the session's policy offers a dispensed candidate at ``levels``."""
    from placement.levels import optional_trainings_for
    from placement.sessions.results import bank_for

    try:
        policy = bank_for(session).policy
    except NotFound:
        return []
    return [t.to_dict() for t in optional_trainings_for(policy, levels)]


def effective_result(session: TestSession) -> EffectiveResult | None:
    """The newest machine result with the newest level and decision overrides, or None."""
    result = latest_result(session)
    if result is None:
        return None
    levels = machine_levels(result)
    retained: dict[str, str] = {}
    decision_override: Override | None = None
    overridden: set[str] = set()
    for override in session.overrides:  # ordered by id: the newest wins
        if override.target.startswith("level:"):
            skill = override.target.split(":", 1)[1]
            level = override.to_value.get("level")
            levels[skill] = level
            if level is not None:
                retained[skill] = str(level)
            overridden.add(override.target)
        elif override.target == "decision":
            decision_override = override
    proposed = proposed_decision(session, result, retained)
    decision = dict(proposed)
    reason = None
    if decision_override is not None:
        overridden.add("decision")
        if not same_decision(decision_override.to_value, proposed):
            trainings = decision_override.to_value.get("optional_trainings") or []
            if decision_override.to_value.get("kind") == "dispense" and not trainings:
                trainings = _offered_trainings(session, levels)
            decision = {
                **decision_override.to_value,
                "optional_trainings": trainings,
                "policy": proposed.get("policy"),
                "reasons": [],
                "rule": "auditeur",
                "overridden": True,
            }
            reason = decision_override.reason
    return EffectiveResult(result, levels, decision, frozenset(overridden), proposed, reason)
