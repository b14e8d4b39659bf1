"""The docs stand on their own and cannot drift from the code they describe."""

from __future__ import annotations

import re
from pathlib import Path

from sim.rules import REGISTRY
from sim.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "odd.md"


def _submodels() -> str:
    text = ODD.read_text(encoding="utf-8")
    return text[text.index("## 7. Submodels") :]


def test_odd_has_a_submodel_for_every_registered_rule() -> None:
    headings = set(re.findall(r"^### `([a-z_]+)`", _submodels(), flags=re.M))
    assert {rule.name for rule in REGISTRY} <= headings


def test_odd_names_every_scenario_section() -> None:
    text = ODD.read_text(encoding="utf-8")
    sections = [name for name in Scenario.model_fields if name != "base_dir"]
    missing = [name for name in sections if f"`{name}`" not in text]
    assert not missing, f"docs/odd.md never names these scenario sections: {missing}"


def _project_texts() -> list[Path]:
    files = [*ROOT.glob("sim/**/*.py"), *ROOT.glob("app_pages/*.py"), ROOT / "app.py"]
    files += [*ROOT.glob("docs/*.md"), ROOT / "README.md", *ROOT.glob("scenarios/*.yaml")]
    files += [*ROOT.glob("experiments/*")]
    return [path for path in files if path.is_file()]


def test_docs_and_code_cite_only_files_in_the_repository() -> None:
    # A reader who clones the repository must be able to follow every reference.
    outside = re.compile(r"(?<![\w/\[(])(design|mission|science)\.md|\.\./shared|\bshared/")
    for path in _project_texts():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in outside.finditer(line):
                ok = match.group(1) == "science" and (
                    line[: match.start()].endswith("docs/") or path.parent.name == "docs"
                )
                assert ok, f"{path.relative_to(ROOT)}:{number} cites a file outside the repository: {line}"


def test_no_work_item_numbers_in_code_or_docs() -> None:
    item = re.compile(r"\bissues? ?#\d|\(#\d+\)|\bissue-\d", re.IGNORECASE)
    for path in _project_texts():
        text = path.read_text(encoding="utf-8")
        assert not item.search(text), f"{path.relative_to(ROOT)} names a work item: {item.search(text)}"
