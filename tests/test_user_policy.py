import numpy as np
import pytest

import qunsim as qs

SMALL = {"community.n_seed": 60, "community.n_prospects": 300}


def test_user_policy_by_import_path_changes_posting():
    base = qs.simulate(rng=5, steps=20, **SMALL)
    quiet = qs.simulate(rng=5, steps=20, **SMALL, **{"activity.quiet": {"class": "_user_policy:QuietHours", "every": 1}})
    assert quiet.timeseries["messages"].iloc[1:].sum() < 0.75 * base.timeseries["messages"].iloc[1:].sum()


def test_user_policy_params_are_validated_when_the_model_is_built():
    # loading the config imports nothing; building the model imports the class and checks it
    cfg = qs.load_config({"activity": {"quiet": {"class": "_user_policy:QuietHours", "every": 0}}})
    with pytest.raises(qs.ConfigError, match="activity.quiet.every"):
        qs.CommunityModel(cfg, rng=0)
    cfg = qs.load_config({"gate": {"quiet": {"class": "_user_policy:QuietHours"}}, "community": {"n_prospects": 100}})
    with pytest.raises(qs.ConfigError, match="not a subclass"):
        qs.CommunityModel(cfg, rng=0)


def test_policy_disabled_by_enabled_false():
    a = qs.simulate(rng=2, steps=10, **SMALL)
    b = qs.simulate(rng=2, steps=10, **SMALL, **{"activity.quiet": {"class": "_user_policy:QuietHours", "every": 1, "enabled": False}})
    assert np.array_equal(a.timeseries["messages"], b.timeseries["messages"])
