"""Back-testing: calibrate on the data as it was known months ago, project, compare with what
happened, next to naive baselines.

The extract is cut at ``extract_date - holdout_months`` (:meth:`PathwayTable.censored_at`: later
referrals dropped, later dates blanked, so children then waiting are censored there exactly as
in a real extract pulled that day). The calibrated model projects the held-out months from the
children waiting at the cut; the projections are compared month by month with the full extract.

Baselines (what an analyst would do without the model):

* **seasonal naive**: each month as the same month a year earlier;
* **linear trend**: a straight line through the last 24 months before the cut;
* **flow balance**: the list grows by the average monthly referrals minus removals (assessments
  and discharges) of the last 12 months before the cut.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from model.executors import get_executor
from model.uncertainty import simulate_replication as simulate
from model.scenario import Scenario

from .calibrate import (Calibration, CalibrationOptions, calibrate_extract, last_complete_month,
                        opened_executor)
from .extract import PathwayTable
from .observed import month_range, monthly_flows, wait_observations
from .synth import result_to_extract

METHODS = ("model", "seasonal_naive", "linear_trend", "flow_balance")
METRICS = ("waiting_end", "referrals", "assessments_started")
METRIC_LABELS = {"waiting_end": "children waiting at the month end", "referrals": "referrals",
                 "assessments_started": "assessments started"}
METHOD_LABELS = {"model": "the calibrated model", "seasonal_naive": "same month last year",
                 "linear_trend": "straight-line trend", "flow_balance": "flow balance"}
MEASURES = {"waiting_end": ("end_error_pct", "error at the end of the held-out months"),
            "referrals": ("mape_pct", "mean absolute error a month"),
            "assessments_started": ("total_error_pct", "error of the held-out total")}
"""The error that matters for each metric when the model is compared with the simple methods:
where the list ends up; referrals month by month; assessments in total (month by month they
mostly measure how many weekly clinic sessions fall in a month)."""
"""Compared month by month: the list at the month end, referrals, and assessments started (the
capacity: a projection whose capacity is 10% off shows it here even where the list is long)."""


@dataclass
class Backtest:
    """Month-by-month comparison and error summary."""

    comparison: pd.DataFrame
    """``month, metric, actual, model, model_p5, model_p95, seasonal_naive, linear_trend,
    flow_balance``."""
    errors: pd.DataFrame
    """``metric, method, mape_pct, end_error_pct, total_error_pct``: the mean absolute
    percentage error over the months, the signed error at the last month, and the signed error
    of the total over the held-out months (for flows: referrals, assessments)."""
    waits: pd.DataFrame
    """Median wait (weeks) of assessments started in the held-out months: actual, model, and the
    last year's median before the cut (persistence)."""
    calibration: Calibration
    cut: pd.Timestamp
    referral_forecast: pd.DataFrame | None = None
    """The calibration's referral forecast for the held-out months (what the scenario expects,
    :meth:`calibration.fitters.ArrivalsFitter.forecast`): ``month, actual, mean, low, high,
    covered``, with a 90% prediction interval for each month's count."""

    @property
    def referral_coverage(self) -> float:
        """Share of held-out months whose referrals fell inside the 90% prediction interval."""
        if self.referral_forecast is None:
            return float("nan")
        return float(self.referral_forecast["covered"].mean())

    def error(self, metric: str, method: str, kind: str = "mape_pct") -> float:
        row = self.errors[(self.errors["metric"] == metric) & (self.errors["method"] == method)]
        return float(row[kind].iloc[0])

    def versus_simple(self) -> pd.DataFrame:
        """For each metric, the model's error against the best simple method's, on the measure
        that matters for it (:data:`MEASURES`): ``metric, measure, model, best_method, best,
        worse_by`` (percentage points; > 0: the model is worse)."""
        rows = []
        for metric, (kind, label) in MEASURES.items():
            model = abs(self.error(metric, "model", kind))
            simple = {m: abs(self.error(metric, m, kind)) for m in METHODS[1:]}
            best = min(simple, key=lambda m: simple[m])
            rows.append({"metric": metric, "measure": label, "model": model,
                         "best_method": best, "best": simple[best],
                         "worse_by": model - simple[best]})
        return pd.DataFrame(rows)

    def verdict(self) -> str:
        """One line: whether the model beat the simple methods (the report's first line)."""
        table = self.versus_simple()
        worse = table[table["worse_by"] > 0]
        if worse.empty:
            return ("The model did as well as or better than every simple method on "
                    + ", ".join(f"{METRIC_LABELS[m]} ({MEASURES[m][1]} {v:.1f}%)"
                                for m, v in zip(table["metric"], table["model"])) + ".")
        return ("WARNING: the model did worse than a simple method on "
                + "; ".join(f"{METRIC_LABELS[r.metric]}: {METHOD_LABELS[r.best_method]} "
                            f"{r.best:.1f}% against the model's {r.model:.1f}% ({r.measure})"
                            for r in worse.itertuples())
                + ". Use the simple method's number for that, or find why the model misses it.")


def _baselines(history: pd.Series, horizon: int, flows: pd.DataFrame | None = None,
               level: bool = True) -> dict[str, np.ndarray]:
    """Seasonal naive, linear trend and (for the list) flow balance projections."""
    y = history.to_numpy(dtype=float)
    seasonal = np.array([y[len(y) - 12 + (h % 12)] if len(y) >= 12 else y[-1]
                         for h in range(horizon)])
    recent = y[-24:]
    slope, intercept = np.polyfit(np.arange(len(recent)), recent, 1)
    trend = intercept + slope * (len(recent) + np.arange(horizon))
    out = {"seasonal_naive": seasonal, "linear_trend": trend}
    if flows is not None and level:
        last = flows.iloc[-12:]
        net = float((last["referrals"] - last["assessments_started"] - last["discharges"]).mean())
        out["flow_balance"] = y[-1] + net * (1 + np.arange(horizon))
    else:
        out["flow_balance"] = np.full(horizon, float(np.mean(y[-12:])))
    return out


def run_backtest(table: PathwayTable, holdout_months: int = 12,
                 options: CalibrationOptions = CalibrationOptions(),
                 base: Scenario | None = None, replications: int = 10) -> Backtest:
    """Calibrate on the extract cut ``holdout_months`` before its date and project to it.

    The calibration's tuning and the projection's replications run on ``options.executor``,
    opened once for both. Runs in memory: no file is read or written."""
    with opened_executor(options.executor) as executor:
        return _run_backtest(table, holdout_months, replace(options, executor=executor), base,
                             replications)


def _project(task: tuple[Scenario, int, int, pd.PeriodIndex]) -> tuple[np.ndarray, float]:
    """One projection replication through the extract lens (module level, so it pickles):
    the monthly ``METRICS`` of the held-out months and the median wait started in them."""
    scenario, replication, seed, held = task
    view = result_to_extract(simulate(scenario, replication, seed), ids=False, as_text=False)
    return monthly_flows(view, held)[list(METRICS)].to_numpy(), _median_wait(view, held)


def _run_backtest(table: PathwayTable, holdout_months: int, options: CalibrationOptions,
                  base: Scenario | None, replications: int) -> Backtest:
    last = last_complete_month(table.extract_date)
    held = pd.period_range(last - holdout_months + 1, last, freq="M")
    cut = held[0].to_timestamp(how="start") - pd.Timedelta(days=1)
    past = table.censored_at(cut)
    calibration = calibrate_extract(past, options, base)
    actual = monthly_flows(table.data, held)
    before = monthly_flows(table.data, month_range(table.data["referral_date"].min(), cut))
    before = before.iloc[-36:]

    # the calibrated scenario holds the children waiting at the cut itself: nothing on disk.
    # It is projected from where ``calibrate`` starts it (the same rule, projection_start):
    # the first held-out month, so the validated path is the one ``calibrate`` ships
    scenario = calibration.scenario.replace({"simulation.horizon_months": holdout_months})
    if pd.Timestamp(scenario.simulation.start_date) != held[0].to_timestamp(how="start"):
        raise AssertionError("the back-test must project from the calibrated start")
    executor = get_executor(options.executor)  # already open: see run_backtest
    projections = executor.map(_project, [(scenario, r, options.seed, held)
                                          for r in range(replications)])
    waits = [wait for _, wait in projections]
    sims = np.array([flows for flows, _ in projections])  # replication x month x metric
    rows = []
    for k, metric in enumerate(METRICS):
        base_values = _baselines(before[metric], holdout_months, before,
                                 level=metric == "waiting_end")
        for h, month in enumerate(held.astype(str)):
            rows.append({"month": month, "metric": metric, "actual": actual[metric].iloc[h],
                         "model": float(np.median(sims[:, h, k])),
                         "model_p5": float(np.percentile(sims[:, h, k], 5)),
                         "model_p95": float(np.percentile(sims[:, h, k], 95)),
                         **{name: float(v[h]) for name, v in base_values.items()}})
    comparison = pd.DataFrame(rows)
    errors = []
    for metric in METRICS:
        sub = comparison[comparison["metric"] == metric]
        actual_v = sub["actual"].to_numpy()
        for method in METHODS:
            pred = sub[method].to_numpy()
            rel = (pred - actual_v) / np.maximum(actual_v, 1.0)
            errors.append({"metric": metric, "method": method,
                           "mape_pct": float(np.mean(np.abs(rel)) * 100),
                           "end_error_pct": float(rel[-1] * 100),
                           "total_error_pct": float((pred.sum() - actual_v.sum())
                                                    / max(actual_v.sum(), 1.0) * 100)})
    wait_rows = {"actual": _median_wait(table.data, held),
                 "model": float(np.nanmedian(waits)),
                 "last_year_before_cut": _median_wait(table.data, held - holdout_months)}
    forecast = calibration.fitters["arrivals"].forecast(held, level=0.9)
    forecast = forecast.assign(actual=actual["referrals"].to_numpy(dtype=float))
    forecast["covered"] = (forecast["low"] <= forecast["actual"]) & (forecast["actual"]
                                                                       <= forecast["high"])
    forecast = forecast.rename_axis("month").reset_index()
    forecast["month"] = forecast["month"].astype(str)
    return Backtest(comparison, pd.DataFrame(errors),
                    pd.DataFrame([wait_rows]), calibration, cut,
                    forecast[["month", "actual", "mean", "low", "high", "covered"]])


def _median_wait(data: pd.DataFrame, months: pd.PeriodIndex) -> float:
    """Median wait (weeks) of the assessments that started in ``months``."""
    if "assessment_start_date" not in data:
        return float("nan")
    start = pd.to_datetime(data["assessment_start_date"])
    chosen = start.dt.to_period("M").isin(months)
    waits = (start[chosen] - pd.to_datetime(data["referral_date"])[chosen]) / pd.Timedelta(days=7)
    return float(waits.median()) if len(waits) else float("nan")


BACKTEST_FILES = ("backtest.csv", "backtest_errors.csv", "backtest.png", "report.md",
                  "quarantine.csv")
"""Every file ``ndpath backtest`` writes: what its ``--overwrite`` removes before writing."""


def write_backtest(backtest: Backtest, folder: Path) -> None:
    """backtest.csv, backtest_errors.csv, backtest.png and report.md in ``folder``."""
    from .report import _fmt, _markdown_table

    backtest.comparison.to_csv(folder / "backtest.csv", index=False)
    backtest.errors.to_csv(folder / "backtest_errors.csv", index=False)
    fig = Figure(figsize=(15, 3.8))
    axes = fig.subplots(1, len(METRICS))
    for ax, metric, title in zip(axes, METRICS, ("Children waiting (month end)", "Referrals",
                                                 "Assessments started")):
        sub = backtest.comparison[backtest.comparison["metric"] == metric]
        x = pd.PeriodIndex(sub["month"], freq="M").to_timestamp()
        ax.fill_between(x, sub["model_p5"], sub["model_p95"], color="#d62728", alpha=0.2)
        ax.plot(x, sub["model"], color="#d62728", lw=2, label="model (median, 5-95%)")
        for method, style in (("seasonal_naive", ":"), ("linear_trend", "--"),
                              ("flow_balance", "-.")):
            ax.plot(x, sub[method], style, color="#555", lw=1, label=method.replace("_", " "))
        ax.plot(x, sub["actual"], "o-", color="black", ms=3, lw=1.5, label="what happened")
        ax.set_title(title)
        ax.set_ylim(bottom=0)
    axes[0].legend(frameon=False, fontsize=7)
    fig.tight_layout()
    fig.savefig(folder / "backtest.png", dpi=110)
    rows = [(r["metric"], r["method"], f"{r['mape_pct']:.1f}%", f"{r['end_error_pct']:+.1f}%",
             f"{r['total_error_pct']:+.1f}%") for _, r in backtest.errors.iterrows()]
    w = backtest.waits.iloc[0]
    verdict = backtest.verdict()
    text = ["# Back-test", "", f"**{verdict}**" if verdict.startswith("WARNING") else verdict, ""]
    text += backtest.calibration.headline() + [""]
    text += [
            f"Calibrated on the extract as known on {backtest.cut.date()} (later referrals dropped, "
            "later dates blanked), projected over the held-out months and compared with what "
            "happened.", "",
            _markdown_table(("metric", "method", "mean abs. error", "error at the end",
                             "error of the total"), rows), "",
            "Median wait of assessments started in the held-out months (weeks): actual "
            f"{_fmt(w['actual'])}, model {_fmt(w['model'])}, the year before the cut "
            f"{_fmt(w['last_year_before_cut'])}.", ""]
    if backtest.referral_forecast is not None:
        f = backtest.referral_forecast
        text += [f"Referral forecast (what the calibrated scenario expects): "
                 f"{int(f['covered'].sum())} of {len(f)} held-out months inside its 90% "
                 "prediction interval.", ""]
    text += ["![back-test](backtest.png)", ""]
    (folder / "report.md").write_text("\n".join(text))


__all__ = ["Backtest", "run_backtest", "write_backtest", "BACKTEST_FILES", "METHODS", "METRICS", "MEASURES"]
