"""The engine's view of a bank release, loaded once per process and shared by every request.

A test session names its bank release, its CAT rules and its policy; :func:`engine_bank` turns
these names into the objects the engine needs (the release's items, the :class:`~placement.irt.Pool`
of parameters, the :class:`~placement.cat.Rules`, the policy and the cut scores). Loading a release
reads and validates a few hundred YAML files and builds the pool's arrays: far too slow for each
request, so the result is cached per process, keyed by everything it depends on. Releases are
immutable, so the cache never needs invalidating.

Where the releases live: ``root`` when given, else the root set by :func:`set_default_root`
(the web app sets it from its ``BANK_ROOT`` setting), else the ``PLACEMENT_BANK_ROOT`` environment
variable, else the bundled ``itembank/releases/`` (``itembank.load_release``'s own default).
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import itembank
from itembank.errors import ReleaseNotFound
from itembank.model import Item
from placement import rules as rules_files
from placement.bank import pool_from_release
from placement.cat import Rules
from placement.errors import InvalidRules
from placement.irt import Pool
from placement.sessions.errors import NotFound

logger = logging.getLogger(__name__)

__all__ = ["EngineBank", "default_root", "engine_bank", "load_rules", "set_default_root"]

_default_root: Path | None = None
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class EngineBank:
    """Everything the engine and the scorer need from one release, rules and policy."""

    release: Any  # itembank.Release (no public type name in the contract; duck-typed)
    pool: Pool
    rules: Rules
    policy: Any  # placement.levels.Policy
    #: skill -> {level -> θ cut}, from the release
    cut_scores: Mapping[str, Mapping[str, float]]
    #: 4×4 correlation of the skills in the order CO, CE, EO, EE, from the release
    skill_correlation: tuple[tuple[float, ...], ...] | None = None

    @property
    def version(self) -> str:
        """The release's version string."""
        return str(self.release.version)

    @property
    def items(self) -> Mapping[str, Item]:
        """The release's items by id."""
        items: Mapping[str, Item] = self.release.items
        return items

    def item(self, item_id: str) -> Item:
        """The item with this id; :class:`NotFound` if the release has none."""
        try:
            return self.items[item_id]
        except KeyError:
            raise NotFound(f"Question inconnue : {item_id}.") from None

    def media_path(self, rel: str) -> Path | None:
        """The file of a bank-relative media path if it belongs to this release, else None.

        Only paths the release itself lists (its manifest, or a file inside its directory)
        are served, so a crafted path cannot reach any other file on the server.
        """
        if not rel or rel.startswith(("/", "\\")) or ".." in Path(rel).parts:
            return None
        try:
            path = Path(self.release.media_path(rel))
        except (KeyError, ValueError, OSError):
            return None
        return path if path.is_file() else None


def set_default_root(root: str | os.PathLike[str] | None) -> None:
    """Set where releases are looked for when :func:`engine_bank` gets no ``root``."""
    global _default_root  # noqa: PLW0603 - one process-wide setting, like the cache itself
    _default_root = Path(root) if root else None


def default_root() -> Path | None:
    """The releases' root in use when none is given (None: itembank's bundled default)."""
    if _default_root is not None:
        return _default_root
    env = os.environ.get("PLACEMENT_BANK_ROOT")
    return Path(env) if env else None


def load_rules(name: str) -> Rules:
    """CAT rules by name (``cir`` → ``placement/rules/cir.yaml``) or by path to a YAML file."""
    try:
        return rules_files.load_rules(name)
    except InvalidRules as exc:
        raise NotFound(f"Règles de test introuvables ou invalides : {name}.") from exc


def engine_bank(
    version: str | None,
    *,
    rules: str = "cir",
    policy: str | None = None,
    root: str | os.PathLike[str] | None = None,
) -> EngineBank:
    """The release ``version`` (None: the newest) with its pool, rules, policy and cut scores.

    Cached per process (releases are immutable); thread-safe. ``policy`` None takes the
    release's own policy. Raises :class:`NotFound` with a French message when the release,
    rules or policy does not exist.
    """
    resolved_root = Path(root) if root is not None else default_root()
    with _lock:
        return _engine_bank(version, rules, policy, resolved_root)


@functools.cache
def _engine_bank(
    version: str | None, rules_name: str, policy_name: str | None, root: Path | None
) -> EngineBank:
    try:
        release = itembank.load_release(version, root=root)
    except ReleaseNotFound as exc:
        raise NotFound(f"Version de la banque de questions introuvable : {version}.") from exc
    pool = pool_from_release(release)
    from placement.errors import InvalidPolicy
    from placement.levels import load_policy

    try:
        the_policy = load_policy(policy_name or release.policy)
    except InvalidPolicy as exc:
        raise NotFound(f"Politique introuvable : {policy_name or release.policy}.") from exc
    cut_scores = {skill: dict(cuts) for skill, cuts in release.cut_scores.items()}
    from placement.exposure import exposure_mismatch, release_exposure, with_exposure

    rules = load_rules(rules_name)
    exposure = release_exposure(release)
    mismatch = exposure_mismatch(rules, exposure)
    if mismatch:
        logger.warning("bank %s: %s", version, mismatch)
    return EngineBank(
        release=release,
        pool=pool,
        # the release's exposure control (Sympson-Hetter per path), when it carries one
        rules=with_exposure(rules, exposure),
        policy=the_policy,
        cut_scores=cut_scores,
        skill_correlation=_correlation(release),
    )


def _correlation(release: Any) -> tuple[tuple[float, ...], ...] | None:
    matrix = getattr(release, "skill_correlation", None)
    if not matrix:
        return None
    return tuple(tuple(float(x) for x in row) for row in matrix)
