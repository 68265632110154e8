"""Exposure control carried by the bank release: Sympson–Hetter parameters per path.

A release may carry ``attachments/exposure.json``::

    {"method": "sympson-hetter", "target": 0.25, "rules": "cir-2", "seed": 0,
     "readers":     {"parameters": {item id: K}, "max_exposure": 0.23, "n_examinees": 500},
     "non_readers": {"parameters": {...}, "max_exposure": 0.24, "n_examinees": 500} | null}

fitted by simulation (:func:`fit_exposure`) for the readers' path and, separately, for the
non-readers' (their pool and sections differ, so one set of parameters cannot hold both at the
target). The parameters hold for the rules they were fitted with (``rules``, the rules file's
version): fit them again when the rules change. The tablet
(:func:`placement.sessions.bankcache.engine_bank`) and ``placement simulate
--bank latest`` apply it with :func:`with_exposure`. ``placement exposure --bank latest
--publish`` fits it and publishes a new release with it, the figures of both paths in the
release's metadata (``release.yaml``, listed in ``manifest.json``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from placement.cat import Exposure, Rules, check_blueprint
from placement.errors import InvalidBank, PlacementError

EXPOSURE_ATTACHMENT = "exposure.json"
#: The parameters are fitted for this share of the target: the largest of a few hundred
#: observed exposure rates overshoots the true one by several binomial SDs (0.03 each at 200
#: candidates), so a fresh simulation's maximum stays at or under the target.
MARGIN = 0.8
#: When a section's items are too few for ``MARGIN`` (each must be seen by at least the share of
#: candidates its section gives over its pool), the fit aims this far above that floor instead,
#: even above the target when the floor is (the figures then say so).
FLOOR_SLACK = 1.15


def _usage_floor(pool: Any, rules: Rules, *, non_reader: bool) -> float:
    """The highest, over the path's sections, of (most items per candidate) / (items in pool).

    No exposure control can bring every item of a section under this: the section's items are
    given that often on average.
    """
    skills = list(pool.skills)
    floor = 0.0
    for s in rules.path_sections(non_reader):
        size = sum(
            1
            for i, sk in enumerate(skills)
            if sk == s.skill and not pool.pretest[i] and (pool.non_reader[i] or not non_reader)
        )
        if size:
            floor = max(floor, s.max_items / size)
    return floor


__all__ = [
    "EXPOSURE_ATTACHMENT",
    "exposure_mismatch",
    "figures",
    "fit_exposure",
    "read_exposure",
    "release_exposure",
    "with_exposure",
]


def read_exposure(path: Path) -> dict[str, Any]:
    """Read an ``exposure.json``; raises :class:`InvalidBank` when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidBank(
            f"{path} : paramètres d'exposition illisibles ({exc.strerror or exc})"
        ) from None
    except ValueError as exc:
        where = f", ligne {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise InvalidBank(
            f"{path} : paramètres d'exposition illisibles : JSON invalide{where}"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("readers"), dict):
        raise InvalidBank(
            f"{path} : pas un fichier de paramètres d'exposition (pas de bloc 'readers' ; "
            "il vient de placement exposure --out)"
        )
    return data


def release_exposure(release: Any) -> dict[str, Any] | None:
    """The exposure control a release carries, or None."""
    attachments = getattr(release, "attachments", {}) or {}
    path = attachments.get(EXPOSURE_ATTACHMENT)
    return read_exposure(Path(path)) if path is not None else None


def exposure_mismatch(rules: Rules, exposure: Mapping[str, Any] | None) -> str | None:
    """A French warning when the release's exposure control was fitted for other rules (their
    sections or targets may differ, so its maximum is no longer known), else None."""
    fitted_for = (exposure or {}).get("rules")
    if not exposure or fitted_for in (None, rules.version):
        return None
    return (
        f"le contrôle d'exposition de la version a été ajusté pour les règles {fitted_for}, "
        f"le test suit les règles {rules.version} : son exposition maximale n'est plus garantie "
        "(relancer « placement exposure --bank latest --publish »)"
    )


def with_exposure(rules: Rules, exposure: Mapping[str, Any] | None) -> Rules:
    """``rules`` with the release's Sympson–Hetter parameters (unchanged without any)."""
    if not exposure:
        return rules
    readers = dict((exposure.get("readers") or {}).get("parameters") or {})
    non_readers = dict((exposure.get("non_readers") or {}).get("parameters") or {})
    return rules.with_changes(
        exposure=Exposure(
            randomesque_k=rules.exposure.randomesque_k,
            sympson_hetter={str(k): float(v) for k, v in readers.items()},
            sympson_hetter_non_reader={str(k): float(v) for k, v in non_readers.items()},
            target=rules.exposure.target,
        )
    )


def fit_exposure(
    pool: Any,
    rules: Rules,
    *,
    target: float | None = None,
    n_examinees: int = 500,
    iterations: int = 12,
    seed: int = 0,
    cut_scores: Mapping[str, Mapping[str, float]] | None = None,
    skill_correlation: Sequence[Sequence[float]] | None = None,
    policy: str = "cir-2016",
    progress: bool = False,
    paths: Sequence[str] = ("readers", "non_readers"),
) -> dict[str, Any]:
    """Sympson–Hetter parameters for readers and non-readers, each checked by a fresh simulation.

    ``target`` defaults to the rules' ``exposure.target``. The non-readers' block is None when
    the pool cannot fill their path (or ``paths`` leaves it out). Returns the content of
    ``exposure.json``.
    """
    from placement.simulation import simulate, sympson_hetter_parameters

    goal = rules.exposure.target if target is None else float(target)
    if not 0 < goal <= 1:
        raise PlacementError("the exposure target must lie in (0, 1]")
    options: dict[str, Any] = {
        "cut_scores": cut_scores,
        "skill_correlation": skill_correlation,
        "policy": policy,
    }
    out: dict[str, Any] = {
        "method": "sympson-hetter",
        "target": goal,
        "rules": rules.version,
        "seed": seed,
        "readers": None,
        "non_readers": None,
    }
    for name, share in (("readers", 0.0), ("non_readers", 1.0)):
        if name not in paths:
            continue
        if share:
            try:
                check_blueprint(pool, rules, non_reader=True)
            except PlacementError:
                continue
        # the least maximum any control can reach: a section's items per candidate over its pool
        floor = _usage_floor(pool, rules, non_reader=bool(share))
        # a pool too small for the target: aim just above its floor (a target under the floor
        # drives every parameter down until the fallback to the best item undoes the control)
        fit_target = max(goal * MARGIN, min(1.0, FLOOR_SLACK * floor))
        parameters = sympson_hetter_parameters(
            pool, rules, target=fit_target, n_examinees=n_examinees,
            iterations=iterations, seed=seed, progress=progress, non_reader_share=share,
            **options,
        )  # fmt: skip
        fitted = rules.with_changes(
            exposure=Exposure(rules.exposure.randomesque_k, parameters, target=goal)
        )
        check = simulate(
            pool, fitted, n_examinees, seed + 1000, progress=False, non_reader_share=share,
            **options,
        )  # fmt: skip
        out[name] = {
            "parameters": parameters,
            "max_exposure": round(float(check.summary["max_exposure"]), 4),
            "n_examinees": n_examinees,
            "fitted_for": round(fit_target, 4),
            "mean_usage_floor": round(floor, 4),
        }
    return out


def figures(exposure: Mapping[str, Any]) -> dict[str, Any]:
    """The figures of an exposure file (no parameters), for a release's metadata."""
    out: dict[str, Any] = {k: exposure.get(k) for k in ("method", "target", "rules", "seed")}
    for name in ("readers", "non_readers"):
        block = exposure.get(name)
        out[name] = (
            None
            if not block
            else {
                "max_exposure": block.get("max_exposure"),
                "n_examinees": block.get("n_examinees"),
                "mean_usage_floor": block.get("mean_usage_floor"),
                "items_controlled": len(block.get("parameters") or {}),
            }
        )
    return out
