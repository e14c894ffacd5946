"""Write docs/tutorial.ipynb from the cells below; with --execute, run it at full size and keep
its outputs (figures included) in the file.

    python scripts/make_tutorial.py [--execute]

The test suite runs the notebook at smoke size (tests/test_tutorial.py).
"""

import argparse
import os
import sys
from pathlib import Path

import nbformat as nbf

ROOT = Path(__file__).resolve().parents[1]
nb = nbf.v4.new_notebook()
C = []


def md(text: str) -> None:
    C.append(nbf.v4.new_markdown_cell(text.strip()))


def code(text: str) -> None:
    C.append(nbf.v4.new_code_cell(text.strip()))



md("""
# Tutorial: does bad money drive out good? (劣币驱逐良币)

A knowledge community lives on its experts. Chatter (灌水) is cheap to post and warm to read,
but it buries the questions experts come to answer. This notebook asks the Gresham question
of qunsim, the way a strategy review would:

1. **the scenario** — a knowledge community, and a chattier variant of it;
2. **one run each** — watch the low-quality share and expert retention;
3. **a sweep** — chatter share × moderation, several replicates on common random numbers;
4. **the report** — the page you bring to the review.

Run it from the `docs/` folder (the paths are relative to it). Set the environment variable
`QUNSIM_TUTORIAL_SMOKE=1` for a tiny version that runs in seconds (the test suite does this).
""")
code("""
import os
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
from IPython.display import display

import qunsim as qs


def show(fig):
    # display a figure once, then free it
    display(fig)
    plt.close(fig)


SMOKE = os.environ.get("QUNSIM_TUTORIAL_SMOKE") == "1"
N_PROSPECTS, STEPS, REPLICATES = (400, 40, 2) if SMOKE else (5000, 365, 5)
OUT = Path(os.environ.get("QUNSIM_TUTORIAL_OUT") or tempfile.mkdtemp(prefix="qunsim-tutorial-"))
OUT.mkdir(parents=True, exist_ok=True)
print(f"qunsim {qs.__version__}: {N_PROSPECTS} prospects, {STEPS} days, {REPLICATES} replicates; output in {OUT}")
""")
md("""
## 1. The scenario

`configs/knowledge_community.toml` describes the community: 50 invited seed members around
one soul figure (灵魂人物), 5% experts, 20% contributors, 75% regulars, 5% chatters, and
20,000 people outside who could join. A variant does not copy the file: it **extends** it
and states only what differs.
""")
code("""
base = qs.load_config("../configs/knowledge_community.toml")
print(base.community.name, "| chatter share", base.community.chatter_share,
      "| experts", base.community.composition.expert)

chatty_file = OUT / "chatty.toml"
chatty_file.write_text(f'''
extends = "{Path("../configs/knowledge_community.toml").resolve().as_posix()}"

[community]
chatter_share = 0.3         # three times in ten, a newcomer is a chatter
''')
chatty = qs.load_config(chatty_file)
print(chatty.source)
print("chatter share", chatty.community.chatter_share, "| everything else as the base:",
      chatty.dynamics == base.dynamics)
""")
md("""
## 2. One run each

`qs.simulate` builds a `CommunityModel` (a Mesa model), runs it and returns its tables. The
same seed gives both communities the same social graph and the same luck: what differs is
the chatter.
""")
code("""
runs = {}
for label, cfg in {"5% chatter": base, "30% chatter": chatty}.items():
    runs[label] = qs.simulate(cfg, rng=7, steps=STEPS, **{"community.n_prospects": N_PROSPECTS})
    s = runs[label].summary
    print(f"{label:>12}: active {s['final_active']:4d} (peak {s['peak_active']}), "
          f"expert retention {s['final_expert_retention']:.2f}, "
          f"low-quality share {s['final_low_quality_share']:.2f}")
""")
code("""
show(qs.plot_gresham(runs["30% chatter"], title="30% chatter, no moderation"))
""")
code("""
show(qs.plot_active_by_role(runs["30% chatter"].timeseries))
""")
md("""
One run is one possible history. Communities often either thrive or collapse under the same
lever, so the question needs replicates.

## 3. The sweep

A sweep names a base scenario, the axes, the replicates and what to keep. Replicate *r* uses
the same seed at every design point (common random numbers), so differences between points
are paired. Here: three chatter shares × two moderation regimes.
""")
code("""
spec = {
    "name": "tutorial_gresham",
    "base": str(Path("../configs/knowledge_community.toml").resolve()),
    "steps": STEPS,
    "replicates": REPLICATES,
    "seed": 2026,
    "fixed": {"community.n_prospects": N_PROSPECTS, "community.spammer_share": 0.03},
    "axes": {
        "community.chatter_share": [0.05, 0.15, 0.3],
        "activity": {
            "labels": ["none", "spam+chatter"],
            "values": [{}, {"spam_moderation": {"precision": 0.9},
                            "chatter_moderation": {"mode": "community", "precision": 0.8}}],
        },
    },
}
shutil.rmtree(OUT / "sweep", ignore_errors=True)  # this notebook's own output, from an earlier run
res = qs.sweep(spec, OUT / "sweep", executor="serial", progress=False)
print(res)
res.summary[["community.chatter_share", "activity", "replicate", "final_active",
             "final_expert_retention", "final_low_quality_share"]].head(8)
""")
code("""
show(qs.plot_heatmap(res.summary, x="community.chatter_share", y="activity",
                     metric="final_expert_retention", title="Expert retention at the end"))
""")
code("""
unmoderated = res.summary[res.summary["activity"] == "none"]
show(qs.plot_policy_comparison(unmoderated, "final_low_quality_share", by="community.chatter_share",
                               higher_is_better=False, title="Low-quality share, no moderation"))
""")
md("""
Read the figures as a strategist would. In the stored full-size run of this notebook:

- **without moderation** the few spammers (3% of newcomers) wreck the community whatever the
  chatter: expert retention ends near zero (0.02–0.05) and more than 80% of messages are low
  quality;
- **with spam and chatter moderation** experts stay, and the chatter effect shows: expert
  retention falls from 0.54 at 5% chatter to 0.30 at 30% (mean of five replicates; they
  range from 0.12 to 0.77 at 5% and from 0.10 to 0.44 at 30%).

So moderation is the first lever, and chatter still costs experts under it. The smoke
version (`QUNSIM_TUTORIAL_SMOKE=1`) is too short and small to show this: run the notebook at
full size for the answer, and look at the replicate dots before trusting a mean.

## 4. The report

`qs.build_report` turns the sweep directory into one HTML page: the question, the figures,
the numbers with their intervals, and the provenance (seeds, versions, the resolved
configuration).
""")
code("""
page = qs.build_report(OUT / "sweep", OUT / "report.html", title="Does chatter drive the experts out?")
print(f"open {page} in a browser ({page.stat().st_size // 1024} kB)")
""")
md("""
## Where next

- Watch one community live and turn the levers: `qunsim dashboard ../configs/knowledge_community.toml`
  (or `import qunsim.dashboard; qunsim.dashboard.app("../configs/knowledge_community.toml")`
  as the last line of a cell) — see [dashboard.md](dashboard.md).
- The social graph over time, for Gephi's timeline: `model.record_graph(every=7)` before
  running, then `model.graph_history("history.gexf")`, or `qunsim run … --gexf history.gexf`.
- The same sweep from the command line: `qunsim sweep ../configs/sweeps/gresham_moderation.toml --out results/gresham`.
""")
code("""
model = qs.CommunityModel(chatty, rng=7, **{"community.n_prospects": N_PROSPECTS})
model.record_graph(every=7)
model.run_for(STEPS)
g = model.graph_history(OUT / "history.gexf")
print(f"{g.number_of_nodes()} members and {g.number_of_edges()} ties over {STEPS} days -> {OUT / 'history.gexf'}")
""")
nb["cells"] = C
nb["metadata"] = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                  "language_info": {"name": "python"}}


def _execute(nb) -> None:
    import tempfile

    import nbclient

    out = tempfile.mkdtemp(prefix="qunsim-tutorial-")
    os.environ.pop("QUNSIM_TUTORIAL_SMOKE", None)
    os.environ["QUNSIM_TUTORIAL_OUT"] = out
    os.environ["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")
    nbclient.NotebookClient(nb, timeout=3600, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "docs")}}).execute()
    for c in nb.cells:  # no machine-specific paths in the stored outputs
        for o in c.get("outputs", []):
            if o.get("output_type") == "stream":
                o["text"] = o["text"].replace(out, "<OUT>").replace(str(ROOT) + "/", "<repo>/")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="write docs/tutorial.ipynb")
    ap.add_argument("--execute", action="store_true", help="run it at full size and keep the outputs")
    if ap.parse_args().execute:
        _execute(nb)
    nbf.write(nb, ROOT / "docs" / "tutorial.ipynb")
    print(f"wrote {ROOT / 'docs' / 'tutorial.ipynb'}", file=sys.stderr)
