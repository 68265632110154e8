"""Section priors informed by the earlier sections through the skill correlation.

The model
---------
The candidate's abilities on the skills ``skill_order`` (CO, CE, EO, EE) are jointly normal,

.. math:: \\boldsymbol\\theta \\sim N(\\mu_0 \\mathbf 1, \\sigma_0^2 R)

with ``R`` the release's skill correlation. The responses of section ``j`` depend on
:math:`\\theta_j` only. Each *earlier* section ``j`` is summarised by the Gaussian likelihood its
data imply: with :math:`(m_j, v_j)` its EAP and posterior variance under the marginal prior
:math:`N(\\mu_0, \\sigma_0^2)`, the data act like an observation

.. math:: y_j = \\theta_j + e_j,\\quad e_j \\sim N(0, \\tau_j^2),\\quad
          \\tau_j^{-2} = v_j^{-1} - \\sigma_0^{-2},\\quad
          y_j = \\tau_j^2 (m_j / v_j - \\mu_0 / \\sigma_0^2)

(a section whose posterior is no narrower than the prior tells nothing and is skipped). The
prior of section ``s`` is then the normal conditional distribution

.. math:: \\mu_s = \\mu_0 + \\Sigma_{sE} (\\Sigma_{EE} + T)^{-1} (y_E - \\mu_0),\\qquad
          \\sigma_s^2 = \\sigma_0^2 - \\Sigma_{sE} (\\Sigma_{EE} + T)^{-1} \\Sigma_{Es}

with :math:`\\Sigma = \\sigma_0^2 R` and :math:`T = \\operatorname{diag}(\\tau_E^2)`. Only
sections *before* ``s`` in the test order inform it, so a skill's estimate does not move once
its section is over, and each skill's own data still dominate as soon as it has a few items.
The Gaussian summary is exact for a Gaussian likelihood and a good approximation after a few
items; it ignores that an EAP on a bounded grid is slightly shrunk.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def conditional_prior(
    skill: str,
    earlier: Mapping[str, tuple[float, float]],
    correlation: Sequence[Sequence[float]] | None,
    order: Sequence[str],
    *,
    mean: float = 0.0,
    sd: float = 1.0,
) -> tuple[float, float]:
    """The prior (mean, sd) of ``skill`` given the earlier sections' summaries.

    Parameters
    ----------
    skill : str
        The section whose prior is wanted.
    earlier : mapping skill -> (m_j, v_j)
        EAP and posterior *variance* of each earlier section under the marginal prior.
    correlation : (S, S) nested sequences or None
        Skill correlation in ``order``; ``None`` means independent skills.
    order : sequence of str, (S,)
    mean, sd : float
        The marginal prior :math:`N(\\mu_0, \\sigma_0^2)`.

    Returns
    -------
    (float, float)
        Conditional prior mean and standard deviation; ``(mean, sd)`` when nothing informs it.
    """
    if correlation is None or skill not in order or not earlier:
        return mean, sd
    var0 = sd * sd
    pos = {s: i for i, s in enumerate(order)}
    used, ys, taus = [], [], []
    for other, (m, v) in earlier.items():
        if other == skill or other not in pos or not v > 0:
            continue
        precision = 1.0 / v - 1.0 / var0
        if precision <= 1e-6:
            continue
        tau2 = 1.0 / precision
        used.append(pos[other])
        ys.append(tau2 * (m / v - mean / var0))
        taus.append(tau2)
    if not used:
        return mean, sd
    # a few skills at most: plain Gaussian elimination beats numpy's call overhead here
    m = len(used)
    s = pos[skill]
    cov_se = [var0 * float(correlation[s][u]) for u in used]
    system = [
        [var0 * float(correlation[u][v]) + (taus[a] if a == b else 0.0) for b, v in enumerate(used)]
        + [cov_se[a]]
        for a, u in enumerate(used)
    ]
    weights = _solve(system, m)
    mu = mean + sum(w * (y - mean) for w, y in zip(weights, ys, strict=True))
    var = var0 - sum(w * c for w, c in zip(weights, cov_se, strict=True))
    return mu, math.sqrt(max(var, 1e-6))


def _solve(augmented: list[list[float]], m: int) -> list[float]:
    """Solve a small symmetric positive definite system given as an augmented matrix."""
    for col in range(m):
        pivot = max(range(col, m), key=lambda r: abs(augmented[r][col]))
        augmented[col], augmented[pivot] = augmented[pivot], augmented[col]
        head = augmented[col]
        for r in range(col + 1, m):
            factor = augmented[r][col] / head[col]
            if factor:
                row = augmented[r]
                for c in range(col, m + 1):
                    row[c] -= factor * head[c]
    out = [0.0] * m
    for r in range(m - 1, -1, -1):
        acc = augmented[r][m] - sum(augmented[r][c] * out[c] for c in range(r + 1, m))
        out[r] = acc / augmented[r][r]
    return out
