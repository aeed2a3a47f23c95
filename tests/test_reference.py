"""The committed scenario reference is generated from the schema and must be current."""

from pathlib import Path

from model.reference import render
from model.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]


def test_reference_is_current() -> None:
    committed = (ROOT / "docs" / "scenario-reference.md").read_text()
    assert committed == render(), "regenerate: python -m model.reference > docs/scenario-reference.md"


def test_every_key_is_documented_with_evidence() -> None:
    text = render()
    for section, info in Scenario.model_fields.items():
        assert f"## `[{section}]`" in text
        for key in info.annotation.model_fields:  # type: ignore[union-attr]
            assert f"| `{key}` |" in text, f"{section}.{key} missing from the reference"
    # every default that is an empirical quantity says where it comes from
    for line in text.splitlines():
        if line.startswith("| `") and line.count("|") >= 6 and "(required)" not in line:
            evidence = line.rstrip("|").rsplit("|", 1)[-1].strip()
            assert evidence, f"no evidence recorded: {line}"
