"""Scenario TOML files uploaded to the app, read in memory.

An uploaded scenario cannot name other files: the app does not read files beside it (and keeps
uploads in memory). Two keys name files in a scenario:

* ``extends``: allowed when it names a shipped scenario (``extends = "default.toml"``), which
  the app has; anything else is a problem with a fix;
* ``backlog.table``: a CSV of the children waiting. The app cannot see it, so the problem says
  to calibrate on the Calibrate page or to give the children inline as ``backlog.waiting``.

>>> scenario_from_toml("a.toml", b'[meta]\\nname = "Mine"\\n').meta.name
'Mine'
>>> try:
...     scenario_from_toml("a.toml", b"[assessment]\\nwtee = 3\\n")
... except ScenarioError as error:
...     print(error.problems[0])
assessment.wtee: unknown key (remove it or check its spelling against docs/scenario-reference.md)
"""

from __future__ import annotations

import tomllib

from model.scenario import Scenario, ScenarioError, build_scenario, deep_merge

from .core import load_shipped, shipped_scenarios

BACKLOG_TABLE_FIX = (
    "the app cannot read files beside an uploaded scenario. Calibrate from your extract on the "
    "app's Calibrate page (its scenario holds the children waiting itself), or replace "
    "backlog.table with the children as inline columns under [backlog.waiting] "
    "(referral_date = [...], and optionally pathway, age_at_referral, priority, "
    "looked_after_or_cin, deprivation_quintile; see docs/scenario-reference.md)")


def scenario_from_toml(name: str, data: bytes) -> Scenario:
    """Validate an uploaded scenario file; raises :class:`ScenarioError` listing its problems."""
    try:
        parsed = tomllib.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ScenarioError(["the file is not text (UTF-8): upload a .toml scenario file"],
                            name) from None
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError([f"not valid TOML: {error}"], name) from None
    problems = []
    base_name = parsed.pop("extends", None)
    if base_name is not None:
        stems = shipped_scenarios()
        stem = base_name.removesuffix(".toml") if isinstance(base_name, str) else None
        if stem in stems and "/" not in str(base_name) and "\\" not in str(base_name):
            parsed = deep_merge(load_shipped(stem)[0].to_dict(), parsed)
        else:
            problems.append(f"extends = {base_name!r}: the app can only extend a shipped scenario "
                            f"({', '.join(f'{s}.toml' for s in stems)}); upload the scenario "
                            "written out in full (the app's TOML download is)")
    backlog = parsed.get("backlog")
    if isinstance(backlog, dict) and backlog.get("table") is not None \
            and backlog.get("enabled", True) is not False:
        problems.append(f"backlog.table = {backlog['table']!r}: {BACKLOG_TABLE_FIX}")
    if problems:
        raise ScenarioError(problems, name)
    return build_scenario(parsed, name)


__all__ = ["scenario_from_toml", "BACKLOG_TABLE_FIX"]
