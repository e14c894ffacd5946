"""Watts (2002) cascade window from the engine's churn contagion alone.

Claim: with every other leaving cause switched off, qunsim's threshold contagion *is*
Watts's threshold model. On Erdős–Rényi graphs of N = 10,000 people, all members at the
start, every threshold φ = 0.18, one random member forced out triggers global cascades
(more than 10% of N leave) only inside a window of mean degree, roughly 1 < z < 6, and none
near z = 8 (Watts 2002, Fig. 1).

What is switched off: leaving for dissatisfaction (``hazard_base = hazard_max = 0``),
arrivals (``inflow = referral_rate = 0``, no prospects), chatter conversion, ties to a
leader (``leader_tie_share = 0``: no hub), the contagion window (``contagion_window = 0``:
every past departure counts) and tie formation through replies (``reply_prob = 0``,
``tie_increment = 0``: the graph stays the ER graph; replies would add ties inside a group
and dilute the fraction of departed neighbours). Everyone is in one group.

Run: ``python experiments/watts_cascades.py`` (full: N = 10,000, z = 1..10 by 0.5,
100 realisations per z, ~10 min on one core) or ``--smoke`` (N = 2,000, 30 realisations).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _validation import mean_ci, savefig, setup_matplotlib, study_main, wilson_ci  # noqa: E402

import qunsim as qs  # noqa: E402
from qunsim.config import ROLE_NAMES  # noqa: E402

FIGURE = "watts_cascades.png"
GLOBAL_SHARE = 0.10  # a cascade is global when more than this share of N leaves


def watts_overrides(n: int, z: float, phi: float) -> dict:
    """Dotted overrides that reduce the engine to Watts's threshold model on ER(n, z/n)."""
    o = {
        "community.n_seed": n, "community.n_prospects": 0, "community.group_cap": max(n, 2),
        "community.leader_tie_share": 0.0, "community.chatter_share": 0.0,
        "community.spammer_share": 0.0,
        "network.kind": "er", "network.mean_degree": float(z),
        "dynamics.hazard_base": 0.0, "dynamics.hazard_max": 0.0,
        "dynamics.chatter_conversion": 0.0, "dynamics.inflow": 0.0,
        "dynamics.referral_rate": 0.0, "dynamics.contagion_window": 0,
        "dynamics.reply_prob": 0.0, "dynamics.tie_increment": 0.0,
        "run.agent_views": False,
    }
    for role in ROLE_NAMES:
        o[f"roles.{role}.threshold"] = {"mean": float(phi), "sd": 0.0}
    return o


def one_cascade(n: int, z: float, phi: float, seed, max_steps: int = 10_000) -> tuple[int, int]:
    """Build ER(n, z/n), force one random member out, step until a day with no departure.

    Returns (members who left, the trigger included; days the cascade lasted).
    """
    model = qs.CommunityModel(rng=seed, **watts_overrides(n, z, phi))
    trigger = int(model.rng.integers(model.state.n))
    model.remove_members([trigger], reason="forced")
    days = 0
    while days < max_steps:
        model.step()
        days += 1
        if model.metrics.latest("leaves") == 0:
            break
    return int((model.state.status != qs.Status.ACTIVE).sum()), days


def analytic_window(phi: float, zs: np.ndarray) -> np.ndarray:
    """Watts's cascade condition on ER graphs: sum_k k(k-1) rho_k p_k > z, with rho_k = 1 for
    vulnerable degrees (1 <= k <= 1/phi) and p_k Poisson(z). True where cascades are possible."""
    from scipy.stats import poisson

    kmax = int(np.floor(1.0 / phi + 1e-12))
    k = np.arange(1, kmax + 1)
    return np.array([(k * (k - 1) * poisson.pmf(k, z)).sum() > z for z in zs])


def run(smoke: bool = False, seeds=None, out: Path = Path("docs/figures"), *, n: int | None = None,
        zs=None, phi: float = 0.18, base_seed: int = 2002, verbose: bool = False) -> dict:
    """Frequency and mean size of global cascades vs mean degree z.

    Parameters
    ----------
    smoke : small size (N = 2,000, z = 1..10 by 1, 30 realisations per z).
    seeds : realisations per z (int) — each realisation is a new graph and trigger.
    out : directory for the figure (None: no figure).
    n, zs, phi : network size, mean degrees, threshold.

    Returns
    -------
    dict with ``z``, ``frequency`` (Wilson 95% CIs), ``size`` (mean share of N among global
    cascades, t 95% CIs), ``raw`` cascade sizes, ``analytic`` window and run settings.
    """
    n = n or (2_000 if smoke else 10_000)
    if zs is None:
        zs = np.arange(1.0, 10.01, 1.0) if smoke else np.arange(1.0, 10.01, 0.5)
    zs = np.asarray(zs, dtype=float)
    reps = seeds if isinstance(seeds, (int, np.integer)) else (len(seeds) if seeds else (30 if smoke else 100))
    t0 = time.time()
    ss = np.random.SeedSequence(base_seed)
    children = ss.spawn(len(zs) * reps)
    freq, size, raw, days = [], [], [], []
    for i, z in enumerate(zs):
        sizes = []
        for r in range(reps):
            left, d = one_cascade(n, z, phi, np.random.default_rng(children[i * reps + r]))
            sizes.append(left / n)
            days.append(d)
        sizes = np.array(sizes)
        glob = sizes > GLOBAL_SHARE
        freq.append(wilson_ci(int(glob.sum()), reps))
        size.append(mean_ci(sizes[glob]) if glob.any() else {"mean": 0.0, "lo": 0.0, "hi": 0.0, "n": 0})
        raw.append(sizes.tolist())
        if verbose:
            print(f"z={z:4.1f}  global cascades {glob.sum():3d}/{reps}  "
                  f"mean size {size[-1]['mean']:.3f}  ({time.time() - t0:.0f}s)", flush=True)
    window = analytic_window(phi, zs)
    result = {
        "claim": "churn contagion alone reproduces Watts's cascade window on ER graphs",
        "n": n, "phi": phi, "realisations": reps, "global_share": GLOBAL_SHARE,
        "z": zs.tolist(), "frequency": freq, "size": size, "analytic_window": window.tolist(),
        "raw": raw, "max_days": int(max(days)), "seconds": time.time() - t0,
    }
    if out is not None:
        result["figure"] = str(_figure(result, Path(out)))
    return result


def _figure(res: dict, out: Path) -> Path:
    plt = setup_matplotlib()
    z = np.array(res["z"])
    f = res["frequency"]
    s = res["size"]
    fig, ax = plt.subplots(figsize=(9, 5.5))
    win = np.array(res["analytic_window"])
    if win.any():
        zz = np.linspace(0.5, 10.5, 401)
        w = analytic_window(res["phi"], zz)
        ax.fill_between(zz, 0, 1, where=w, color="0.85", label="analytic cascade window (Watts 2002)",
                        step="mid")
    fp = np.array([r["p"] for r in f])
    ax.errorbar(z, fp, yerr=np.clip([fp - [r["lo"] for r in f], [r["hi"] for r in f] - fp], 0, None), fmt="o-",
                color="tab:blue", capsize=3, label="frequency of global cascades")
    sm = np.array([r["mean"] for r in s])
    lo = np.array([r["lo"] if np.isfinite(r["lo"]) else r["mean"] for r in s])
    hi = np.array([r["hi"] if np.isfinite(r["hi"]) else r["mean"] for r in s])
    has = np.array([r["n"] > 0 for r in s])
    ax.errorbar(z[has], sm[has], yerr=np.clip([sm[has] - lo[has], hi[has] - sm[has]], 0, None), fmt="s--",
                color="tab:red", capsize=3, label="mean size of global cascades (share of N)")
    ax.set_xlim(0.5, 10.5)
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel("mean degree z (ties per member)")
    ax.set_ylabel("frequency / share of members who left")
    ax.set_title(f"Churn contagion cascades on ER graphs (N = {res['n']:,}, φ = {res['phi']}, "
                 f"{res['realisations']} runs per z)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
    return savefig(fig, out, FIGURE)


def _main() -> None:
    study_main(__doc__, run, lambda res: None, drop=("raw",), seeds_flag="--reps")

if __name__ == "__main__":
    _main()
