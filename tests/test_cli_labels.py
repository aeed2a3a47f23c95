"""What the command line's numbers are, said where they are printed: a total says its period,
an interval says it is of the mean over the replications and what it includes, and a sweep
refuses a key it was given twice rather than running only one of the values."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.labels import LABELS, card_label, label, period_label
from model.scenario import Scenario
from ndpath.cli import LABEL_WIDTH, main

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "scenarios" / "default.toml"
EXTRA = ROOT / "scenarios" / "extra_clinicians.toml"
QUICK = ["--executor", "serial", "--quiet", "--no-figures", "--set", "backlog.count=200"]


def flat(text: str) -> str:
    """A long label wraps over lines: its words, in order."""
    return " ".join(text.split())


def run_out(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str) -> str:
    assert main([*args, "--out", str(tmp_path / "out")]) == 0
    return capsys.readouterr().out


def header(table: str) -> list[str]:
    """The header lines of the first table printed with an interval (to its rule of dashes)."""
    lines = table.splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("95% interval"))
    rule = next(k for k in range(start, len(lines)) if lines[k].startswith("---"))
    return lines[start:rule]


# -------------------------------------------------------------------------------------------------
# 1. A total says its period


@pytest.mark.parametrize("months, end", [(24, "December 2027"), (60, "December 2030")])
def test_a_total_in_the_run_table_says_its_period(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, months: int, end: str) -> None:
    """A 24-month cost printed as "Total cost (£)" reads as a year's (or the app's 60 months'):
    the cost and crises rows say the run's own period, as the app's tables do."""
    out = flat(run_out(capsys, tmp_path, "run", str(DEFAULT), "--replications", "2",
                       "--months", str(months), *QUICK))
    assert (f"Total cost (£) over the {months} months to {end}: whole staff posts and services "
            "delivered; not overheads or the cost of crises £") in out
    assert (f"Crises or school breakdowns while waiting (assumption-driven), over the {months} "
            f"months to {end} ") in out
    # a count at the end is no total: no period
    assert f"{label('waiting_list_end')} " in out
    assert f"{label('waiting_list_end')}, over" not in out
    assert LABELS["cost_total"] + " " not in out  # never the bare label


def test_the_by_group_table_and_its_gap_say_the_period_as_the_app_does(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from app import core

    out = run_out(capsys, tmp_path, "run", str(DEFAULT), "--replications", "2", "--months",
                  "24", "--by", "quintile", *QUICK)
    by = out[out.index("By deprivation quintile"):]
    rows = [line.split("  ")[0] for line in by.splitlines()]
    assert "Crises while waiting, 24 months" in rows and "Crises while waiting" not in rows
    assert "Turned 18, never assessed, 24 months" in rows
    assert "On the diagnostic list at the end" in rows  # a count at the end: no period
    # the same function the app's by-group rows use (one helper, not a second formatter)
    assert core.card_label is card_label and core.period_label is period_label
    scenario = Scenario().replace({"simulation.horizon_months": 24})
    assert core.card_label("escalations", scenario, "Crises while waiting") in rows


def test_compare_table_and_differences_chart_say_the_period(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import pandas as pd

    from model.results import read_results
    from ndpath.cli import differences_figure

    assert main(["compare", str(DEFAULT), str(EXTRA), "--replications", "2", "--months", "24",
                 "--executor", "serial", "--quiet", "--no-figures", "--set", "backlog.count=200",
                 "--out", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    text = flat(out)
    assert "Total cost (£) over the 24 months to December 2027: whole staff posts" in text
    assert ("Crises or school breakdowns while waiting (assumption-driven), over the 24 months "
            "to December 2027 ") in text
    comparison = pd.read_csv(tmp_path / "c" / "comparison.csv")
    scenario = read_results(tmp_path / "c" / "default").scenario
    figure = differences_figure(comparison, scenario)
    titles = [t.get_text().replace("\n", " ") for t in figure.axes[0].get_yticklabels()]
    assert period_label("cost_total", scenario) in titles
    assert "24 months to December 2027" in period_label("cost_total", scenario)
    assert any(t.startswith("Crises or school breakdowns while waiting (assumption-driven), "
                            "over the 24 months") for t in titles)
    assert label("waiting_list_end") in titles


def test_the_app_and_the_command_line_share_the_period_wording() -> None:
    """card_label and period_label live in model.labels, and the app's names are the same
    functions: a change of wording reaches both."""
    from app import core

    sixty = Scenario()
    assert core.period_words is not None and core.horizon_end_words(sixty) == "December 2030"
    assert card_label("cost_total", sixty) == "Total cost, 60 months"
    assert card_label("cost_total", sixty.replace({"simulation.horizon_months": 1})) == (
        "Total cost, 1 month")
    assert period_label("escalations", sixty).endswith(", over the 60 months to December 2030")
    assert period_label("waiting_list_end", sixty) == label("waiting_list_end")


# -------------------------------------------------------------------------------------------------
# 2. An interval says what it is


def test_the_run_table_header_says_its_interval_is_of_the_mean_over_the_replications(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """"£2.14m to £2.14m" under a bare "95% interval" reads as certainty about the cost; it is
    the interval of the mean over a few replications, chance only."""
    out = run_out(capsys, tmp_path, "run", str(DEFAULT), "--replications", "3", "--months",
                  "12", *QUICK)
    head = header(out)
    assert flat(" ".join(line[:LABEL_WIDTH] for line in head)).startswith(
        "95% interval of the mean over 3 replications (chance only)")
    assert all(len(line[:LABEL_WIDTH].rstrip()) <= LABEL_WIDTH for line in head)
    first = out.splitlines()[0]
    assert "12 months from 2026-01-01" in first
    # said once, in the header: not again in the first line
    assert "replications" not in first and flat(out).count("chance only") == 1
    assert main(["run", str(DEFAULT), "--replications", "2", "--months", "12", "--uncertainty",
                 *QUICK, "--out", str(tmp_path / "u")]) == 0
    out = capsys.readouterr().out
    assert "95% interval of the mean over 2 replications (chance and assumptions)" in flat(out)
    assert "chance only" not in out and "held fixed" not in out


def test_the_compare_and_sweep_headers_give_the_horizon_and_what_the_intervals_include(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["compare", str(DEFAULT), str(EXTRA), "--replications", "2", "--months", "18",
                 "--executor", "serial", "--quiet", "--no-figures", "--set", "backlog.count=200",
                 "--out", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "18 months from 2026-01-01" in out.splitlines()[0]
    table = out[out.index("extra_clinicians minus default"):]
    head = header(table)
    assert flat(" ".join(line[:LABEL_WIDTH] for line in head)).startswith(
        "95% interval of the mean difference over 2 paired replications (chance only)")
    assert all(len(line[:LABEL_WIDTH].rstrip()) <= LABEL_WIDTH for line in head)
    assert main(["sweep", str(DEFAULT), "--grid", "support.places=0,10", "--replications", "2",
                 "--months", "18", "--set", "backlog.count=200", "--executor", "serial",
                 "--quiet", "--out", str(tmp_path / "s.parquet")]) == 0
    out = capsys.readouterr().out
    assert "2 replications, 18 months from 2026-01-01" in out.splitlines()[0]
    assert "scenario (mean over 2 replications, chance only)" in out
    assert "Total cost, 18 months" in out  # the sweep's total says its period too
    assert main(["sweep", str(DEFAULT), "--grid", "support.places=0,10", "--replications", "2",
                 "--months", "18", "--set", "backlog.count=200", "--set",
                 "uncertainty.enabled=true", "--set", "uncertainty.from_assumptions=true",
                 "--executor", "serial", "--quiet", "--out", str(tmp_path / "u.parquet")]) == 0
    assert "(mean over 2 replications, chance and assumptions)" in flat(capsys.readouterr().out)


# -------------------------------------------------------------------------------------------------
# 3. A sweep refuses a key given twice


@pytest.mark.parametrize("given, words", [
    (["--set", "support.places=20"], "support.places: given twice (--set 20 and --grid 0,10)"),
    (["--set", " support.places = 20"], "support.places: given twice (--set 20 and --grid 0,10)"),
    (["--set", "support={places=20}"], "support (by --set) and support.places (by --grid): "
                                       "given twice (--set {places=20} and --grid 0,10)"),
])
def test_sweep_refuses_a_set_of_a_key_the_grid_sets(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, given: list[str], words: str) -> None:
    """The grid's values replaced the --set silently: a sweep asked for 20 ran 0 and 10."""
    out = tmp_path / "sw.parquet"
    code = main(["sweep", str(DEFAULT), "--grid", "support.places=0,10", *given,
                 "--replications", "2", "--months", "6", "--executor", "serial", "--quiet",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err
    assert "give it once: in --grid to sweep it, or in --set for one value" in err
    assert not out.exists()


def test_sweep_refuses_an_option_that_sets_a_key_the_grid_sets(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["sweep", str(DEFAULT), "--grid", "simulation.horizon_months=6,12",
                 "--months", "6", "--replications", "2", "--executor", "serial", "--quiet",
                 "--out", str(tmp_path / "sw.parquet")])
    err = capsys.readouterr().err
    assert code == 2
    assert "simulation.horizon_months: given twice (--months 6 and --grid 6,12)" in err


# -------------------------------------------------------------------------------------------------
# 4. A number written as a float, and a growth written as a percentage


def test_a_whole_number_written_as_a_float_says_what_to_write(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--set and --grid treat 1e3 alike (TOML reads it as 1000.0, and a count is a whole
    number): both refuse it, saying how it was read and what to write."""
    assert main(["check", str(DEFAULT), "--set", "support.places=1e3"]) == 2
    err = capsys.readouterr().err
    assert "support.places = 1000.0: must be a whole number (no decimal part): write 1000" in err
    assert "1e3 is read as 1000.0" in err
    assert main(["sweep", str(DEFAULT), "--grid", "support.places=0,1e3", "--quiet",
                 "--out", str(tmp_path / "sw.parquet")]) == 2
    err = capsys.readouterr().err
    assert "support.places=1e3: support.places = 1000.0: must be a whole number" in err
    assert "write 1000 (1e3 is read as 1000.0)" in err
    assert main(["check", str(DEFAULT), "--set", "support.places=10.5"]) == 2
    assert "write" not in capsys.readouterr().err  # no whole number to suggest
    path = tmp_path / "f.toml"
    path.write_text(f'extends = "{DEFAULT.as_posix()}"\n[support]\nplaces = 1000.0\n')
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "write 1000" in err and "read as" not in err  # typed as it reads


def test_a_growth_written_as_a_percentage_says_it_is_a_fraction(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(DEFAULT), "--set", "arrivals.annual_growth=8"]) == 2
    err = capsys.readouterr().err
    assert "arrivals.annual_growth = 8: must be at most 5" in err
    assert "0.08 for 8% growth" in err
