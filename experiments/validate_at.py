"""``qunsim validate`` at a candidate calibration: ``[dynamics]`` values replacing the engine's
defaults, for trying a calibration before it is made the default.

Each ``--set dynamics.KEY=VALUE`` replaces that key's default in this process, and a scenario
file that writes out the old default (configs/knowledge_community.toml's ``inflow`` and
``referral_rate``) follows it, while a value a study sets on purpose is kept
(:func:`participation_robustness.restated_defaults`): what the anchors and studies would
measure if the defaults and the knowledge toml were changed together. The report is
``qunsim validate``'s (``validation.json``, ``validation.html``, ``figures/``), with the
settings recorded in the JSON (``settings``) and named on the page.

Run: ``python experiments/validate_at.py --out DIR [--smoke] [--only IDS] [--force]
--set dynamics.inflow=7 --set dynamics.content_bounce=0.5 ...``
"""

from __future__ import annotations

import argparse
import html
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _validation import parse_dynamics_sets  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="output directory")
    ap.add_argument("--smoke", action="store_true", help="the test suite's sizes")
    ap.add_argument("--only", default=None, help="comma-separated anchor ids or groups")
    ap.add_argument("--force", action="store_true", help="overwrite a report in --out")
    ap.add_argument("--set", action="append", default=[], metavar="dynamics.KEY=VALUE",
                    help="a [dynamics] value replacing the default (repeatable; TOML values)")
    a = ap.parse_args(argv)
    settings = parse_dynamics_sets(a.set)
    if not settings:
        raise SystemExit("validate_at: give at least one --set dynamics.KEY=VALUE (else run `qunsim validate`)")
    if (a.out / "validation.json").exists() and not a.force:
        raise SystemExit(f"validate_at: {a.out} already holds a validation report; pass --force to overwrite it")
    if a.force and (a.out / "figures").is_dir():
        shutil.rmtree(a.out / "figures")
    import participation_robustness as R

    R._install(settings, R.conditions(a.smoke)[0])  # the study seeds: no perturbation
    from qunsim.config import ConfigError
    from qunsim.validation import print_report, validate

    only = [x.strip() for x in a.only.split(",") if x.strip()] if a.only else None
    try:
        rep = validate(a.smoke, a.out, only=only, verbose=True)
    except ConfigError as e:
        raise SystemExit(f"validate_at: {e}") from None
    path = a.out / "validation.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["settings"] = settings
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    page = a.out / "validation.html"
    note = ("<p><b>At a candidate calibration, not the defaults:</b> "
            + html.escape(", ".join(f"{k} = {v}" for k, v in settings.items())) + "</p>")
    page.write_text(page.read_text(encoding="utf-8").replace("</h1>", "</h1>" + note, 1), encoding="utf-8")
    print_report(rep, a.out, note=f" at {settings}")
    return 0 if rep["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
