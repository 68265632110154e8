"""IRT models, information and ability estimation (numpy and scipy only).

Public API: :data:`MODELS`, :class:`Pool`, :func:`probabilities`, :func:`item_information`,
:func:`expected_score`, :func:`sample_responses`, :class:`Estimate`, :func:`eap`,
:func:`map_estimate`, :func:`wle`, :func:`ml_bounded`, :func:`log_likelihood`.
"""

from placement.irt.estimation import (
    ESTIMATORS,
    Estimate,
    check_pattern,
    eap,
    eap_from_log_posterior,
    log_likelihood,
    map_estimate,
    ml_bounded,
    normal_log_prior,
    wle,
)
from placement.irt.models import (
    DEFAULT_GRID,
    DICHOTOMOUS,
    MODELS,
    POLYTOMOUS,
    Pool,
    expected_score,
    item_information,
    probabilities,
    sample_responses,
)

__all__ = [
    "DEFAULT_GRID",
    "DICHOTOMOUS",
    "ESTIMATORS",
    "MODELS",
    "POLYTOMOUS",
    "Estimate",
    "Pool",
    "check_pattern",
    "eap",
    "eap_from_log_posterior",
    "expected_score",
    "item_information",
    "log_likelihood",
    "map_estimate",
    "ml_bounded",
    "normal_log_prior",
    "probabilities",
    "sample_responses",
    "wle",
]
