"""The dashboard: levers, models, panels, and the page rendered with solara's test utilities."""

import functools
import subprocess
import sys

import numpy as np
import pytest

import qunsim as qs
from qunsim.dashboard.levers import (
    LEVERS,
    CompareModel,
    DashboardModel,
    lever_overrides,
    lever_values,
)

SMALL = {"n_prospects": 400}


def test_import_qunsim_does_not_load_the_web_stack():
    code = ("import sys, qunsim, qunsim.dashboard; "
            "print(any(m.split('.')[0] in ('solara', 'altair', 'ipywidgets', 'matplotlib') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_levers_start_at_the_scenario_and_round_trip():
    cfg = qs.load_config("configs/gates_fee.toml")
    start = lever_values(cfg)
    assert start["gate_fee"] == cfg.get("gate.fee.price") > 0
    set_all = {"chatter_share": 0.2, "gate_screening": 0.7, "gate_fee": 40.0, "moderation": 0.8,
               "curation": 0.5, "rate_limit": 4, "care_capacity": 10.0, "ladder": True, "ladder_price": 2.0}
    assert set(set_all) == {lv.name for lv in LEVERS}
    cfg2 = cfg.override(lever_overrides(cfg, set_all))
    got = lever_values(cfg2)
    assert {k: got[k] for k in set_all if k != "ladder_price"} == {k: v for k, v in set_all.items() if k != "ladder_price"}
    base = [r["price"] for r in qs.load_config({"monetization": {"ladder": {}}}).get("monetization.ladder.rungs")]
    assert [r["price"] for r in cfg2.get("monetization.ladder.rungs")] == pytest.approx([2 * p for p in base])
    # zero switches a policy off; other levers keep the scenario's tables
    off = cfg2.override(lever_overrides(cfg2, {"gate_fee": 0, "moderation": 0, "ladder": False}))
    assert off.get("gate.fee") is None and off.get("activity.spam_moderation") is None
    assert off.get("monetization.ladder") is None and off.get("activity.care.capacity") == 10.0


@pytest.mark.parametrize("lever", [lv for lv in LEVERS if lv.key or lv.tables], ids=lambda lv: lv.name)
def test_each_table_lever_sets_and_switches_off_what_it_names(lever):
    cfg = qs.load_config()
    x = lever.cast(lever.lo + 2 * lever.step)
    on = cfg.override(lever_overrides(cfg, {lever.name: x}))  # a misspelt parameter would be refused here
    assert lever_values(on)[lever.name] == x and type(lever_values(on)[lever.name]) is type(x)
    if lever.key:
        assert on.get(lever.key) == x
    for dotted, param in lever.tables:
        assert on.get(f"{dotted}.{param}") == x
    if lever.tables:  # at 0 every policy it names is off, and the lever reads 0
        off = on.override(lever_overrides(on, {lever.name: 0}))
        assert all(off.get(dotted) is None for dotted, _ in lever.tables)
        assert lever_values(off)[lever.name] == 0
    assert {lv.name for lv in LEVERS if not (lv.key or lv.tables)} == {"ladder", "ladder_price"}


def test_unknown_lever_gets_a_hint():
    with pytest.raises(ValueError, match="did you mean `gate_fee`"):
        lever_overrides(qs.load_config(), {"gate_fe": 3})


def test_dashboard_model_is_a_reproducible_community_model():
    a = DashboardModel(seed=5, moderation=0.9, **SMALL)
    b = DashboardModel(seed=5, moderation=0.9, **SMALL)
    a.run_for(15)
    b.run_for(15)
    assert isinstance(a, qs.CommunityModel)
    assert a.timeseries().equals(b.timeseries())
    assert a.config.get("activity.chatter_moderation.precision") == 0.9


def test_compare_runs_share_the_seed():
    same = CompareModel(seed=2, **SMALL)
    for _ in range(12):
        same.step()
    assert same.a.timeseries().equals(same.b.timeseries())  # same levers: the same community
    diff = CompareModel(seed=2, b_gate_fee=150.0, **SMALL)
    for _ in range(12):
        diff.step()
    assert diff.b.config.get("gate.fee.price") == 150.0 and diff.a.config.get("gate.fee") is None
    assert diff.a.timeseries()["active"].iloc[0] == diff.b.timeseries()["active"].iloc[0]
    assert diff.a.timeseries()["joins"].sum() > diff.b.timeseries()["joins"].sum()


def test_growing_layout_places_members_once():
    from qunsim.dashboard.viz import GrowingLayout

    m = DashboardModel(seed=3, n_prospects=800)
    lay = GrowingLayout(m.state.n)
    before = lay.update(m).copy()
    seeds = np.flatnonzero(m.state.join_step >= 0)
    assert np.isfinite(before[seeds]).all()
    m.run_for(40)
    after = lay.update(m)
    joined = np.flatnonzero(m.state.join_step >= 0)
    assert len(joined) > len(seeds)
    assert np.isfinite(after[joined]).all()
    np.testing.assert_array_equal(after[seeds], before[seeds])  # never moved
    never = np.flatnonzero(m.state.join_step < 0)
    assert np.isnan(after[never]).all()


def test_panels_draw_what_the_runs_recorded():
    from qunsim.dashboard import viz

    m = CompareModel(seed=1, b_ladder=True, **SMALL)
    for _ in range(6):
        m.step()
    spec = viz._line_spec(m, "t", {"active": "all"}, {"all": "#000"}, "members")
    days = [r["day"] for r in spec["data"]["values"]]
    assert days == list(range(7))
    assert [r["all · A"] for r in spec["data"]["values"]] == list(m.a.timeseries()["active"])
    assert "strokeDash" in spec["encoding"]
    rev = viz.revenue_panel(m).kwargs["spec"]
    assert any(k.startswith("free · B") or " · B" in k for k in rev["transform"][0]["fold"])


# ------------------------------------------------------------------ solara components
solara = pytest.importorskip("solara")


def _render(**kw):
    import ipyvuetify as v

    from qunsim.dashboard import viz

    @solara.component
    def Page():
        with solara.AppLayout():
            viz.app(**kw)

    box, rc = solara.render(Page(), handle_error=False)
    return box, rc, v


def _levers_html(rc):
    import ipyvuetify as v

    htmls = [w for w in rc.find(v.Html).widgets if "qunsim-levers" in str(getattr(w, "children", ""))]
    assert len(htmls) == 1
    return str(htmls[0].children)


def test_page_has_the_controls_and_panels():
    import ipywidgets as w

    box, rc, v = _render(n_prospects=300)
    labels = {s.label for s in rc.find(v.Slider).widgets}
    for lv in LEVERS:
        if lv.kind != "bool":
            assert lv.label in labels
    assert "Seed" in labels
    assert {c.label for c in rc.find(v.Checkbox).widgets} >= {"Monetization ladder on"}
    assert [b.children for b in rc.find(v.Btn).widgets] == [["Reset"], ["▶"], ["Step"]]
    assert len(rc.find(solara.widgets.VegaLite).widgets) == 5
    assert len(rc.find(w.Image).widgets) == 1  # the social graph
    assert "Day 0" in _levers_html(rc)


def test_slider_change_rebuilds_the_model_with_the_new_parameter(monkeypatch):
    import qunsim.dashboard.levers as L

    built = []
    real = L.DashboardModel.__init__

    @functools.wraps(real)  # Mesa reads the signature
    def spy(self, *a, **k):
        real(self, *a, **k)
        built.append(self)

    monkeypatch.setattr(L.DashboardModel, "__init__", spy)
    box, rc, v = _render(n_prospects=300)
    fee = rc.find(v.Slider, label="Gate: entry fee").widget
    fee.v_model = 80.0
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert "Day 1" in _levers_html(rc)
    n_before = len(built)
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert len(built) == n_before + 1
    new = built[-1]
    assert new.config.get("gate.fee.price") == 80.0 and new.steps == 0
    assert "Day 0" in _levers_html(rc) and "<td>80</td>" in _levers_html(rc)
    seed = rc.find(v.Slider, label="Seed").widget
    seed.v_model = 7
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert built[-1].seed == 7 and built[-1].config.get("gate.fee.price") == 80.0


def test_compare_page_has_two_sets_of_levers():
    box, rc, v = _render(n_prospects=300, compare=True, b_moderation=0.9)
    labels = {s.label for s in rc.find(v.Slider).widgets}
    assert "A: Moderation precision" in labels and "B: Moderation precision" in labels
    html = _levers_html(rc)
    assert "<th>A</th>" in html and "<th>B</th>" in html and "<td>0.9</td>" in html


def test_unknown_lever_in_app_is_refused():
    from qunsim.dashboard import viz

    with pytest.raises(ValueError, match="did you mean `moderation`"):
        viz.app(n_prospects=300, moderaton=0.5)


# ------------------------------------------------------------------ the command line
@pytest.mark.parametrize("args, message", [
    (["--port", "70000"], "--port must be between 0 and 65535"),
    (["--lever", "gate_fe=3"], "did you mean `gate_fee`"),
    (["--lever", "gate_fee=lots"], "not a number"),
    (["--lever", "moderation=2"], "must be a number in [0, 1]"),
    (["--lever", "ladder=1"], "must be true or false"),
    (["--lever", "b_moderation=0.5"], "got 'b_moderation=0.5'"),  # b_ only in compare mode
    (["--days-per-frame", "0"], "--days-per-frame must be between 1 and 100"),
    (["no/such/scenario.toml"], "file not found"),
])
def test_dashboard_cli_refuses_bad_arguments(args, message, capsys):
    from qunsim.cli import main

    assert main(["dashboard", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_dashboard_cli_refuses_a_port_in_use(capsys):
    import socket

    from qunsim.cli import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["dashboard", "--port", str(port)]) == 2
    assert "in use" in capsys.readouterr().err


def test_dashboard_in_help(capsys):
    from qunsim.cli import main

    with pytest.raises(SystemExit):
        main(["dashboard", "--help"])
    out = capsys.readouterr().out
    assert "127.0.0.1" in out and "--compare" in out and "--lever" in out


def test_graph_is_redrawn_every_period_only(monkeypatch):
    from qunsim.dashboard import viz

    m = DashboardModel(seed=1, n_prospects=400)
    monkeypatch.setattr(viz, "GRAPH_EVERY", 3)
    figs = []
    for _ in range(7):
        m.step()
        figs.append(viz.graph_figure(m)[0])
    # days 1..7 with a period of 3: buckets 0,0,1,1,1,2,2
    assert [len({id(f) for f in figs[:2]}), len({id(f) for f in figs[2:5]}), len({id(f) for f in figs[5:]})] == [1, 1, 1]
    assert len({id(f) for f in figs}) == 3
    monkeypatch.setattr(viz, "GRAPH_EVERY", None)
    assert viz.graph_period(m) == 1  # a small community: every day
