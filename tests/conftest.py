import os

import matplotlib
import pytest
from hypothesis import settings

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

# Hypothesis profiles. "ci" is derandomised: the same examples on every run and every machine,
# so a green suite stays green (a failing example prints its reproduction blob). "dev" (the
# default on a workstation) explores new examples each run. No profile has a deadline: the
# machine's load must never fail a test. CI (CI=true) and scripts/test.sh select "ci"; pick
# one explicitly with HYPOTHESIS_PROFILE=dev or `pytest --hypothesis-profile=dev`.
# (Both derive from hypothesis's own "default" profile: under CI, hypothesis >= 6.102 already
# loads its built-in "ci" profile, which must not leak into "dev".)
_default = settings.get_profile("default")
settings.register_profile("ci", _default, derandomize=True, deadline=None, print_blob=True, database=None)
settings.register_profile("dev", _default, derandomize=False, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))

SMALL = {"community.n_seed": 40, "community.n_prospects": 400}


@pytest.fixture
def small():
    return dict(SMALL)


@pytest.fixture(params=[0, 1, 2, 3, 4])
def global_random_seed(request):
    """Several seeds for statistical tests (scikit-learn's pattern): a test must pass for all."""
    return request.param
