"""The strategy-review report: self-contained, every figure inside, numbers that match the results."""

import base64
import re

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

import qunsim as qs  # noqa: E402
from qunsim import plotting as qp  # noqa: E402
from qunsim.cli import main  # noqa: E402
from qunsim.report import build_report, describe_policies, describe_scenario, headline_table  # noqa: E402

FIXED = {"community.n_seed": 40, "community.n_prospects": 300}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("run")
    res = qs.simulate(rng=4, steps=40, **FIXED, **{"activity.spam_moderation": {"precision": 0.8}})
    qs.save_run(res, d)
    return d


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("sweep")
    spec = {"name": "wom", "steps": 20, "replicates": 3, "seed": 2,
            "axes": {"dynamics.wom_reach": [2.0, 60.0]}, "fixed": FIXED}
    qs.sweep(spec, d, executor="serial", progress=False)
    return d


@pytest.fixture(scope="module")
def run_page(run_dir, tmp_path_factory):
    out = build_report(run_dir, tmp_path_factory.mktemp("rep") / "r" / "report.html")
    return out.read_text(encoding="utf-8")


_URL = re.compile(r"(https?:|ftp:|//[a-z0-9.-]+\.[a-z]{2,}|\bsrc=\"(?!data:)|\bhref=\"(?!#))", re.I)


def _check_self_contained(page: str) -> None:
    hits = _URL.findall(page)
    assert not hits, f"external references: {hits[:5]}"
    low = page.lower()
    assert "<link" not in low and "<script src" not in low
    # the only script is the inline table sorter: nothing fetched, nothing evaluated from data
    assert low.count("<script") <= 1
    if "<script" in low:
        body = low.split("<script>", 1)[1].split("</script>", 1)[0]
        assert "fetch(" not in body and "xmlhttprequest" not in body and "eval(" not in body


def _figures(page: str) -> dict[str, bytes]:
    out = {}
    for name, data in re.findall(r'data-figure="([^"]+)"><img alt="[^"]*" src="data:image/png;base64,([^"]+)"', page):
        out[name] = base64.b64decode(data)
    return out


def test_run_report_is_self_contained_and_has_every_figure(run_dir, run_page):
    page = run_page
    _check_self_contained(page)
    figs = _figures(page)
    res = qs.load_run(run_dir)
    expected = {name for name, _ in qp._run_figures(res)} | {"network"}  # what plot_run_dir draws
    assert set(figs) == expected
    assert page.count("<img") == len(expected)
    for png in figs.values():
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_run_report_states_scenario_policies_numbers_and_provenance(run_dir, run_page):
    page = run_page
    res = qs.load_run(run_dir)
    s = res.summary
    assert f"<td>{s['final_active']:,}</td>" in page
    assert f"<td>{s['total_joined']:,}</td>" in page
    assert "40 invited seed members" in page
    from qunsim.policies import SpamModeration
    from qunsim.report import _doc_line, _e

    assert "spam_moderation" in page and _e(_doc_line(SpamModeration)) in page and "precision 0.8" in page
    assert "Entry gates" in page and "none." in page  # no gate in this scenario, said so
    assert ">seed</th><td>4</td>" in page
    assert "no confidence interval" in page  # one run: says so instead of inventing one
    assert "[community]" in page  # the resolved config is embedded
    assert "What happened" in page
    assert f"peaked at {s['peak_active']:,} on day {s['peak_step']}" in page
    assert f"{s['final_expert_retention']:.0%} were still members" in page


def test_sweep_report_numbers_carry_confidence_intervals(sweep_dir, tmp_path):
    page = build_report(sweep_dir, tmp_path / "s.html").read_text(encoding="utf-8")
    _check_self_contained(page)
    res = qs.load_results(sweep_dir)
    m = res.replicate_means("final_active")
    for _, r in m.iterrows():
        from qunsim.report import _num

        assert f"{_num(r['mean'])}<br><span class=ci>[{_num(max(r['ci_low'], 0.0))}, {_num(r['ci_high'])}]</span>" in page
    figs = _figures(page)
    sw = qp.load_sweep(sweep_dir)
    assert set(figs) == {name for name, _ in qp.sweep_figures(sw)}
    assert "outcome_final_active" in figs and "lever_effects" in figs  # one lever: its options compared
    assert "<h2 id=\"verdict\">Verdict</h2>" in page and (tmp_path / "verdict.json").is_file()
    assert res.manifest["fingerprint"] in page
    assert res.manifest["sessions"][0]["git"]["commit"] in page
    assert "word of mouth" in page.lower()
    # every design point is in the (sortable) table
    assert all(f"<td class=l>{p}</td>" in page for p in sw.points)


def test_headline_table_matches_t_interval():
    import pandas as pd
    from scipy import stats

    s = pd.DataFrame({"p": ["a"] * 4 + ["b"] * 2, "x": [1.0, 2.0, 4.0, 5.0, 7.0, 7.0]})
    t = headline_table(s, "p", ["x", "missing"])
    a = t[t["group"] == "a"].iloc[0]
    lo, hi = stats.t.interval(0.95, 3, loc=3.0, scale=stats.sem([1, 2, 4, 5]))
    assert (a["lower"], a["upper"]) == (pytest.approx(lo), pytest.approx(hi))
    b = t[t["group"] == "b"].iloc[0]
    assert b["lower"] == b["upper"] == 7.0
    assert list(t["metric"].unique()) == ["x"]


def test_plain_words():
    cfg = qs.load_config().override({"community.structure": "ring", "community.n_leaders": 3,
                                     "gate.fee": {"price": 99}})
    words = " ".join(describe_scenario(cfg))
    assert "ring of 3 balanced leaders" in words
    pol = describe_policies(cfg)
    assert len(pol["gate"]) == 1 and "fee" in pol["gate"][0] and "price 99" in pol["gate"][0]


def test_cli_report(run_dir, tmp_path, capsys):
    assert main(["report", str(run_dir), "--out", str(tmp_path / "r.html"), "--title", "Review A"]) == 0
    assert "self-contained" in capsys.readouterr().out
    assert "<title>Review A</title>" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert main(["report", str(tmp_path / "missing"), "--out", str(tmp_path / "x.html")]) == 2
    assert main(["report", str(run_dir), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is a directory" in err and "Traceback" not in err


def test_report_of_a_sweep_over_scenario_files_with_failed_runs(tmp_path, monkeypatch):
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).parent))  # _sweep_boom: a policy that raises
    (tmp_path / "plain.toml").write_text('[community]\nname = "plain"\nn_seed = 30\nn_prospects = 200\n')
    (tmp_path / "moderated.toml").write_text(
        '[community]\nname = "moderated"\nn_seed = 30\nn_prospects = 200\n'
        '[activity.spam_moderation]\nprecision = 0.7\n')
    spec = {"name": "scenarios", "steps": 10, "replicates": 2, "seed": 3,
            "axes": {"base": {"values": [str(tmp_path / "plain.toml"), str(tmp_path / "moderated.toml")],
                              "labels": ["plain", "moderated"]},
                     "activity.boom.fail": [False, True]},
            "fixed": {"activity.boom": {"class": "_sweep_boom:Boom", "day": 4}}}
    qs.sweep(spec, tmp_path / "out", executor="serial", progress=False)
    page = build_report(tmp_path / "out", tmp_path / "r.html").read_text(encoding="utf-8")
    _check_self_contained(page)
    assert "compares 2 scenarios" in page
    assert "<h3>plain</h3>" in page and "<h3>moderated</h3>" in page
    assert "precision 0.7" in page  # the moderated scenario's policy, in words
    assert "4 of 8 runs finished, 4 failed" in page
    assert "4 run(s) failed and are left out" in page
    # only the finished design points are in the numbers
    assert "fail = True" not in page and "scenario = plain, fail = False" in page


def test_scenario_says_who_posts():
    """The scenario section tells the strategist that most members lurk (the default
    calibration), or that everyone posts when participation is switched off."""
    from qunsim import load_config
    from qunsim.report import describe_scenario
    from qunsim.validation import everyone_posts

    text = " ".join(describe_scenario(load_config(None), steps=30))
    assert "90% of the contributors and regulars who join are lurkers" in text
    assert "seed members post at their role's rate" in text
    off = " ".join(describe_scenario(load_config(None, everyone_posts()), steps=30))
    assert "Every member posts at their role's rate" in off and "lurkers" not in off
