"""Fixtures of the calibration tests: seeded banks and CAT-simulated responses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from calibration.data import ItemParameters, Responses
from calibration.synthetic import random_bank, simulate_cat, simulate_complete


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261123)


@pytest.fixture
def make_bank(rng: np.random.Generator) -> Callable[..., ItemParameters]:
    """A factory of random banks (2PL plus optional GRM items)."""

    def make(n_items: int = 40, **kwargs: object) -> ItemParameters:
        return random_bank(n_items, rng, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def cat_data(rng: np.random.Generator) -> Callable[..., Responses]:
    """A factory of CAT-simulated sparse responses."""

    def make(
        bank: ItemParameters,
        n_persons: int = 1500,
        *,
        mean: float = 0.0,
        sd: float = 1.0,
        **kw: object,
    ) -> Responses:
        thetas = rng.normal(mean, sd, n_persons)
        return simulate_cat(bank, thetas, rng, **kw)  # type: ignore[arg-type]

    return make


@pytest.fixture
def complete_data(rng: np.random.Generator) -> Callable[..., Responses]:
    """A factory of complete (linear test) responses."""

    def make(bank: ItemParameters, n_persons: int = 1000) -> Responses:
        return simulate_complete(bank, rng.normal(size=n_persons), rng)

    return make


@pytest.fixture(scope="session")
def bank_release(tmp_path_factory: pytest.TempPathFactory) -> object:
    """A real release of the bundled bank, published into a temporary root (once)."""
    import itembank

    root = tmp_path_factory.mktemp("releases")
    bank = Path(__file__).resolve().parents[2] / "itembank" / "bank"
    return itembank.publish_release(bank, root=root, skip_invalid=True)
