"""Hostile input for the fuzz tests: scenario text, ``--set`` overrides and uploads, and a judge.

Every input must end in a valid scenario (then a short run) or a clean refusal, within a time and
memory budget. :func:`judge_text` and :func:`judge_overrides` say which, as one of :data:`OUTCOMES`:

- ``valid``: read and validated (and, shrunk to a few hundred people and days, run);
- ``rejected``: refused with a :class:`~sim.scenario.ScenarioError` (exit code 2 on the CLI), one
  bounded line per problem;
- ``crash``: anything else: another exception, a traceback, exit code 1, an unbounded message;
- ``hang``: more than :data:`SECONDS` seconds, or more than :data:`MEGABYTES` MB, for one input.

Edge-list files are fuzzed with the edge-list reader; these inputs never point a scenario at one.
"""

from __future__ import annotations

import signal
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from typer.testing import CliRunner

from sim import run
from sim.analysis.memory import estimate_memory
from sim.cli import app
from sim.scenario import Scenario, ScenarioError, parse_yaml, scenario_from_text
from sim.scenario.yaml_io import dump_yaml
from sim.sweep.paths import leaf_paths
from tests.conftest import SCENARIOS

OUTCOMES = ("valid", "rejected", "crash", "hang")
#: Most seconds one input may take, reading, validating and running it shrunk.
SECONDS = 10.0
#: Most memory (MB, Python and NumPy allocations) reading and validating one input may take.
MEGABYTES = 300
#: Longest line a refusal may print (a problem line quotes at most ~80 characters of input).
MAX_LINE = 1_000
#: What a valid scenario is shrunk to before it runs.
SMALL_RUN = {"network.n": 200, "days": 6}


class TooSlowError(Exception):
    """One input took longer than :data:`SECONDS`."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`TooSlowError` in this (main) thread after ``seconds``."""

    def stop(signum: int, frame: Any) -> None:
        raise TooSlowError(f"more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@cache
def presets() -> dict[str, str]:
    """Every preset scenario's text, by name."""
    return {path.stem: path.read_text() for path in sorted(SCENARIOS.glob("*.yaml"))}


@cache
def schema_paths() -> tuple[str, ...]:
    """Every leaf path of the default scenario and of the presets (``ads.cpm``, ``loyalty.tiers.0.name``)."""
    paths = set(leaf_paths(Scenario().model_dump(mode="json", exclude={"base_dir"})))
    for text in presets().values():
        paths.update(leaf_paths(parse_yaml(text)))
    return tuple(sorted(p for p in paths if not p.startswith("network.path")))


def _bounded(problems: list[Any]) -> bool:
    return all(len(str(problem)) <= MAX_LINE for problem in problems) and len(problems) <= 51


def _run_shrunk(scenario: Scenario) -> None:
    """Run ``scenario`` on a few hundred people for a few days, when it stays valid that small."""
    if scenario.network.kind == "edge_list":
        return  # files are the edge-list reader's fuzz
    overrides: dict[str, Any] = {
        "network.n": min(scenario.network.n, SMALL_RUN["network.n"]),
        "days": min(scenario.days, SMALL_RUN["days"]),
        "fraud.n_attackers": min(scenario.fraud.n_attackers, 3),
    }
    try:
        small = scenario.with_overrides(overrides)
    except ScenarioError:
        return  # only valid at its own size (ids, communities …): validated is all we can say
    if estimate_memory(small).bytes > 200 * 2**20:
        return
    result = run(small)
    amounts = result.ledger["amount"]
    assert bool((amounts >= 0).all()) and bool(amounts.notna().all())


def judge_text(text: str | bytes, run_valid: bool = True) -> str:
    """Read, validate and (shrunk) run one scenario text; the outcome (see :data:`OUTCOMES`)."""
    tracemalloc.start()
    try:
        with time_limit(SECONDS):
            try:
                scenario = scenario_from_text(text, source="fuzz.yaml")
            except ScenarioError as exc:
                return "rejected" if _bounded(exc.problems) else "crash"
            finally:
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            if peak > MEGABYTES * 2**20:
                return "hang"
            if run_valid:
                try:
                    _run_shrunk(scenario)
                except ScenarioError as exc:  # the memory check refusing is a clean refusal too
                    return "rejected" if _bounded(exc.problems) else "crash"
            return "valid"
    except TooSlowError:
        return "hang"
    except Exception:
        return "crash"
    finally:
        if tracemalloc.is_tracing():
            tracemalloc.stop()


_runner = CliRunner()
HYBRID = str(SCENARIOS / "hybrid.yaml")


def judge_overrides(overrides: list[str], run_valid: bool = True) -> str:
    """``ripple validate hybrid.yaml --set …`` (then a shrunk run of what validates); the outcome."""
    args = ["validate", HYBRID]
    for override in overrides:
        args += ["--set", override]
    try:
        with time_limit(SECONDS):
            result = _runner.invoke(app, args)
            output = result.output
            if result.exit_code not in (0, 2) or "Traceback" in output:
                return "crash"
            if any(len(line) > MAX_LINE for line in output.splitlines()):
                return "crash"
            if result.exit_code == 2:
                return "rejected"
            if run_valid:
                text = Path(HYBRID).read_text()
                try:
                    _run_shrunk(scenario_from_text(text, overrides))
                except ScenarioError as exc:
                    return "rejected" if _bounded(exc.problems) else "crash"
            return "valid"
    except TooSlowError:
        return "hang"
    except Exception:
        return "crash"


# ----------------------------------------------------------------------------------- strategies

#: Values that have broken parsers and schemas before: words YAML 1.1 reads as booleans, numbers past
#: what the engine represents, text that looks like markup or a path, and nothing at all.
JUNK_WORDS = [
    "yes", "no", "on", "off", "y", "n", "true", "false", "True", "none", "None", "null", "~", "",
    ".inf", "-.inf", ".nan", "1e308", "1e309", "-1e308", "5e-324", "-0", "-1", "0", "1", "2147483648",
    "9223372036854775808", "9" * 60, "9" * 5000, "0x10", "0o17", "010", "1_000", "1:30", "2024-01-01",
    "[]", "{}", "[1, 2]", "{a: 1}", ":x:", "[bold red]x[/]", "<script>", "![x](http://e/x.png)",
    "../../etc/passwd", "'quoted'", '"dq"', "\\", "#", "&a", "*a", "!!python/object:os.system",
    "!!binary AA==", "über", "😀", "a" * 300, "\t", " x ",
]  # fmt: skip

junk_values: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(JUNK_WORDS),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=20),
    st.lists(st.integers(-5, 10**6), max_size=6),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=3),
)


@st.composite
def mutated_presets(draw: st.DrawFn) -> str:
    """A preset with a few values set to junk, keys deleted or invented, sections replaced."""
    data = parse_yaml(presets()[draw(st.sampled_from(sorted(presets())))])
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["set", "set", "set", "delete", "invent", "section"]))
        path = draw(st.sampled_from(schema_paths()))
        parts = path.split(".")
        node: Any = data
        for part in parts[:-1]:
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, dict):
                node = node.setdefault(part, {})
                if not isinstance(node, (dict, list)):
                    break
            else:
                break
        if not isinstance(node, dict):
            continue
        key = parts[-1]
        if op == "set":
            value = draw(junk_values)
            if key == "kind" and value == "edge_list":
                continue
            node[key] = value
        elif op == "delete":
            node.pop(key, None)
        elif op == "invent":
            node[draw(st.text(min_size=1, max_size=12))] = draw(junk_values)
        else:
            data[parts[0]] = draw(junk_values)
    try:
        return dump_yaml(data, sort_keys=False, allow_unicode=True)
    except Exception:  # a value YAML cannot write (a surrogate character): write the preset instead
        return presets()["hybrid"]


TOKENS = [
    "&a ", "*a", "*b", "[", "]", "{", "}", ": ", "- ", "\t", "\n", "  ", "#", "'", '"', "\\", "\x00",
    "\ufeff", "!!python/object:os.system ", "!!binary ", "!!int ", "!!float ", "!!str ", "<<: ", "? ",
    "%YAML 1.1\n", "---\n", "...\n", "~", "yes", "off", "1e999", "9" * 400, "\u202e", "\r\n", ",", "|", ">",
]  # fmt: skip


@st.composite
def mangled_presets(draw: st.DrawFn) -> str:
    """A preset's text with tokens inserted, lines repeated or dropped, characters replaced, cut short."""
    text = presets()[draw(st.sampled_from(sorted(presets())))]
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["insert", "insert", "repeat_line", "drop", "replace", "truncate"]))
        at = draw(st.integers(0, len(text)))
        if op == "insert":
            text = text[:at] + draw(st.sampled_from(TOKENS)) + text[at:]
        elif op == "repeat_line":
            lines = text.splitlines(keepends=True)
            if lines:
                i = draw(st.integers(0, len(lines) - 1))
                text = "".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])  # a duplicate key, mostly
        elif op == "drop":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif op == "replace" and text:
            at = min(at, len(text) - 1)
            text = text[:at] + draw(st.characters()) + text[at + 1 :]
        else:
            text = text[:at]
    return text


@st.composite
def hostile_structures(draw: st.DrawFn) -> str:
    """Alias bombs, deep nesting, huge numbers, very many keys or items, recursive aliases."""
    kind = draw(st.sampled_from(["bomb", "nest", "digits", "keys", "items", "recursive", "long"]))
    if kind == "bomb":
        width, depth = draw(st.integers(2, 12)), draw(st.integers(2, 10))
        lines = ["a0: &a0 [1, 2, 3]"]
        for level in range(1, depth):
            lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
        section = draw(st.sampled_from(["roles", "loyalty", "name", "ads"]))
        return "\n".join(lines) + f"\n{section}: *a{depth - 1}\n"
    if kind == "nest":
        depth = draw(st.integers(30, 3000))
        opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}")]))
        return "network: " + opener * depth + closer * depth + "\n"
    if kind == "digits":
        return f"{draw(st.sampled_from(['days', 'seed', 'ads.cpm', 'network']))}: " + "7" * draw(
            st.integers(15, 20_000)
        )
    if kind == "keys":
        return "\n".join(f"k{i}: {i}" for i in range(draw(st.integers(100, 20_000))))
    if kind == "items":
        n = draw(st.integers(100, 100_000))
        return "roles: {kol_selection: assigned, kol_ids: [" + ", ".join(str(i % 50) for i in range(n)) + "]}"
    if kind == "recursive":
        return draw(st.sampled_from(["a: &x [*x]", "ads: &x {cpm: *x}", "&r [*r, *r]"]))
    return f"name: {'x' * draw(st.integers(81, 900_000))}\n"


#: Any scenario text worth trying.
scenario_texts: st.SearchStrategy[str | bytes] = st.one_of(
    mutated_presets(),
    mutated_presets(),
    mangled_presets(),
    mangled_presets(),
    hostile_structures(),
    st.text(max_size=300),
    st.binary(max_size=300),
)

_paths = st.one_of(
    st.sampled_from(schema_paths()),
    st.sampled_from(schema_paths()).map(lambda p: p + ".x"),
    st.sampled_from(
        ["", ".", "..", "ads.", ".ads", "ads..cpm", "a" * 500, "network", "base_dir", "network.kind"]
    ),
    st.text(min_size=1, max_size=30).filter(lambda s: "=" not in s),
)


def _arg(text: str) -> str:
    return text.replace("\x00", "")  # a command line cannot hold NUL


@st.composite
def plausible_overrides(draw: st.DrawFn) -> str:
    """A real field set to a value near the hybrid preset's (often valid), written as --set reads it."""
    leaves = leaf_paths(parse_yaml(presets()["hybrid"]))
    path = draw(st.sampled_from(sorted(leaves)))
    value = leaves[path]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        text = draw(st.sampled_from([str(value).lower(), "none", "off", "yes"]))
    elif isinstance(value, int):
        text = str(draw(st.integers(0, max(2 * value, 3))))
    else:
        text = repr(draw(st.floats(0.0, max(2.0 * value, 1.0))))
    return f"{path}={text}"


#: One to four ``--set`` arguments: plausible ones, junk ones, some without ``=``.
override_lists: st.SearchStrategy[list[str]] = st.lists(
    st.one_of(
        plausible_overrides(),
        plausible_overrides(),
        st.tuples(_paths, st.one_of(st.sampled_from(JUNK_WORDS), st.text(max_size=30))).map(
            lambda kv: _arg(f"{kv[0]}={kv[1]}")
        ),
        st.text(max_size=20).map(_arg),
    ),
    min_size=1,
    max_size=4,
).filter(lambda items: not any("edge_list" in item or "network.path" in item for item in items))


def tally(outcomes: list[str]) -> dict[str, int]:
    """Counts per outcome, every outcome listed."""
    return {name: outcomes.count(name) for name in OUTCOMES}


def timed(fn: Any, *args: Any) -> tuple[str, float]:
    """An outcome and the seconds it took."""
    started = time.perf_counter()
    outcome = fn(*args)
    return outcome, time.perf_counter() - started
