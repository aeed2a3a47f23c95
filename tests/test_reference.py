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


def test_every_design_brief_section_the_project_cites_is_in_the_repository() -> None:
    """The README, the app and the generated reference send readers to "DESIGN.md section N":
    the brief is in docs/ with those sections (a new user found it missing from a clone)."""
    import re

    headings = {m.group(1) for m in re.finditer(r"^#+ (\d+[a-z]?)\.", (ROOT / "docs" / "DESIGN.md")
                                                 .read_text(), flags=re.M)}
    cited = set()
    for path in [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("app/**/*.py"),
                 *ROOT.glob("model/*.py"), *ROOT.glob("ndpath/*.py"), *ROOT.glob("calibration/*.py")]:
        cited |= set(re.findall(r"DESIGN\.md,? (?:section )?(\d+[a-z]?)", path.read_text()))
    assert cited and cited <= headings, sorted(cited - headings)
