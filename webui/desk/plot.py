"""θ̂ across the test, per skill, with its SE band and the cut scores: a server-side SVG."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

SKILL_COLOURS = {"CO": "#0b4f9c", "CE": "#1c7c3a", "EO": "#a35a00", "EE": "#7b3fa0"}
#: the band drawn around θ̂: ±1.96 SE (a 95 % interval)
BAND_Z = 1.96


def trajectory_svg(
    trajectory: Mapping[str, Sequence[tuple[int, float, float]]],
    cuts: Mapping[str, Mapping[str, float]] | None = None,
) -> str:
    """An SVG plot: one panel per skill, θ̂ after each response with a ±1.96·SE band.

    ``trajectory`` maps a skill to ``(n, theta, se)`` points (``n``: responses so far in the
    test); ``cuts`` maps a skill to its level cut scores on θ, drawn as dotted lines.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    skills = [s for s in ("CO", "CE", "EO", "EE") if trajectory.get(s)] or ["CO"]
    fig = Figure(figsize=(8.5, 1.9 * len(skills) + 0.6), layout="constrained")
    axes = fig.subplots(len(skills), 1, sharex=True, squeeze=False)[:, 0]
    for ax, skill in zip(axes, skills, strict=True):
        points = list(trajectory.get(skill) or [])
        colour = SKILL_COLOURS.get(skill, "#333333")
        if points:
            n = [p[0] for p in points]
            theta = [p[1] for p in points]
            se = [p[2] for p in points]
            low = [t - BAND_Z * s for t, s in zip(theta, se, strict=True)]
            high = [t + BAND_Z * s for t, s in zip(theta, se, strict=True)]
            ax.fill_between(n, low, high, color=colour, alpha=0.18, linewidth=0)
            ax.plot(n, theta, marker="o", color=colour, linewidth=1.6, markersize=3.5)
        else:
            ax.text(0.5, 0.5, "non évaluée", transform=ax.transAxes, ha="center", va="center")
        for level, cut in (cuts or {}).get(skill, {}).items():
            ax.axhline(cut, color="#888888", linestyle=":", linewidth=0.9)
            ax.annotate(
                level,
                (1.0, cut),
                xycoords=("axes fraction", "data"),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
                color="#555555",
            )
        ax.set_ylim(-4, 4)
        ax.set_ylabel(f"{skill}\nθ̂")
        ax.grid(axis="y", alpha=0.3)
    axes[-1].set_xlabel("réponses données dans le test")
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
