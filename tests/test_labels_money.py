"""Money as every table, card, chart and sentence writes it (model.labels.fmt_money)."""

from __future__ import annotations

import math

import pytest

from model.labels import fmt_change, fmt_money


@pytest.mark.parametrize("value, unsigned, signed", [
    (849_912, "£850k", "+£850k"),
    (-849_912, "-£850k", "-£850k"),
    (1_399_721, "£1.40m", "+£1.40m"),
    (12_345_678, "£12.3m", "+£12.3m"),
    (123_456_789, "£123m", "+£123m"),
    (2_500_000_000, "£2.50bn", "+£2.50bn"),
    (12_345, "£12.3k", "+£12.3k"),
    (9_996, "£10.0k", "+£10.0k"),  # rounded first, then named: never "£9,996"
    (999_600, "£1.00m", "+£1.00m"),  # never "£1,000k"
    (2_346, "£2,350", "+£2,350"),
    (600, "£600", "+£600"),
    (47.6, "£48", "+£48"),
    (0.0, "£0", "£0"),  # zero has no sign
    (-0.3, "£0", "£0"),
])
def test_money_has_three_significant_figures(value: float, unsigned: str, signed: str) -> None:
    assert fmt_money(value) == unsigned
    assert fmt_money(value, signed=True) == signed


def test_money_undefined_is_a_dash_and_a_typed_price_is_exact() -> None:
    assert fmt_money(math.nan) == "-" and fmt_money(None) == "-"
    assert fmt_money(849_912, exact=True) == "£849,912"
    assert fmt_money(-2_345, signed=True, exact=True) == "-£2,345"


def test_a_change_in_cost_is_money() -> None:
    assert fmt_change("cost_total", 849_912) == "+£850k"
    assert fmt_change("cost_per_assessment", -123.4) == "-£123"


def test_the_command_line_writes_money_as_the_app_does() -> None:
    from ndpath.cli import _fmt_metric, _fmt_signed

    assert _fmt_metric("cost_total", 1_399_721) == "£1.40m"
    assert _fmt_signed("cost_total", 849_912) == "+£850k"
    assert _fmt_signed("cost_total", -849_912) == "-£850k"
    assert _fmt_metric("waiting_list_end", 1_234.0) == "1,234"  # a count is left as it was
