"""The 8:1 page's speed: the curve, the first map, and a slider step (targets: map ≤ 30 s, step ≤ 1 s).

Usage: ``python benchmarks/bench_lesson.py`` (``BENCH_QUICK=1``: 2 replications). Prints one JSON line.

- curve: :func:`sim.analysis.lesson.eight_to_one_curve` on ``eight_to_one_holds`` at the page's
  defaults (2,000 people, 4 replications: 120 runs), in this process and on the
  2-process pool the page uses;
- map: :func:`sim.sweep.eight_to_one_map.eight_to_one_map` at the page's 1,500 people (60 runs, in
  this process), the first draw's computation;
- slider step: the page under Streamlit's AppTest, once its curve and map are computed (300 people,
  2 replications, so the setup is quick; a step's cost does not depend on them): wall seconds of
  each of five slider moves with the map shown.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from sim import load_scenario  # noqa: E402
from sim.analysis.lesson import eight_to_one_curve  # noqa: E402
from sim.sweep.eight_to_one_map import eight_to_one_map  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
REPLICATIONS = 2 if QUICK else 4
HOLDS = ROOT / "scenarios" / "eight_to_one_holds.yaml"


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def slider_steps() -> list[float]:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    app.session_state["l_people"] = 300
    app.session_state["l_reps"] = 2
    app.run()
    app.switch_page("app_pages/lesson.py").run()
    app.toggle(key="l_map").set_value(True).run()
    steps = []
    for share in (0.3, 0.4, 0.5, 0.6, 0.7):
        steps.append(timed(lambda share=share: app.slider(key="l_share").set_value(share).run()))
        assert not app.exception, [e.message for e in app.exception]
    return steps


def main() -> None:
    curve_scenario = load_scenario(HOLDS, {"network.n": 2000})
    serial = timed(lambda: eight_to_one_curve(curve_scenario, replications=REPLICATIONS, workers=1))
    pooled = timed(lambda: eight_to_one_curve(curve_scenario, replications=REPLICATIONS, workers=2))
    map_scenario = load_scenario(HOLDS, {"network.n": 1500})
    first_map = timed(lambda: eight_to_one_map(map_scenario))
    steps = slider_steps()
    print(
        json.dumps(
            {
                "replications": REPLICATIONS,
                "curve_serial_s": serial,
                "curve_2_workers_s": pooled,
                "map_first_draw_s": first_map,
                "slider_step_median_s": statistics.median(steps),
                "slider_step_max_s": max(steps),
                "cpus": os.cpu_count(),
                "load_average_1min": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
