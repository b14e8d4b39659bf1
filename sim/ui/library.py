"""Scenario texts the app works with: presets, uploads, and whether a set of strategies can be compared.

Scenarios are kept as YAML text (what a file holds, what is downloaded, what caches are keyed on);
each is parsed and validated with :func:`sim.scenario.scenario_from_text` when used. A scenario whose
graph comes from a file carries that file with it as an *attachment* (``{file name: bytes}``): in the
app every scenario is sandboxed this way, so it can read only the files uploaded with it (or shipped
beside a preset), never a path on the server.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from sim.analysis.compare import SHARED_WORLD_SECTIONS
from sim.scenario import (
    MAX_SCENARIO_BYTES,
    EdgeListSpec,
    FraudSpec,
    Problem,
    Scenario,
    ScenarioError,
    scenario_from_text,
)
from sim.ui.form import changed_overrides
from sim.world.build import read_graph_file
from sim.world.edge_list import check_people_count

__all__ = [
    "GRAPH_UPLOAD_TYPES",
    "MAX_GRAPH_UPLOAD_BYTES",
    "PRESETS_DIR",
    "GraphInfo",
    "attack_line",
    "graph_info",
    "preset_files",
    "preset_texts",
    "read_upload",
    "read_uploads",
    "unique_name",
    "upload_digest",
    "world_differences",
    "world_problems",
]

#: Largest graph file the app accepts with an uploaded scenario (the server's upload limit matches).
MAX_GRAPH_UPLOAD_BYTES = 50_000_000
#: The usual extensions of scenarios (YAML) and graph files. The app's uploader takes any file name (a
#: graph file's reader refuses what it cannot read, with the reason); this lists the common ones.
GRAPH_UPLOAD_TYPES: tuple[str, ...] = (
    "yaml", "yml", "txt", "csv", "tsv", "tab", "edges", "el", "graphml", "gexf", "gml", "net", "paj", "pajek",
)  # fmt: skip
_SCENARIO_SUFFIXES = (".yaml", ".yml")

#: The preset strategies shipped with Ripple.
PRESETS_DIR = Path(__file__).resolve().parents[2] / "scenarios"


def preset_texts(folder: str | Path = PRESETS_DIR) -> dict[str, str]:
    """Every ``*.yaml`` scenario in ``folder`` as ``{file stem: YAML text}``, sorted by name."""
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(Path(folder).glob("*.yaml"))}


def preset_files(folder: str | Path = PRESETS_DIR) -> dict[str, dict[str, bytes]]:
    """The graph files shipped beside the presets, ``{preset stem: {file name: bytes}}``.

    A preset whose ``network.path`` is a plain file name in ``folder`` gets that file as its
    attachment (presets without a graph file get none).
    """
    files: dict[str, dict[str, bytes]] = {}
    root = Path(folder)
    for path in sorted(root.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            continue
        network = data.get("network") if isinstance(data, dict) else None
        name = network.get("path") if isinstance(network, dict) else None
        if isinstance(name, str) and Path(name).name == name and (root / name).is_file():
            files[path.stem] = {name: (root / name).read_bytes()}
    return files


def read_upload(filename: str, data: bytes, files: Mapping[str, bytes] | None = None) -> Scenario:
    """Validate an uploaded scenario file; raise :class:`ScenarioError` listing every problem.

    Args:
        filename: The scenario file's name (names it in messages).
        data: The scenario file's bytes.
        files: Other files uploaded with it, ``{file name: bytes}``. The scenario is sandboxed to them:
            its ``network.path`` must be one of their names (never a path on the server), and the
            graph file is read now, so a bad one is refused before anything changes.

    Refused before parsing: an empty file, one over :data:`~sim.scenario.MAX_SCENARIO_BYTES`, and one
    that is not UTF-8 text (an image or a spreadsheet picked by mistake), in plain words; a graph
    file over :data:`MAX_GRAPH_UPLOAD_BYTES`.

    Raises:
        ScenarioError: For the scenario's problems (and a path outside the upload: one line).
        EdgeListError: For a graph file that cannot be used.
    """
    if len(data) > MAX_SCENARIO_BYTES:
        raise ScenarioError(
            [
                Problem(
                    "",
                    f"a scenario file must be at most {MAX_SCENARIO_BYTES:,} bytes",
                    f"{len(data):,} bytes",
                )
            ],
            filename,
        )
    if not data.strip():
        raise ScenarioError([Problem("", "a scenario file must not be empty", "an empty file")], filename)
    binary = _binary_reason(data)
    if binary:
        allowed = "a scenario file must be a text file (YAML, UTF-8) like those in scenarios/"
        raise ScenarioError([Problem("", allowed, binary)], filename)
    attachments = dict(files or {})
    too_big = [name for name, content in attachments.items() if len(content) > MAX_GRAPH_UPLOAD_BYTES]
    if too_big:
        raise ScenarioError(
            [
                Problem(
                    "network.path",
                    f"an uploaded graph file must be at most {MAX_GRAPH_UPLOAD_BYTES / 1e6:,.0f} MB",
                    f"{name}: {len(attachments[name]) / 1e6:,.1f} MB",
                )
                for name in too_big
            ],
            filename,
        )
    scenario = scenario_from_text(data, source=filename, attachments=attachments)
    network = scenario.network
    if isinstance(network, EdgeListSpec):
        graph_info(scenario)  # read (and cache) the file now: its problems belong to the upload
        # Keep only the file the scenario uses (one upload may carry several scenarios and graphs).
        scenario = scenario_from_text(
            data, source=filename, attachments={network.path: attachments[network.path]}
        )
    elif attachments:  # a generated network reads no file: carry none (nor count them as its own)
        scenario = scenario_from_text(data, source=filename, attachments={})
    return scenario


def read_uploads(uploaded: Mapping[str, bytes]) -> tuple[dict[str, Scenario], dict[str, Exception]]:
    """Read one upload of several files: every YAML file is a scenario, the rest are graph files.

    Returns:
        ``(scenarios, problems)``: each scenario file's name mapped to its scenario, or to the
        :class:`ScenarioError` or :class:`~sim.world.edge_list.EdgeListError` that refused it. A
        graph file uploaded without a scenario is reported as a problem too.
    """
    scenarios = {name: data for name, data in uploaded.items() if name.lower().endswith(_SCENARIO_SUFFIXES)}
    graphs = {name: data for name, data in uploaded.items() if name not in scenarios}
    read: dict[str, Scenario] = {}
    problems: dict[str, Exception] = {}
    for name, data in scenarios.items():
        try:
            read[name] = read_upload(name, data, graphs)
        except ValueError as exc:  # ScenarioError, EdgeListError
            problems[name] = exc
    if graphs and not scenarios:
        problems[", ".join(sorted(graphs))] = ScenarioError(
            [Problem("", "a graph file is used by a scenario: upload the scenario (YAML) with it", "")],
            ", ".join(sorted(graphs)),
        )
    return read, problems


def upload_digest(data: bytes, attachments: Mapping[str, bytes] | None = None) -> str:
    """A fingerprint of an uploaded scenario: its file's bytes and the files it reads (name and bytes).

    The uploader keeps every file of earlier uploads in its list, so each upload hands the page the
    earlier files again: a scenario whose fingerprint was added before is the same upload, not a new
    scenario. The file's own name is left out, so the same content under another name is the same too.
    """
    digest = hashlib.sha256(data)
    for name, content in sorted((attachments or {}).items()):
        digest.update(b"\0" + name.encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class GraphInfo:
    """What the app says about a scenario's graph file: its people and the reader's notes."""

    file: str
    n_people: int
    notes: tuple[str, ...]


def graph_info(scenario: Scenario) -> GraphInfo | None:
    """The people and notes of a scenario's graph file (read once, cached); None for a generated graph.

    Raises:
        EdgeListError: For a graph file that cannot be used (or whose count differs from network.n).
    """
    network = scenario.network
    if not isinstance(network, EdgeListSpec):
        return None
    parsed = read_graph_file(network, scenario.base_dir, scenario.attachments)
    if network.n is not None:
        check_people_count(parsed, network.n)
    scenario.check_people(parsed.graph.n, Path(network.path).name)
    return GraphInfo(file=Path(network.path).name, n_people=parsed.graph.n, notes=parsed.graph.notes)


def _binary_reason(data: bytes) -> str | None:
    """Why ``data`` is not a text file, in words (None when it reads as UTF-8 text)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "binary data, not text (an image, a spreadsheet or an archive?)"
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r")
    if "\x00" in text or controls:
        return "binary data, not text (it holds control characters)"
    return None


def unique_name(name: str, existing: Mapping[str, object] | set[str]) -> str:
    """``name``, or ``name (2)``, ``name (3)``… if it is taken."""
    candidate, k = name, 2
    while candidate in existing:
        candidate, k = f"{name} ({k})", k + 1
    return candidate


def world_differences(base: Scenario, other: Scenario) -> list[str]:
    """The settings of the shared market (and horizon) in which ``other`` differs from ``base``.

    As ``path=value`` overrides of ``other``: the same text a user would pass with ``--set``. The
    attack (``fraud``) is not among them: strategies may differ in it (see :func:`attack_differences`).
    """
    return changed_overrides(_shared(base), _shared(other))


def _shared(scenario: Scenario) -> dict[str, object]:
    keep = (*SHARED_WORLD_SECTIONS, "days")
    return {key: value for key, value in scenario.model_dump(mode="json").items() if key in keep}


def world_problems(named: Mapping[str, Scenario]) -> list[str]:
    """Why these strategies cannot be compared side by side (``[]`` when they can).

    Strategies in a comparison share the real people and their ties (the sections in
    :data:`sim.analysis.compare.SHARED_WORLD_SECTIONS`) and one horizon, so the differences between them
    are paired: the settings :func:`sim.analysis.compare.check_same_world` requires to match. Each
    message names which strategy has which value, e.g. ``"hybrid (2) has network.m=3; funnel_heavy has
    network.m=5"``.
    """
    items = list(named.items())
    base_name, base = items[0]
    messages = []
    for name, scenario in items[1:]:
        theirs = world_differences(base, scenario)
        if theirs:
            ours = changed_overrides(_shared(scenario), _shared(base))
            messages.append(f"{name} has {', '.join(theirs)}; {base_name} has {', '.join(ours)}")
    return messages


def attack_line(named: Mapping[str, Scenario]) -> str | None:
    """One sentence saying how the strategies' attacks (``fraud`` sections) differ, or None if they agree.

    Example: "The attack differs: coupon_farming_attack faces 30 attackers with 600 fake accounts and
    1.5 coupon farmers a day; two_sided_credit faces none. Both run on the same real people; the fake
    accounts add ties to real people."
    """
    sections = {name: scenario.fraud for name, scenario in named.items()}
    if len({spec.model_dump_json() for spec in sections.values()}) <= 1:
        return None
    parts = [f"{name} faces {_attack_words(spec)}" for name, spec in sections.items()]
    return (
        "The attack differs: "
        + "; ".join(parts)
        + ". Every strategy runs on the same real people; fake accounts are added after them, with ties "
        "to their operators and to random real people."
    )


def _attack_words(spec: FraudSpec) -> str:
    pieces = []
    if spec.n_attackers:
        pieces.append(
            f"{spec.n_attackers:,} attacker{'s' if spec.n_attackers != 1 else ''} with "
            f"{spec.n_fake_accounts:,} fake accounts"
            + ("" if spec.rate_accounts_per_day else " (never activated)")
        )
    if spec.rate_coupon_farmers_per_day:
        pieces.append(f"{spec.rate_coupon_farmers_per_day:g} coupon farmers a day")
    return " and ".join(pieces) if pieces else "no attack"
