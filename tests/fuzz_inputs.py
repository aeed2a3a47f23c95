"""A seeded fuzzer of everything a user hands ndpath: scenario files, ``--set`` options, command
options, patient-level extracts and monthly series (used by ``tests/test_fuzz_inputs.py``).

Each case is what a careless or unlucky user would write, made by mutating a good input (the
shipped scenarios, a synthetic extract, a synthetic monthly series): a number replaced by
``nan``, text or ``true``, a key misspelt, a column dropped or doubled, a file saved in the wrong
encoding or with semicolons, and so on. A case knows whether its input is certainly invalid
(``invalid=True``: it must exit 2) or may be valid (exit 0 or 2). ``fragment`` is a word the
error message must contain when the case is invalid: the key, column or problem it concerns.

The command line runs in this process (:func:`ndpath.cli.main`), so thousands of cases stay quick:
most are checked with ``ndpath check`` / ``ndpath validate``; a few valid scenarios also run for
two months with one replication, so that values which pass validation are seen to run and to be
written.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import random
import signal
import tomllib
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd
import tomli_w

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
EXTRACT_DATE = "2025-12-31"
CASE_SECONDS = 120
"""A case that takes longer has hung: it fails the test rather than stalling the suite."""


@dataclass
class Case:
    """One fuzzed input: files to write, the command to run, and what must happen."""

    kind: str
    what: str
    argv: list[str]
    files: dict[str, bytes] = field(default_factory=dict)
    invalid: bool = False
    fragment: str | None = None
    run_if_valid: bool = False


@dataclass
class Outcome:
    case: Case
    code: int | None
    stdout: str
    stderr: str
    crash: str | None = None

    @property
    def ok(self) -> bool:
        return (self.crash is None and self.code in (0, 2) and "Traceback" not in self.stderr
                and (not self.case.invalid or self.code == 2)
                and (self.code != 2 or "error" in self.stderr.lower())
                and (self.code != 2 or not self.case.invalid or self.case.fragment is None
                     or self.case.fragment.lower() in self.stderr.lower()))

    def describe(self) -> str:
        tail = (self.crash or self.stderr)[-1500:]
        return (f"[{self.case.kind}] {self.case.what}\n  argv: {self.case.argv}\n  exit {self.code}"
                f" (invalid expected: {self.case.invalid}, fragment {self.case.fragment!r})\n"
                f"  {tail}")


class _Hung(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Hung(f"no answer after {CASE_SECONDS} s")


def run_cli(argv: list[str]) -> tuple[int | None, str, str, str | None]:
    """``ndpath ARGV`` in this process: (exit code, stdout, stderr, traceback if it raised)."""
    from ndpath.cli import main

    out, err = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_SECONDS)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
        return code, out.getvalue(), err.getvalue(), None
    except BaseException:  # a traceback of any kind is what the fuzzer looks for
        return None, out.getvalue(), err.getvalue(), traceback.format_exc()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_case(case: Case, folder: Path) -> list[Outcome]:
    """Write the case's files into ``folder``, run it, and (for a valid scenario marked
    ``run_if_valid``) run the model on it briefly too."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in case.files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    argv = [a.replace("{dir}", str(folder)) for a in case.argv]
    code, out, err, crash = run_cli(argv)
    outcomes = [Outcome(case, code, out, err, crash)]
    shrink = _shrunk(argv) if case.run_if_valid and code == 0 else None
    if shrink is not None:
        run = Case(case.kind + "/run", case.what, [
            "run", *argv[1:], *shrink, "--months", "2", "--replications", "1", "--no-figures",
            "--executor", "serial", "--quiet", "--out", str(folder / "out"), "--overwrite"])
        outcomes.append(Outcome(run, *run_cli(run.argv)))
    return outcomes


def _shrunk(argv: list[str]) -> list[str] | None:
    """``--set`` items that make a checked scenario quick to run for two months (a smaller list
    and fewer referrals, unless the case itself sets them), or ``None`` if it stays slow: the
    fuzzer checks that valid values run and are written, not how fast."""
    from model.scenario import load_scenario

    overrides = [argv[i + 1] for i, a in enumerate(argv) if a == "--set"]
    touched = {o.split("=", 1)[0].strip() for o in overrides}
    s = load_scenario(argv[1], overrides)
    extra = []
    if s.backlog.enabled and s.backlog.count > 500 and "backlog.count" not in touched:
        extra += ["--set", "backlog.count=500"]
    if s.arrivals.referrals_per_month > 100 and "arrivals.referrals_per_month" not in touched:
        extra += ["--set", "arrivals.referrals_per_month=100"]
    s = load_scenario(argv[1], overrides + extra[1::2])
    small = ((not s.backlog.enabled or s.backlog.count <= 3000)
             and s.arrivals.referrals_per_month <= 1000
             and s.assessment.session_interval_days >= 1 and not s.uncertainty.enabled
             and s.assessment.servers <= 1000)
    return extra if small else None


# -------------------------------------------------------------------------------------------------
# Scenario files


def _merged(path: Path) -> dict[str, Any]:
    from model.scenario import _read_toml

    data, _ = _read_toml(path.resolve(), ())
    return data


def _leaves(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _leaves(v, (*path, i))
    else:
        yield path, data


def _set_in(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def _delete_in(data: Any, path: tuple[Any, ...]) -> None:
    for part in path[:-1]:
        data = data[part]
    del data[path[-1]]


def _key_text(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


def _last_name(path: tuple[Any, ...]) -> str:
    return next(str(p) for p in reversed(path) if isinstance(p, str))


def _wrong_type(value: Any, rng: random.Random) -> Any:
    """A value of the wrong TOML type for ``value``'s place (always invalid there)."""
    import datetime as dt

    if isinstance(value, bool):
        return rng.choice([0, 1, -0, "true", "yes", 1.0])
    if isinstance(value, (int, float)):
        return rng.choice([float("nan"), float("inf"), float("-inf"), str(value), "1e3", True,
                           False, [value], {"value": value}, ""])
    if isinstance(value, dt.date):
        return rng.choice(["01/04/2026", "31/02/2023", f"{value.year}-02-30", 2026, True, 1.5])
    if isinstance(value, str):
        return rng.choice([5, 0.5, True, [value], float("nan")])
    return float("nan")


def _perturbed(value: Any, rng: random.Random) -> Any:
    """A number moved somewhere plausible or extreme (valid or not, the loader decides)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return rng.choice([0, -1, value * 2, value // 2, 10**12, 10**30, value + 1])
    if isinstance(value, float):
        return rng.choice([0.0, -value, value * 2, value / 2, 1e-12, 1e12, 1e308, -1e-300,
                           value * 1.0001, 0.5])
    return value


def scenario_cases(rng: random.Random, n: int) -> list[Case]:
    merged = {p.name: _merged(p) for p in SCENARIOS}
    texts = {p.name: p.read_bytes() for p in SCENARIOS}
    mutators: list[tuple[float, Callable[[], Case]]] = []

    def pick() -> tuple[str, dict[str, Any], list[tuple[tuple[Any, ...], Any]]]:
        name = rng.choice(sorted(merged))
        data = copy.deepcopy(merged[name])
        return name, data, list(_leaves(data))

    def write(data: dict[str, Any]) -> bytes:
        return tomli_w.dumps(data).encode()

    def wrong_type() -> Case:
        name, data, leaves = pick()
        path, value = rng.choice(leaves)
        new = _wrong_type(value, rng)
        _set_in(data, path, new)
        return Case("scenario", f"{name}: {_key_text(path)} = {new!r} (was {value!r})",
                    ["check", "{dir}/s.toml"], {"s.toml": write(data)}, invalid=True,
                    fragment=_last_name(path))

    def perturb() -> Case:
        name, data, leaves = pick()
        numeric = [(p, v) for p, v in leaves if isinstance(v, (int, float))]
        path, value = rng.choice(numeric)
        new = _perturbed(value, rng)
        _set_in(data, path, new)
        return Case("scenario", f"{name}: {_key_text(path)} = {new!r} (was {value!r})",
                    ["check", "{dir}/s.toml"], {"s.toml": write(data)},
                    run_if_valid=rng.random() < 0.25)

    def delete_key() -> Case:
        name, data, leaves = pick()
        path, value = rng.choice(leaves)
        _delete_in(data, path)
        return Case("scenario", f"{name}: {_key_text(path)} removed",
                    ["check", "{dir}/s.toml"], {"s.toml": write(data)})

    def unknown_key() -> Case:
        name, data, leaves = pick()
        path, value = rng.choice(leaves)
        if isinstance(path[-1], int):
            return wrong_type()
        key = str(path[-1])
        typo = rng.choice([key[:-1], key + "s", key.replace("_", "", 1) if "_" in key else key + "x",
                           key.upper(), "", " "])
        if typo == key:
            typo = key + "x"
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        parent[typo] = parent.pop(key)
        fragment = None if not typo.strip() else _last_name((*path[:-1], typo))
        return Case("scenario", f"{name}: {_key_text(path)} renamed {typo!r}",
                    ["check", "{dir}/s.toml"], {"s.toml": write(data)}, invalid=True,
                    fragment=fragment)

    def text_level() -> Case:
        name = rng.choice(sorted(texts))
        text = texts[name]
        choice = rng.randrange(8)
        if choice == 0:
            cut = rng.randrange(len(text))
            return Case("scenario-text", f"{name} cut at byte {cut}", ["check", "{dir}/s.toml"],
                        {"s.toml": text[:cut]}, invalid=cut == 0 or not text[:cut].strip())
        if choice == 1:
            at = rng.randrange(len(text))
            bad = bytes([rng.choice([0xff, 0xfe, 0xc3, 0xe9, 0x80])])
            return Case("scenario-text", f"{name} with byte {bad!r} at {at}",
                        ["check", "{dir}/s.toml"], {"s.toml": text[:at] + bad + text[at:]},
                        invalid=bad in (b"\xff", b"\xfe", b"\x80"), fragment="UTF-8"
                        if bad in (b"\xff", b"\xfe", b"\x80") else None)
        if choice == 2:
            lines = text.split(b"\n")
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
            return Case("scenario-text", f"{name} line {i + 1} doubled", ["check", "{dir}/s.toml"],
                        {"s.toml": b"\n".join(lines)})
        if choice == 3:
            body = rng.choice([b"", b"   \n\n", b"# only a comment\n", b"\xef\xbb\xbf"])
            return Case("scenario-text", f"empty file {body!r}", ["check", "{dir}/s.toml"],
                        {"s.toml": body}, invalid=True, fragment="empty" if b"#" not in body
                        else "comments")
        if choice == 4:
            target = rng.choice(['""', '"."', '"no_such.toml"', '"../"', "5", "[]", '"  "',
                                 '"sub"'])
            return Case("scenario-text", f"extends = {target}", ["check", "{dir}/s.toml"],
                        {"s.toml": f"extends = {target}\n[meta]\nname = 'x'\n".encode(),
                         "sub/.keep": b""} if target == '"sub"' else
                        {"s.toml": f"extends = {target}\n[meta]\nname = 'x'\n".encode()},
                        invalid=True, fragment="extends" if target != '"no_such.toml"'
                        else "not found")
        if choice == 5:
            latin = "[meta]\nname = \"Caf\u00e9 \u00a3\"\n".encode("latin-1")
            return Case("scenario-text", "latin-1 file", ["check", "{dir}/s.toml"],
                        {"s.toml": latin}, invalid=True, fragment="UTF-8")
        if choice == 6:
            return Case("scenario-text", "scenario that extends a shipped one by name",
                        ["check", "{dir}/s.toml"],
                        {"s.toml": f'extends = "{name}"\n[support]\nplaces = 10\n'.encode()},
                        run_if_valid=rng.random() < 0.3)
        junk = rng.choice([b'"" = 1\n', b"[support]\n\"\" = 2\n", b"= 3\n", b"[assessment]\noutcome = {}\n",
                           b"[[assessment.professions]]\nname = \"=\"\nwte = 1\n"])
        return Case("scenario-text", f"{name} plus {junk!r}", ["check", "{dir}/s.toml"],
                    {"s.toml": f'extends = "{ROOT / "scenarios" / name}"\n'.encode() + junk},
                    invalid=True)

    mutators = [(0.35, wrong_type), (0.25, perturb), (0.1, delete_key), (0.15, unknown_key),
                (0.15, text_level)]
    weights = [w for w, _ in mutators]
    return [rng.choices([m for _, m in mutators], weights)[0]() for _ in range(n)]


# -------------------------------------------------------------------------------------------------
# --set and command options

SET_VALUES_INVALID = ["nan", "inf", "-inf", '"1e3"', '"250"', "true", "[1, 2]", "{}",
                      "1e400"]
SET_VALUES_ANY = ["0", "-1", "2.5", "-0", "1", "1e9", "abc", "", "2026-02-01", "2026-02-30",
                  "false", '"text"', "0.999999"]


def set_cases(rng: random.Random, n: int) -> list[Case]:
    data = _merged(ROOT / "scenarios" / "default.toml")
    leaves = [(p, v) for p, v in _leaves(data)]
    cases = []
    for _ in range(n):
        choice = rng.randrange(10)
        if choice < 6:
            path, value = rng.choice(leaves)
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            if numeric and rng.random() < 0.6:
                text = rng.choice(SET_VALUES_INVALID)
                invalid = True
            else:
                text = rng.choice(SET_VALUES_ANY + SET_VALUES_INVALID)
                invalid = (numeric and text in SET_VALUES_INVALID) or (
                    isinstance(value, bool) and text not in ("true", "false"))
            item = f"{_key_text(path)}={text}"
            cases.append(Case("--set", item, ["check", "default", "--set", item], invalid=invalid,
                              fragment=_last_name(path) if invalid else None,
                              run_if_valid=not invalid and rng.random() < 0.2))
        elif choice < 9:
            item = rng.choice(["=", "=1", "a..b=1", ".support.places=1", "support.places.=1",
                               "assessment.professions.-1.wte=2", "assessment.professions.9.wte=2",
                               "assessment.professions.x.wte=2", "support.nope=1", "nope=1",
                               "support.places", "support.places==3", "simulation.seed.x=1",
                               " = 1", "meta.name.first=1", "support.places=1\x00"])
            invalid = item not in ("support.places==3",)
            cases.append(Case("--set", item, ["check", "default", "--set", item],
                              invalid=invalid))
        else:
            a, b = rng.sample(["support.places=10", "support.places=20", "support.places=10"], 2)
            cases.append(Case("--set", f"{a} and {b}", ["check", "default", "--set", a, "--set", b],
                              invalid=a != b, fragment="twice" if a != b else None))
    return cases


OPTION_CASES: list[tuple[list[str], bool, str | None]] = [
    (["check", "default", "--months", "0"], True, "--months"),
    (["check", "default", "--months", "-3"], True, "--months"),
    (["check", "default", "--months", "601"], True, "--months"),
    (["check", "default", "--months", "2.5"], True, "--months"),
    (["check", "default", "--months", "nan"], True, "--months"),
    (["check", "default", "--replications", "0"], True, "--replications"),
    (["check", "default", "--replications", "100001"], True, "--replications"),
    (["check", "default", "--seed", "-1"], True, "--seed"),
    (["check", "default", "--seed", "x"], True, "--seed"),
    (["check", "default", "--start", "31/02/2023"], True, "--start"),
    (["check", "default", "--start", "2023-02-31"], True, "--start"),
    (["check", "default", "--start", ""], True, "--start"),
    (["check", "default", "--start", "2026-04-01"], False, None),
    (["check", "default", "--months", "3", "--set", "simulation.horizon_months=4"], True, "twice"),
    (["check", "default", "--months", "3", "--set", "simulation.horizon_months=3"], False, None),
    (["check", "no_such_scenario"], True, "not found"),
    (["check", "{dir}"], True, "folder"),
    (["check", "validation/mmc"], False, None),
    (["run", "default", "--workers", "0", "--months", "1"], True, "--workers"),
    (["run", "default", "--executor", "nope"], True, "executor"),
    (["run", "default", "--dask-scheduler", "tcp://x:1", "--executor", "serial"], True, "dask"),
    (["capacity", "default", "--by", "2027-01", "--target", "nan"], True, "--target"),
    (["capacity", "default", "--by", "2027-01", "--target", "0"], True, "--target"),
    (["capacity", "default", "--by", "2027-01", "--target", "101"], True, "--target"),
    (["capacity", "default", "--by", "2027-01", "--max-extra-wte", "inf"], True, "--max-extra-wte"),
    (["capacity", "default", "--by", "2027-01", "--max-extra-wte", "-1"], True, "--max-extra-wte"),
    (["sensitivity", "default", "--metric", "nope"], True, "metric"),
    (["scenarios", "{dir}/nope"], True, "no such folder"),
    (["scenarios"], False, None),
    (["validate", "{dir}/nope.csv", "--extract-date", EXTRACT_DATE], True, "not found"),
    (["validate", "{dir}", "--extract-date", EXTRACT_DATE], True, "folder"),
    (["validate", "{dir}/e.csv", "--extract-date", "2023-02-31"], True, "no such day"),
    (["validate", "{dir}/e.csv", "--extract-date", "31/12/2025"], True, "YYYY-MM-DD"),
    (["validate", "{dir}/e.csv", "--extract-date", EXTRACT_DATE, "--on-error", "x"], True,
     "on-error"),
    (["calibrate", "{dir}/e.csv"], True, "extract-date"),
    (["calibrate", "--monthly", "{dir}/m.csv", "--out", "{dir}/o", "--history-months", "0"], True,
     "--history-months"),
    (["calibrate", "--monthly", "{dir}/m.csv", "--out", "{dir}/o", "--seed", "-5"], True, "--seed"),
    (["calibrate", "--monthly", "{dir}/m.csv", "--out", "{dir}/o", "--months", "0"], True, "--months"),
    (["calibrate", "--monthly", "{dir}/m.csv", "--out", "{dir}/o", "--age-band", "0-17"], True,
     "age_band"),
    (["synth", "default", "--extract-date", EXTRACT_DATE, "--out", "{dir}/x.txt"], True, ".csv"),
    (["synth", "default", "--extract-date", EXTRACT_DATE, "--out", "{dir}"], True, "folder"),
    (["synth", "default", "--extract-date", EXTRACT_DATE, "--history-months", "0",
      "--out", "{dir}/x.csv"], True, "--history-months"),
    (["synth", "default", "--extract-date", EXTRACT_DATE, "--seed", "-1",
      "--out", "{dir}/x.csv"], True, "--seed"),
]


def option_cases(extract: bytes, monthly: bytes) -> list[Case]:
    return [Case("option", " ".join(argv), argv, {"e.csv": extract, "m.csv": monthly},
                 invalid=invalid, fragment=fragment) for argv, invalid, fragment in OPTION_CASES]


# -------------------------------------------------------------------------------------------------
# Extracts and monthly series


def synthetic_extract() -> pd.DataFrame:
    """A small synthetic extract (a few hundred referrals) in the DESIGN.md 4a format."""
    from calibration.synth import synthesise_extract
    from model.scenario import Scenario

    small = Scenario().replace({"backlog.count": 60, "arrivals.referrals_per_month": 25})
    return synthesise_extract(small, EXTRACT_DATE, history_months=12, seed=3)


def synthetic_monthly(rng: np.random.Generator, months: int = 30) -> pd.DataFrame:
    month = pd.period_range("2021-01", periods=months, freq="M")
    new = rng.poisson(200 * 1.01 ** np.arange(months))
    closed = rng.poisson(180, months)
    open_ = 3000 + np.cumsum(new - closed)
    return pd.DataFrame({"month": month.astype(str), "new_referrals": new,
                         "closed_referrals": closed, "open_referrals": open_})


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


CELL_JUNK = ["31/02/2023", "2023-13-01", "nan", "", "inf", "-5", "2099-01-01", "xyz", "1e400",
             "0", "12.5", "ASD", " 01/03/2024 ", "45352", "\u00e9", "NULL", "99999999999"]


def table_cases(rng: random.Random, base: pd.DataFrame, n: int, kind: str) -> list[Case]:
    """Mutations of a table (``kind`` = ``extract`` or ``monthly``) run through the command
    that reads it."""
    from calibration.extract import CODES, DATE_COLUMNS, KNOWN_COLUMNS, REQUIRED_COLUMNS

    if kind == "extract":
        argv = ["validate", "{dir}/t.csv", "--extract-date", EXTRACT_DATE]
        required, known = REQUIRED_COLUMNS, KNOWN_COLUMNS
    else:
        argv = ["calibrate", "--monthly", "{dir}/t.csv", "--out", "{dir}/o", "--overwrite"]
        required = ("month", "new_referrals")
        known = tuple(base.columns)
    cases = []
    for _ in range(n):
        frame = base.copy()
        choice = rng.randrange(12)
        invalid, fragment, name = False, None, "t.csv"
        if choice == 0:
            column = rng.choice(list(frame.columns))
            frame = frame.drop(columns=[column])
            what = f"column {column} dropped"
            invalid, fragment = column in required, column
        elif choice == 1:
            column = rng.choice([c for c in frame.columns if len(c) > 5])
            i = rng.randrange(1, len(column) - 1)
            typo = column[:i] + column[i + 1:]
            frame = frame.rename(columns={column: typo})
            what = f"column {column} misspelt {typo}"
            invalid, fragment = True, typo
        elif choice == 2:
            column = rng.choice(list(frame.columns))
            data = frame.to_csv(index=False)
            header, rest = data.split("\n", 1)
            variant = rng.choice([column, column.upper(), f" {column.title()} "])
            body = f"{header},{variant}\n" + "\n".join(
                f"{line},{line.split(',')[list(frame.columns).index(column)]}" if line else line
                for line in rest.split("\n"))
            cases.append(Case(kind, f"column {column} doubled as {variant!r}", argv,
                              {name: body.encode()}, invalid=True, fragment=column))
            continue
        elif choice == 3:
            frame = frame.iloc[0:0]
            what, invalid, fragment = "header only", True, "no rows"
        elif choice == 4:
            body = rng.choice([b"", b"\n\n", b"   "])
            cases.append(Case(kind, f"empty file {body!r}", argv, {name: body}, invalid=True,
                              fragment="empty"))
            continue
        elif choice == 5:
            delimiter = rng.choice([";", "\t", "|"])
            cases.append(Case(kind, f"delimited by {delimiter!r}", argv,
                              {name: frame.to_csv(index=False, sep=delimiter).encode()},
                              invalid=True, fragment="separated"))
            continue
        elif choice == 6:
            data = _csv(frame)
            at = rng.randrange(len(data))
            cases.append(Case(kind, f"byte 0xff at {at}", argv,
                              {name: data[:at] + b"\xff" + data[at:]}, invalid=True,
                              fragment="UTF-8"))
            continue
        elif choice == 7:
            data = frame.to_csv(index=False).encode("utf-8")
            variant = rng.choice(["crlf", "bom", "cut"])
            if variant == "crlf":
                data = data.replace(b"\n", b"\r\n")
            elif variant == "bom":
                data = b"\xef\xbb\xbf" + data
            else:
                data = data[: rng.randrange(len(data))]
            cases.append(Case(kind, f"file {variant}", argv, {name: data},
                              invalid=variant == "cut" and b"\n" not in data.strip()))
            continue
        else:
            rows = rng.sample(range(len(frame)), k=min(len(frame), rng.choice([1, 1, 2, 5])))
            column = rng.choice(list(frame.columns))
            junk = rng.choice(CELL_JUNK)
            frame = frame.astype(object)
            for r in rows:
                frame.iat[r, list(frame.columns).index(column)] = junk
            what = f"{column} set to {junk!r} on {len(rows)} row(s)"
            if kind == "extract":
                certain = (column in DATE_COLUMNS and junk in ("31/02/2023", "2023-13-01", "xyz",
                                                               "inf", "-5", "2099-01-01"))
                certain |= column in CODES and junk in ("xyz", "inf", "-5", "12.5", "31/02/2023")
                certain |= column == "referral_date" and junk in ("", "nan", "NULL")
            else:
                certain = column != "month" and junk in ("xyz", "inf", "-5", "12.5", "1e400",
                                                         "99999999999", "31/02/2023")
                certain |= column == "month" and junk in ("31/02/2023", "2023-13-01", "xyz", "",
                                                          "inf", "-5", "12.5")
            invalid, fragment = certain, column if certain else None
        cases.append(Case(kind, what, argv, {name: _csv(frame)}, invalid=invalid,
                          fragment=fragment))
    return cases


def monthly_special_cases(base: pd.DataFrame) -> list[Case]:
    """The monthly series classes of issue 14, each once."""
    argv = ["calibrate", "--monthly", "{dir}/t.csv", "--out", "{dir}/o", "--overwrite"]
    zeros = base.assign(new_referrals=0)
    blank = base.assign(new_referrals="")
    huge = base.assign(new_referrals=10**15)
    fraction = base.assign(new_referrals=base["new_referrals"] + 0.5)
    return [
        Case("monthly", "every count 0", argv, {"t.csv": _csv(zeros)}, True, "0 in every month"),
        Case("monthly", "every count blank", argv, {"t.csv": _csv(blank)}, True, "new_referrals"),
        Case("monthly", "huge counts", argv, {"t.csv": _csv(huge)}, True, "new_referrals"),
        Case("monthly", "fractional counts", argv, {"t.csv": _csv(fraction)}, True,
             "whole number"),
        Case("monthly", "a month missing", argv, {"t.csv": _csv(base.drop(index=4))}, True,
             "missing"),
        Case("monthly", "a month twice", argv,
             {"t.csv": _csv(pd.concat([base, base.iloc[[3]]]))}, True, "twice"),
    ]


def all_cases(n_scenario: int, n_set: int, n_extract: int, n_monthly: int, seed: int = 14
              ) -> list[Case]:
    """Every case of one fuzz run, the same for the same counts and seed."""
    rng = random.Random(seed)
    extract = synthetic_extract()
    monthly = synthetic_monthly(np.random.default_rng(seed))
    cases = (scenario_cases(rng, n_scenario) + set_cases(rng, n_set)
             + option_cases(_csv(extract), _csv(monthly))
             + table_cases(rng, extract, n_extract, "extract")
             + table_cases(rng, monthly, n_monthly, "monthly")
             + monthly_special_cases(monthly))
    return cases


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


__all__ = ["Case", "Outcome", "all_cases", "run_case", "run_cli"]
