"""PNG plots of a simulation: θ̂ against θ, SE against θ, test length, exposure."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from placement.simulation import SimulationResult


def write_plots(result: SimulationResult, skills: list[str], out_dir: Path) -> list[Path]:
    """Write ``theta_hat_vs_theta.png``, ``se_vs_theta.png``, ``test_length.png``,
    ``exposure.png`` and, when the decisions have probabilities, ``reliability.png`` (the
    reliability diagram of ``p_dispense``) into ``out_dir``; returns their paths."""
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    rows = result.rows
    paths = []
    cols = len(skills)

    def per_skill(name: str, y_key: str, y_label: str, diagonal: bool) -> Path:
        fig, axes = plt.subplots(1, cols, figsize=(3.2 * cols, 3.2), squeeze=False)
        for ax, s in zip(axes[0], skills, strict=True):
            pts = [
                (r[f"theta_{s}"], r[f"{y_key}_{s}"]) for r in rows if r[f"{y_key}_{s}"] is not None
            ]
            if pts:
                x, y = np.array(pts).T
                ax.scatter(x, y, s=4, alpha=0.4)
                if diagonal:
                    lim = [min(x.min(), y.min()), max(x.max(), y.max())]
                    ax.plot(lim, lim, color="grey", lw=1)
            ax.set_title(s)
            ax.set_xlabel("θ vrai")
        axes[0][0].set_ylabel(y_label)
        fig.tight_layout()
        path = out_dir / name
        fig.savefig(path, dpi=90)
        plt.close(fig)
        return path

    paths.append(per_skill("theta_hat_vs_theta.png", "theta_hat", "θ estimé", True))
    paths.append(per_skill("se_vs_theta.png", "se", "erreur standard", False))

    fig, ax = plt.subplots(figsize=(5, 3.2))
    lengths = [r["n_items"] for r in rows]
    ax.hist(lengths, bins=range(min(lengths), max(lengths) + 2), align="left", rwidth=0.85)
    ax.set_xlabel("items par test")
    ax.set_ylabel("candidats")
    fig.tight_layout()
    path = out_dir / "test_length.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    paths.append(path)

    fig, ax = plt.subplots(figsize=(5, 3.2))
    rates = np.sort(np.array(list(result.exposure.values())))[::-1]
    ax.plot(np.arange(rates.size), rates)
    ax.set_xlabel("items (du plus au moins exposé)")
    ax.set_ylabel("taux d'exposition")
    fig.tight_layout()
    path = out_dir / "exposure.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    paths.append(path)

    calibration = result.summary.get("dispense_calibration")
    if calibration and calibration.get("bins"):
        fig, ax = plt.subplots(figsize=(4.2, 4.2))
        bins = calibration["bins"]
        ax.plot([0, 1], [0, 1], color="grey", lw=1, label="calibration parfaite")
        ax.plot(
            [b["mean_p"] for b in bins], [b["observed"] for b in bins], marker="o",
            label=f"moteur (ECE {calibration['ece']:.3f})".replace(".", ","),
        )  # fmt: skip
        for b in bins:
            ax.annotate(str(b["n"]), (b["mean_p"], b["observed"]), fontsize=7)
        if "ece_floor" in calibration:  # the sample's own noise, for scale
            ax.set_title(
                "ECE d'un moteur parfaitement calibré\nsur autant de candidats : "
                f"{calibration['ece_floor']:.3f}".replace(".", ","),
                fontsize=8,
            )
        ax.set_xlabel("P(dispense) annoncée")
        ax.set_ylabel("part de dispenses méritées")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.legend(loc="upper left", fontsize=8)
        fig.tight_layout()
        path = out_dir / "reliability.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths
