"""The branch report: `qunsim report DIR` on a `qunsim branch --out DIR` directory writes one
self-contained HTML page (the question, the verdict, paired differences with intervals, the
fans, policy periods, provenance); a damaged directory gets a one-paragraph error, exit 2."""

import json
import re

import pandas as pd
import pytest

from qunsim.branch_report import arm_changes, check_branch_dir, paired_table
from qunsim.cli import main
from qunsim.stats import paired_difference


def _files(tmp_path):
    (tmp_path / "base.toml").write_text(
        "[community]\nn_seed = 40\nn_prospects = 400\n[run]\nsteps = 20\n")
    f = tmp_path / "s.toml"
    f.write_text('base = "base.toml"\nsteps = 20\nreplicates = 3\nseed = 5\nbranch_at = 8\n'
                 '[strategies.none]\nlabel = "Carry on"\n'
                 '[strategies.cap]\nlabel = "Rate limit from day 8"\n[strategies.cap.activity.rate_limit]\ncap = 1\n'
                 '[strategies.later]\nlabel = "Curation from day 12"\n'
                 '[strategies.later.activity.curation]\noverload_relief = 0.5\nstart = 12\n')
    return f


@pytest.fixture(scope="module")
def branch_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("branch")
    out = tmp / "out"
    assert main(["branch", str(_files(tmp)), "--out", str(out), "--no-report"]) == 0
    return out


def test_report_of_a_branch_dir(branch_dir, capsys):
    assert main(["report", str(branch_dir)]) == 0
    page = branch_dir / "report.html"
    assert str(page) in capsys.readouterr().out
    html = page.read_text(encoding="utf-8")
    for label in ("Carry on", "Rate limit from day 8", "Curation from day 12"):
        assert label in html
    # the first section answers the question: which arm does best after the branch day
    assert html.index("Which intervention does best after the branch") < html.index("<table class=diff>")
    assert "After day 8," in html
    # the question in words: the shared history, what each arm changes
    assert "to day 8" in html and "adds the activity policy <b>rate_limit</b>" in html
    assert "changes nothing" in html
    # the paired-difference table: one row per arm but the baseline
    diff = re.search(r"<table class=diff>(.*?)</table>", html, re.S).group(1)
    assert diff.count("<tr>") == 3 and "Rate limit from day 8 <i>minus</i> Carry on" in diff
    assert "3 pairs" in diff
    # embedded figures (the fans), nothing fetched from the network
    imgs = re.findall(r'<img [^>]*src="([^"]+)"', html)
    assert len(imgs) >= 3 and all(s.startswith("data:image/png;base64,") for s in imgs)
    assert 'data-figure="fan_active"' in html and 'data-figure="fan_low_quality_share"' in html
    assert not re.search(r"(src|href)=\"?(https?:)?//", html)
    # the scheduled policy's periods, and provenance
    assert "curation was on from day 12 to the end (day 20)" in html
    assert "never switched on" not in html  # the other arms have no scheduled policy to describe
    assert "<i>Switched on not before day 12.</i>" in html
    assert "common" in html and "seeds (one per replicate)" in html
    seeds = json.loads((branch_dir / "branch.json").read_text())["seeds"]
    assert all(str(s) in html for s in seeds)


def test_the_table_holds_the_paired_differences(branch_dir):
    meta, ts, summ = check_branch_dir(branch_dir)
    outcomes = [("active_mean_after", "", 1, "active")]
    d = paired_table(summ.assign(arm=summ["arm"].astype(str)), ["none", "cap", "later"], outcomes)
    a = summ[summ["arm"] == "cap"].sort_values("replicate")["active_mean_after"].to_numpy()
    b = summ[summ["arm"] == "none"].sort_values("replicate")["active_mean_after"].to_numpy()
    ref = paired_difference(a, b)
    assert d[("cap", "active_mean_after")]["mean"] == pytest.approx(ref["mean"])
    assert d[("cap", "active_mean_after")]["low"] == pytest.approx(ref["low"], nan_ok=True)
    assert d[("cap", "active_mean_after")]["n"] == 3


def test_qunsim_branch_writes_the_report(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["branch", str(_files(tmp_path)), "--out", str(out), "--replicates", "2",
                 "--strategy", "none", "--strategy", "cap"]) == 0
    assert "report.html" in capsys.readouterr().out
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Rate limit from day 8" in html and "2 pairs" in html


@pytest.mark.parametrize("damage, words", [
    (lambda d: (d / "timeseries.parquet").unlink(), "timeseries.parquet is missing"),
    (lambda d: (d / "timeseries.parquet").write_bytes(b"not parquet"), "damaged timeseries.parquet"),
    (lambda d: (d / "summary.csv").unlink(), "summary.csv is missing"),
    (lambda d: (d / "branch.json").write_text("{"), "unreadable branch.json"),
    (lambda d: (d / "summary.csv").write_text(
        pd.read_csv(d / "summary.csv").query("arm != 'cap'").to_csv(index=False)), "does not match branch.json"),
])
def test_a_damaged_branch_dir_is_refused(branch_dir, tmp_path, capsys, damage, words):
    import shutil

    d = tmp_path / "copy"
    shutil.copytree(branch_dir, d)
    (d / "report.html").unlink(missing_ok=True)
    damage(d)
    assert main(["report", str(d)]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and "\n" not in err.strip()
    assert not (d / "report.html").exists()


def test_arm_changes_in_words():
    base = {"activity": {"rate_limit": {"cap": 3}}, "dynamics": {"inflow": 2.0}}
    assert arm_changes(base, base) == []
    assert arm_changes(base, {"activity": {}, "dynamics": {"inflow": 2.0}}) == [
        "removes the activity policy <b>rate_limit</b>"]
    assert arm_changes(base, {"activity": {"rate_limit": {"cap": 1}}, "dynamics": {"inflow": 3.0}}) == [
        "sets <code>dynamics.inflow</code> to 3 (base 2)", "sets <code>activity.rate_limit.cap</code> to 1 (base 3)"]


def test_a_branch_json_without_the_arms_reads_them_from_the_file(branch_dir, tmp_path):
    import shutil

    d = tmp_path / "old"
    shutil.copytree(branch_dir, d)
    meta = json.loads((d / "branch.json").read_text())
    keep = ("file", "branch_at", "steps", "replicates", "seeds", "strategies", "overrides")
    (d / "branch.json").write_text(json.dumps({k: meta[k] for k in keep}))
    assert main(["report", str(d)]) == 0
    html = (d / "report.html").read_text(encoding="utf-8")
    assert "Rate limit from day 8" in html and "does not record the arms" in html
    # and without the file: the arms by name, what they change not recorded
    (d / "branch.json").write_text(json.dumps({**{k: meta[k] for k in keep}, "file": str(tmp_path / "gone.toml")}))
    assert main(["report", str(d)]) == 0
    html = (d / "report.html").read_text(encoding="utf-8")
    assert "<b>cap</b>" in html and "not recorded in branch.json" in html


def test_plot_on_a_branch_dir_points_to_the_report(branch_dir, capsys):
    assert main(["plot", str(branch_dir)]) == 2
    assert "qunsim report" in capsys.readouterr().err


def _summary(effects: dict, reps: int = 6) -> pd.DataFrame:
    """A summary with exact paired effects: arm ``a`` is the baseline plus ``effects[a][col]``
    in every replicate, plus a small replicate-specific wobble so intervals have a width."""
    rows = []
    for arm, eff in effects.items():
        for r in range(reps):
            wob = 0.01 * ((r * 7 + len(arm)) % 5 - 2)
            rows.append({"arm": arm, "replicate": r, **{c: 10.0 + v + wob for c, v in eff.items()}})
    return pd.DataFrame(rows)


def test_the_verdict_names_the_arm_that_wins_head_to_head():
    """Arm `mod` is clearly better than the baseline on all three outcomes and `cur` on two,
    but head to head `cur` is clearly better on two and worse on one: the first screen names
    `cur` as the one that does best, says why, and the head-to-head list starts from it."""
    from qunsim.branch_report import _rank_arms, _verdict

    outcomes = [("m1", "Members", +1, "active"), ("m2", "Low-quality share", -1, "low_quality_share"),
                ("m3", "Trust", +1, "trust_mean")]
    s = _summary({"base": {"m1": 0, "m2": 0, "m3": 0}, "mod": {"m1": 1, "m2": -2, "m3": 0.5},
                  "cur": {"m1": 5, "m2": 0.0, "m3": 2}})
    arms = ["base", "mod", "cur"]
    diffs = paired_table(s, arms, outcomes)
    score = {"mod": 3, "cur": 2}
    assert _rank_arms(s, arms[1:], outcomes, score)[0] == ["cur", "mod"]
    html = _verdict(s, arms, {"base": "Carry on", "mod": "Moderation", "cur": "Curation"}, outcomes, diffs,
                    {"branch_at": 10, "steps": 40, "replicates": 6})
    head = re.search(r"<p class=winner>(.*?)</p>", html, re.S).group(1)
    assert head.startswith("After day 10, <b>Curation</b> does best")
    assert "clearly better on 2 of 3 outcomes" in head and "head to head it is the better on balance" in head
    assert "<b>Moderation</b> is clearly better than Carry on on 3 of 3 outcomes" in head
    assert "<b>Curation</b> <i>minus</i> <b>Moderation</b>" in html
    # without the head-to-head win the baseline count decides, as before
    s2 = _summary({"base": {"m1": 0, "m2": 0, "m3": 0}, "mod": {"m1": 5, "m2": -2, "m3": 2},
                   "cur": {"m1": 1, "m2": 0.0, "m3": 0.5}})
    assert _rank_arms(s2, arms[1:], outcomes, score)[0] == ["mod", "cur"]
    html2 = _verdict(s2, arms, {"base": "Carry on", "mod": "Moderation", "cur": "Curation"}, outcomes,
                     paired_table(s2, arms, outcomes), {"branch_at": 10, "steps": 40, "replicates": 6})
    assert "<b>Moderation</b> does best" in html2 and "the runner-up, Curation" in html2
