"""Strategy comparison: file validation, seeds, the comparison table and its statistics."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qunsim.config import ConfigError
from qunsim.strategies import (
    compare_strategies,
    load_strategies,
    paired_difference,
    replicate_seeds,
    summarize_comparison,
)

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

BASE = """
[community]
n_seed = 60
n_prospects = 300
[dynamics]
contagion = false
[run]
steps = 20
"""

GOOD = """
base = "base.toml"
replicates = 2
seed = 5

[strategies.none]
label = "Nothing"

[strategies.sell]
label = "Sell"
overrides = { "monetization.ladder.capacity" = 50 }
[strategies.sell.monetization.ladder]
gradual = false
[[strategies.sell.monetization.ladder.rungs]]
name = "x"
price = 5.0
value = 10.0
conversion = 0.5
"""


@pytest.fixture
def files(tmp_path):
    (tmp_path / "base.toml").write_text(BASE)
    f = tmp_path / "strategies.toml"
    f.write_text(GOOD)
    return f


def test_load_strategies_resolves_base_and_overrides(files):
    spec = load_strategies(files)
    assert list(spec.strategies) == ["none", "sell"]
    assert spec.steps == 20 and spec.replicates == 2 and spec.seed == 5
    sell = spec.strategies["sell"].config
    assert sell["monetization.ladder.capacity"] == 50
    assert sell["monetization.ladder.rungs"][0]["price"] == 5.0
    assert sell.community.n_seed == 60  # from the base
    assert spec.strategies["none"].config["monetization"] == {}


@pytest.mark.parametrize("edit, words", [
    (lambda s: s.replace("price = 5.0", "price = -5.0"),
     ["strategy `sell`", "`monetization.ladder.rungs.0.price`", "greater than or equal to 0"]),
    (lambda s: s.replace('name = "x"', 'name = "x"\nchannel = "carrier_pigeon"'),
     ["strategy `sell`", "`monetization.ladder.rungs.0.channel`"]),
    (lambda s: s.replace("base.toml", "nowhere.toml"), ["`base`", "file not found"]),
    (lambda s: s.replace("seed = 5", "seed = 5\nwho = 1"), ["unknown key(s) ['who']"]),
    (lambda s: s.replace('label = "Nothing"', 'label = "Nothing"\nbudget = 3'), ["`strategies.none`", "budget"]),
    (lambda s: s.replace("replicates = 2", "replicates = 0"), ["`replicates`", ">= 1"]),
    (lambda s: s.replace("capacity\" = 50", "capacity\" = -50"),
     ["strategy `sell`", "`monetization.ladder.capacity`"]),
    (lambda s: s.replace('"monetization.ladder.capacity"', '"dynamics.no_such_rate"'),
     ["`dynamics.no_such_rate`"]),
    (lambda s: s.split("[strategies.none]")[0], ["`strategies`"]),
    (lambda s: s + "\n[strategies.bad.monetization.ladder]\n[[strategies.bad.monetization.ladder.rungs]]\n"
                   "name = 'a'\nprice = 1\nmin_trust = 2\n",
     ["strategy `bad`", "`monetization.ladder.rungs.0.min_trust`"]),
])
def test_bad_strategy_files_name_the_key(files, edit, words):
    files.write_text(edit(GOOD))
    with pytest.raises(ConfigError) as e:
        load_strategies(files)
    msg = str(e.value)
    assert str(files) in msg
    for w in words:
        assert w in msg


def test_replicate_seeds_come_from_seed_sequence():
    s = replicate_seeds(7, 4)
    assert s == [int(c.generate_state(1, dtype=np.uint32)[0]) for c in np.random.SeedSequence(7).spawn(4)]
    assert len(set(s)) == 4 and s != replicate_seeds(8, 4)
    assert replicate_seeds(7, 2) == s[:2]  # adding replicates keeps the earlier ones


def test_compare_strategies_table(files):
    t = compare_strategies(files)
    assert len(t) == 4
    assert t[["strategy", "replicate"]].values.tolist() == [["none", 0], ["none", 1], ["sell", 0], ["sell", 1]]
    # common random numbers: replicate r of every strategy has the same seed
    assert t.groupby("replicate")["seed"].nunique().eq(1).all()
    assert t["seed"].tolist()[:2] == replicate_seeds(5, 2)
    assert (t.loc[t["strategy"] == "none", "revenue_total"] == 0).all()
    assert (t.loc[t["strategy"] == "sell", "revenue_total"] > 0).all()
    for col in ("final_active", "total_left", "mean_churn_rate", "net_revenue_total", "seed_retention",
                "conversion_x", "label"):
        assert col in t
    again = compare_strategies(files)
    pd.testing.assert_frame_equal(t, again)


def test_compare_strategies_options(files):
    t, ts = compare_strategies(files, replicates=1, steps=8, seed=1, strategies=["sell"], timeseries=True,
                               overrides={"community.n_seed": 30})
    assert t["strategy"].tolist() == ["sell"] and t["steps"].tolist() == [8]
    assert len(ts) == 9 and ts["step"].tolist() == list(range(9))
    assert ts["active"].iloc[0] == 30
    with pytest.raises(ConfigError, match="no strategy named"):
        compare_strategies(files, strategies=["nope"])


def test_summary_and_paired_difference():
    t = pd.DataFrame({"strategy": ["a"] * 4 + ["b"] * 4, "replicate": list(range(4)) * 2,
                      "revenue_total": [10.0, 12.0, 11.0, 13.0, 5.0, 6.0, 6.5, 7.0]})
    s = summarize_comparison(t, ["revenue_total"]).set_index("strategy")
    assert s.loc["a", "mean"] == pytest.approx(11.5)
    assert s.loc["a", "ci_low"] < 11.5 < s.loc["a", "ci_high"]
    d = paired_difference(t, "a", "b", "revenue_total")
    assert d["mean"] == pytest.approx(5.375) and d["n"] == 4
    assert d["ci_low"] > 0 and d["p_value"] < 0.01
    with pytest.raises(ValueError, match="at least 2"):
        paired_difference(t[t["replicate"] == 0], "a", "b", "revenue_total")


def test_shipped_strategy_file_validates():
    spec = load_strategies(CONFIGS / "strategies.toml")
    assert {"none", "hard_sell", "gradual_ladder"} <= set(spec.strategies)
    hard = spec.strategies["hard_sell"].config["monetization.ladder.rungs"]
    assert [r["channel"] for r in hard] == ["broadcast"]
    ladder = spec.strategies["gradual_ladder"].config["monetization.ladder.rungs"]
    assert [r["name"] for r in ladder] == ["free", "low", "mid", "high", "profit_sharing"]
    assert all(r["channel"] == "private" for r in ladder[1:])


def test_strategy_comparison_experiment_smoke(tmp_path):
    import importlib.util
    import json

    path = CONFIGS.parent / "experiments" / "strategy_comparison.py"
    spec = importlib.util.spec_from_file_location("strategy_comparison", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.run(smoke=True, out=tmp_path)
    assert (tmp_path / "strategies.png").stat().st_size > 10_000
    saved = json.loads((tmp_path / "strategies.json").read_text())
    assert list(saved["by_strategy"]) == list(load_strategies(CONFIGS / "strategies.toml").strategies)
    assert saved["by_strategy"]["none"]["revenue_total"]["mean"] == 0
    assert res["by_strategy"]["gradual_ladder"]["revenue_total"]["mean"] > 0
