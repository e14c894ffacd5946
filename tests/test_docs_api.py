"""The examples of docs/api.md run (doctest), so the page cannot go stale."""

import doctest
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def test_api_page_examples_run():
    res = doctest.testfile(str(DOC), module_relative=False, optionflags=doctest.ELLIPSIS,
                           raise_on_error=False, verbose=False)
    assert res.attempted >= 15 and res.failed == 0
