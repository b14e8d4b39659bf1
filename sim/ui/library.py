"""Scenario texts the app works with: presets, uploads, and whether a set of strategies can be compared.

Scenarios are kept as YAML text (what a file holds, what is downloaded, what caches are keyed on);
each is parsed and validated with :func:`sim.scenario.scenario_from_text` when used.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sim.analysis.compare import SHARED_WORLD_SECTIONS
from sim.scenario import (
    MAX_SCENARIO_BYTES,
    FraudSpec,
    Problem,
    Scenario,
    ScenarioError,
    scenario_from_text,
)
from sim.ui.form import changed_overrides

__all__ = [
    "PRESETS_DIR",
    "attack_line",
    "preset_texts",
    "read_upload",
    "unique_name",
    "world_differences",
    "world_problems",
]

#: The preset strategies shipped with Ripple.
PRESETS_DIR = Path(__file__).resolve().parents[2] / "scenarios"


def preset_texts(folder: str | Path = PRESETS_DIR) -> dict[str, str]:
    """Every ``*.yaml`` scenario in ``folder`` as ``{file stem: YAML text}``, sorted by name."""
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(Path(folder).glob("*.yaml"))}


def read_upload(filename: str, data: bytes) -> Scenario:
    """Validate an uploaded scenario file; raise :class:`ScenarioError` listing every problem.

    Refused before parsing: an empty file, one over :data:`~sim.scenario.MAX_SCENARIO_BYTES`, and one
    that is not UTF-8 text (an image or a spreadsheet picked by mistake), in plain words.
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
    return scenario_from_text(data, source=filename)


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
