"""One self-contained HTML report of a calibration (plots inline as PNG, no external file).

Written for the psychometricians of the platform, in French like the rest of what its staff
reads. Sections: summary, checks (failures, warnings), linking per skill, drift scatter, item
fit, test information current against new, characteristic and information curves of the
flagged items, exposure, simulation, then the per-item table and the items kept at their old
values.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from calibration.checks import CheckReport
from calibration.data import ItemParameters
from calibration.model import expected_scores, item_information
from calibration.wording import french

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#1b1b1b;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;border-bottom:2px solid #ddd;padding-top:1rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
td,th{border:1px solid #ccc;padding:.2rem .45rem;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}
.fail{color:#a40000;font-weight:600}.ok{color:#17612a;font-weight:600}.warn{color:#8a5a00}
.flag{background:#fde8e8}img{max-width:100%;height:auto}
.note{color:#555;font-size:.9rem}
"""


#: The checks' flags as the report names them.
FLAGS = {
    "drift": "dérive",
    "misfit": "mal ajusté",
    "overfit": "surajusté",
    "exposure": "surexposé",
    "unseen": "jamais vu",
    "dif": "DIF",
}


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return (
        '<img alt="" src="data:image/png;base64,'
        + base64.b64encode(buf.getvalue()).decode("ascii")
        + '">'
    )


def _f(x: Any, digits: int = 2) -> str:
    if x is None:
        return "–"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return html.escape(str(x))
    return "–" if math.isnan(v) else f"{v:.{digits}f}"


def _table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    left: int = 1,
    cls: Sequence[str] | None = None,
) -> str:
    out = ["<table><tr>"]
    out += [
        f'<th class="{"l" if j < left else ""}">{html.escape(h)}</th>' for j, h in enumerate(header)
    ]
    out.append("</tr>")
    for r, row in enumerate(rows):
        css = f' class="{cls[r]}"' if cls and cls[r] else ""
        out.append(f"<tr{css}>")
        for j, cell in enumerate(row):
            text = html.escape(cell) if isinstance(cell, str) else _f(cell)
            out.append(f'<td class="{"l" if j < left else ""}">{text}</td>')
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def _drift_plot(checks: CheckReport) -> str:
    import matplotlib.pyplot as plt

    rows = [r for r in checks.items if not math.isnan(r.delta_b)]
    if not rows:
        return (
            '<p class="note">Aucun item comparable : les paramètres actuels des items '
            "réestimés sont provisoires (première calibration), ou aucun item commun n'a été "
            "réestimé.</p>"
        )
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    flagged = np.array(["drift" in r.flags for r in rows])
    for ax, old, new, label in (
        (axes[0], [r.b_old for r in rows], [r.b_new for r in rows], "b"),
        (axes[1], [r.a_old for r in rows], [r.a_new for r in rows], "a"),
    ):
        o, n = np.array(old), np.array(new)
        ax.scatter(o[~flagged], n[~flagged], s=14, alpha=0.7, label="stable")
        ax.scatter(o[flagged], n[flagged], s=22, color="#c00", label="dérive signalée")
        lo, hi = float(min(o.min(), n.min())), float(max(o.max(), n.max()))
        ax.plot([lo, hi], [lo, hi], color="#888", lw=1)
        if label == "b":
            ax.plot(
                [lo, hi],
                [lo + checks.thresholds.drift_b, hi + checks.thresholds.drift_b],
                "--",
                color="#bbb",
                lw=1,
            )
            ax.plot(
                [lo, hi],
                [lo - checks.thresholds.drift_b, hi - checks.thresholds.drift_b],
                "--",
                color="#bbb",
                lw=1,
            )
        ax.set_xlabel(f"{label} version actuelle")
        ax.set_ylabel(f"{label} nouvelle calibration (liée)")
        ax.legend(fontsize=8)
    return _png(fig)


def _fit_plot(checks: CheckReport) -> str:
    import matplotlib.pyplot as plt

    rows = [r for r in checks.items if not math.isnan(r.infit)]
    if not rows:
        return ""
    fig, ax = plt.subplots(figsize=(5.5, 4.4))
    infit = np.array([r.infit for r in rows])
    outfit = np.array([r.outfit for r in rows])
    n = np.array([r.n_responses for r in rows])
    flagged = np.array(["misfit" in r.flags for r in rows])
    ax.scatter(
        infit[~flagged], outfit[~flagged], s=6 + 30 * n[~flagged] / max(n.max(), 1), alpha=0.6
    )
    ax.scatter(infit[flagged], outfit[flagged], s=24, color="#c00")
    lo, hi = checks.thresholds.fit_range
    ax.axvspan(lo, hi, color="#e6f2e6", zorder=-1)
    ax.axhspan(lo, hi, color="#e6f2e6", zorder=-1)
    ax.set_xlabel("infit (moyenne des carrés)")
    ax.set_ylabel("outfit (moyenne des carrés)")
    ax.set_title("Ajustement des items (taille ∝ nombre de réponses)", fontsize=10)
    return _png(fig)


def _information_plot(current: ItemParameters, new: ItemParameters) -> str:
    import matplotlib.pyplot as plt

    grid = np.linspace(-4, 4, 161)
    skills = sorted(set(new.skills))
    fig, axes = plt.subplots(1, len(skills), figsize=(3.6 * len(skills), 3.4), squeeze=False)
    for ax, skill in zip(axes[0], skills, strict=True):
        rows = [i for i, s in enumerate(new.skills) if s == skill]
        old_rows = [current.index(new.ids[i]) for i in rows if new.ids[i] in current]
        info_new = item_information(new.subset(rows), grid).sum(axis=0)
        ax.plot(grid, info_new, label="nouvelle")
        if old_rows:
            ax.plot(
                grid,
                item_information(current.subset(old_rows), grid).sum(axis=0),
                "--",
                label="actuelle",
            )
        ax.set_title(f"{skill or 'échelle'} : information de la banque", fontsize=10)
        ax.set_xlabel("θ")
        ax.legend(fontsize=8)
    return _png(fig)


def _curves_plot(current: ItemParameters, new: ItemParameters, ids: Sequence[str]) -> str:
    import matplotlib.pyplot as plt

    if not ids:
        return '<p class="note">Aucun item signalé.</p>'
    grid = np.linspace(-4, 4, 161)
    n = len(ids)
    cols = min(4, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    for ax, item_id in zip(axes.ravel(), ids, strict=False):
        i = new.index(item_id)
        sub = new.subset([i])
        ax.plot(grid, expected_scores(sub, grid)[0], label="score attendu (nouveau)")
        if item_id in current:
            ax.plot(
                grid,
                expected_scores(current.subset([current.index(item_id)]), grid)[0],
                "--",
                label="actuel",
            )
        twin = ax.twinx()
        twin.plot(grid, item_information(sub, grid)[0], color="#999", lw=0.8)
        twin.set_yticks([])
        ax.set_title(item_id, fontsize=9)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(
        "Courbes caractéristiques (trait plein : nouvelle, tirets : actuelle ; gris : information)",
        fontsize=9,
    )
    return _png(fig)


def _exposure_plot(checks: CheckReport) -> str:
    import matplotlib.pyplot as plt

    exposure = np.array([r.exposure for r in checks.items])
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.hist(exposure, bins=30)
    ax.axvline(checks.thresholds.max_exposure, color="#c00", ls="--", label="plafond")
    ax.set_xlabel("taux d'exposition (réponses / candidats)")
    ax.set_ylabel("items")
    ax.legend(fontsize=8)
    return _png(fig)


def _simulation_section(sim: dict[str, Any] | None) -> str:
    if not sim:
        return '<p class="note">Simulation non faite (`calibration simulate`).</p>'
    if sim.get("engine") == "placement.simulation":
        return _engine_section(sim)
    import matplotlib.pyplot as plt

    skills = sim["skills"]
    rows = []
    for s in skills:
        for label, key in (("actuelle", "current"), ("nouvelle", "new")):
            r = s[key]
            rows.append(
                [
                    s["skill"],
                    label,
                    r["rmse"],
                    r["bias"],
                    r["decision_accuracy"],
                    r["max_exposure"],
                    r["unused_fraction"],
                    r["mean_items"],
                    s["decision_agreement"],
                ]
            )
    table = _table(
        [
            "compétence",
            "paramètres",
            "RMSE θ",
            "biais",
            "décision A1 juste",
            "exposition max",
            "items inutilisés",
            "items / test",
            "accord des décisions",
        ],
        rows,
        left=2,
    )
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    x = np.arange(len(skills))
    for ax, key, title in (
        (axes[0], "rmse", "RMSE de θ"),
        (axes[1], "decision_accuracy", "décision A1 juste"),
    ):
        ax.bar(x - 0.2, [s["current"][key] for s in skills], 0.4, label="actuelle")
        ax.bar(x + 0.2, [s["new"][key] for s in skills], 0.4, label="nouvelle")
        ax.set_xticks(x, [s["skill"] for s in skills])
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
    intro = (
        f'<p class="note">{sim["n_candidates"]} candidats simulés par compétence, θ ~ N(0, 1), '
        f"{sim['test_length']} items par test, graine {sim['seed']} ; les réponses suivent les "
        "nouveaux paramètres dans les deux cas.</p>"
    )
    return intro + table + _png(fig)


def _engine_section(sim: dict[str, Any]) -> str:
    import matplotlib.pyplot as plt

    cur, new = sim["current"], sim["new"]
    skills = [k for k in cur["rmse"] if k != "overall"]
    rows = []
    paths = sim.get("non_reader") or {}
    runs = [("actuelle", cur), ("nouvelle", new)]
    if "current" in paths:
        runs += [
            ("actuelle, non-lecteurs", paths["current"]),
            ("nouvelle, non-lecteurs", paths["new"]),
        ]
    for label, run in runs:
        acc = run.get("classification_accuracy") or {}
        rows.append(
            [
                label, run["rmse"].get("overall"), run["bias"].get("overall"),
                acc.get("dispense"), acc.get("hours"), run["mean_items"], run["max_exposure"],
                run["unused_fraction"],
            ]
        )  # fmt: skip
    table = _table(
        [
            "paramètres", "RMSE θ", "biais", "dispense juste", "heures justes", "items / test",
            "exposition max", "items inutilisés",
        ],
        rows,
    )  # fmt: skip
    agreement = sim.get("decision_agreement")
    hours = sim.get("hours_agreement")
    fig, ax = plt.subplots(figsize=(6, 3.2))
    x = np.arange(len(skills))
    ax.bar(x - 0.2, [cur["rmse"][s] or 0 for s in skills], 0.4, label="actuelle")
    ax.bar(x + 0.2, [new["rmse"][s] or 0 for s in skills], 0.4, label="nouvelle")
    ax.set_xticks(x, skills)
    ax.set_title("RMSE de θ par compétence (moteur)", fontsize=10)
    ax.legend(fontsize=8)
    return (
        f'<p class="note">Simulation du moteur (<code>placement.simulation</code>, règles '
        f"{html.escape(str(sim['rules']))}, sections {', '.join(sim['skills'])}) : "
        f"{sim['n_candidates']} candidats, les mêmes pour les deux versions, graine "
        f"{sim['seed']}. Accord des décisions (dispense / prescription) entre les deux "
        f"versions : {_f(agreement, 3)} ; des heures prescrites : {_f(hours, 3)}."
        + (
            " Les lignes « non-lecteurs » : les mêmes candidats, tous sur le parcours "
            "non-lecteur (compréhension et expression orales, questions sans lecture)."
            if "current" in paths
            else f" Parcours non-lecteur non simulé : {html.escape(str(paths['skipped']))}."
            if "skipped" in paths
            else ""
        )
        + "</p>"
        + table
        + _png(fig)
    )


def build_report(
    *,
    current: ItemParameters | None,
    new: ItemParameters | None,
    fit: dict[str, Any] | None,
    linking: dict[str, Any] | None,
    checks: CheckReport | None,
    simulation: dict[str, Any] | None,
    context: dict[str, Any],
    override_reason: str | None = None,
    max_curves: int = 12,
) -> str:
    """The report as one HTML string (every plot inline)."""
    import matplotlib

    matplotlib.use("Agg")
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    source = str(context.get("release") or context.get("parameters") or "table CSV")
    parts = [
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">',
        "<title>Rapport de calibration</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>Rapport de calibration de la banque d'items</h1>",
        (
            f'<p class="note">Produit le {now} par <code>calibration</code>. Version actuelle : '
            f"{html.escape(source)}.</p>"
        ),
    ]
    # summary
    parts.append("<h2>Résumé</h2>")
    if fit:
        kept = fit["kept"]
        parts.append(
            "<p>"
            f"{fit['n_persons']} candidats, {sum(fit['n_responses'].values())} réponses ; "
            f"{len(fit['fitted'])} items réestimés, "
            f"{len(kept)} gardés à leurs anciens paramètres ; "
            f"estimation : maximum de vraisemblance marginale (quadrature de girth), "
            f"{fit['n_evaluations']} évaluations, {fit['time_s']:.1f} s, "
            f"{'convergé' if fit['converged'] else '<span class=fail>non convergé</span>'} ; "
            f"erreurs types : {html.escape(fit['se_method'])}.</p>"
        )
        parts += [f'<p class="warn">{html.escape(french(m))}</p>' for m in fit.get("messages", [])]
        if new is not None and new.pretest.any():
            fitted_ids = set(fit["fitted"])
            pretest = [i for i, p in zip(new.ids, new.pretest, strict=True) if p]
            done = [i for i in pretest if i in fitted_ids]
            parts.append(
                f"<p>Items en prétest : {len(pretest)}, dont {len(done)} calibrés sur ces "
                "données (donnés au hasard à une part des candidats : données manquantes "
                "complètement au hasard).</p>"
            )
    if checks is not None:
        if checks.passed:
            parts.append('<p class="ok">Tous les contrôles sont passés.</p>')
        else:
            parts.append('<p class="fail">Contrôles en échec :</p><ul>')
            parts += [f'<li class="fail">{html.escape(f)}</li>' for f in checks.failures]
            parts.append("</ul>")
        if checks.warnings:
            parts.append(
                "<ul>"
                + "".join(f'<li class="warn">{html.escape(w)}</li>' for w in checks.warnings)
                + "</ul>"
            )
        parts += [f'<p class="note">{html.escape(n)}</p>' for n in checks.notes]
    if override_reason:
        reason = html.escape(override_reason)
        parts.append(f'<p class="fail">Publication malgré les contrôles, motif : « {reason} »</p>')
    # linking
    parts.append("<h2>Liaison à l'échelle actuelle</h2>")
    if linking and linking.get("skills"):
        rows = [
            [
                skill,
                lk["method"],
                lk["A"],
                lk["B"],
                lk["mean_sigma"][0],
                lk["mean_sigma"][1],
                str(len(lk["anchors"])),
                ", ".join(lk["dropped"]) or "–",
            ]
            for skill, lk in linking["skills"].items()
        ]
        parts.append(
            '<p class="note">θ<sub>actuel</sub> = A θ<sub>nouveau</sub> + B, '
            "estimé sur les items d'ancrage.</p>"
        )
        if any(lk.get("provisional") for lk in linking["skills"].values()):
            parts.append(
                '<p class="warn">Première calibration : aucun item n\'avait de paramètres '
                "calibrés ; la liaison s'appuie sur les paramètres provisoires (niveau visé des "
                "items). Les seuils de niveau sont à revoir (standard setting).</p>"
            )
        parts.append(
            _table(
                [
                    "compétence",
                    "méthode",
                    "A",
                    "B",
                    "A (moyenne–écart type)",
                    "B (moyenne–écart type)",
                    "ancres",
                    "ancres écartées (dérive)",
                ],
                rows,
                left=2,
            )
        )
    else:
        parts.append('<p class="note">Pas de liaison (`calibration link` non fait).</p>')
    # plots
    if checks is not None:
        parts.append("<h2>Dérive des paramètres</h2>")
        parts.append(_drift_plot(checks))
        parts.append("<h2>Ajustement des items</h2>")
        parts.append(_fit_plot(checks))
        parts.append("<h2>Exposition</h2>")
        parts.append(_exposure_plot(checks))
    if current is not None and new is not None:
        parts.append("<h2>Information de la banque</h2>")
        parts.append(_information_plot(current, new))
        if checks is not None:
            flagged = [r.item_id for r in checks.items if set(r.flags) - {"unseen", "exposure"}]
            parts.append(f"<h2>Items signalés ({len(flagged)})</h2>")
            if flagged:
                parts.append(_curves_plot(current, new, flagged[:max_curves]))
            else:
                most_seen = sorted(checks.items, key=lambda r: -r.n_responses)[: max_curves // 2]
                parts.append(
                    '<p class="note">Aucun item signalé ; courbes des items les plus vus.</p>'
                )
                parts.append(_curves_plot(current, new, [r.item_id for r in most_seen]))
            if len(flagged) > max_curves:
                more = len(flagged) - max_curves
                parts.append(f'<p class="note">{more} autres dans le tableau ci-dessous.</p>')
    parts.append("<h2>Simulation du test adaptatif</h2>")
    parts.append(_simulation_section(simulation))
    # tables
    if checks is not None:
        parts.append("<h2>Tous les items</h2>")
        se = (linking or {}).get("se") or (fit or {}).get("se") or {}
        rows = []
        css = []
        for r in checks.items:
            rows.append([
                r.item_id, r.model, ", ".join(FLAGS.get(f, f) for f in r.flags),
                str(r.n_responses), r.exposure,
                r.a_old, r.b_old, r.a_new, r.b_new, (se.get(r.item_id) or {}).get("b"), r.delta_b,
                r.drift_z_b, r.infit, r.outfit, r.dif_delta,
            ])  # fmt: skip
            css.append("flag" if set(r.flags) - {"unseen"} else "")
        parts.append(
            _table(
                [
                    "item",
                    "modèle",
                    "signalements",
                    "réponses",
                    "exposition",
                    "a actuel",
                    "b actuel",
                    "a nouveau",
                    "b nouveau",
                    "ET b",
                    "Δb",
                    "z dérive b",
                    "infit",
                    "outfit",
                    "DIF Δ MH",
                ],
                rows,
                left=3,
                cls=css,
            )
        )
    if fit and fit["kept"]:
        parts.append(f"<h2>Items gardés à leurs anciens paramètres ({len(fit['kept'])})</h2>")
        parts.append(
            _table(
                ["item", "réponses", "raison"],
                [[k["item_id"], str(k["n_responses"]), french(k["reason"])] for k in fit["kept"]],
                left=3,
            )
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(path: Path, **kwargs: Any) -> Path:
    """Build the report and write it to ``path``."""
    path.write_text(build_report(**kwargs), encoding="utf-8")
    return path
