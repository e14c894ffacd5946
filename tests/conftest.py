import os
import signal

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


def pytest_report_header(config):
    # A process started as a background job of a non-interactive shell (`pytest ... &` in a
    # script) inherits SIGINT ignored, and Python keeps it so: no test's doing (the guard below
    # catches those), but every process the tests start inherits it too.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        return ("SIGINT is ignored in this pytest process (inherited: started in the background?); "
                "tests that send Ctrl-C restore Python's handler in their child")
    return None


@pytest.fixture(autouse=True)
def _sigint_handler_unchanged(request):
    """Guard: a test must leave the SIGINT handler as it found it. An ignored SIGINT leaks
    into every later test of the same (xdist worker) process and is inherited by the
    processes it starts, so Ctrl-C tests of the CLI would see a sweep that cannot be
    stopped. The handler is put back and the culprit named."""
    before = signal.getsignal(signal.SIGINT)
    yield
    after = signal.getsignal(signal.SIGINT)
    if after is not before:
        signal.signal(signal.SIGINT, before)
        pytest.fail(f"{request.node.nodeid} left the SIGINT handler changed ({before!r} -> {after!r}); "
                    "restore it in a finally", pytrace=False)
