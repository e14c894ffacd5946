import os

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

SMALL = {"community.n_seed": 40, "community.n_prospects": 400}


@pytest.fixture
def small():
    return dict(SMALL)


@pytest.fixture(params=[0, 1, 2, 3, 4])
def global_random_seed(request):
    """Several seeds for statistical tests (scikit-learn's pattern): a test must pass for all."""
    return request.param
