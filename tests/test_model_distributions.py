"""Distributions sample what their parameters say: mean and sd (where given) and the shape."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter
from scipy import stats

from model.distributions import Distribution

ADAPTER: TypeAdapter = TypeAdapter(Distribution)
N = 200_000


def _dist(spec: dict) -> object:
    return ADAPTER.validate_python(spec)


def _sample(spec: dict, seed: int = 11) -> np.ndarray:
    return _dist(spec).sample(np.random.default_rng(seed), N)  # type: ignore[attr-defined]


BY_MEAN_AND_SD = [
    {"kind": "lognormal", "mean": 11.5, "sd": 7.0},
    {"kind": "lognormal", "mean": 2.0, "sd": 0.2},
    {"kind": "gamma", "mean": 8.0, "sd": 4.0},
    {"kind": "gamma", "mean": 1.75, "sd": 3.0},
    {"kind": "weibull", "mean": 10.0, "sd": 3.0},
    {"kind": "weibull", "mean": 5.0, "sd": 9.0},
]


@pytest.mark.parametrize("spec", BY_MEAN_AND_SD, ids=lambda s: f"{s['kind']}-{s['mean']}-{s['sd']}")
def test_mean_and_sd_match_the_parameters(spec: dict) -> None:
    x = _sample(spec)
    mean, sd = spec["mean"], spec["sd"]
    # sample mean within 4 standard errors; sd within 3% (heavy tails make its error larger)
    assert abs(x.mean() - mean) < 4 * sd / math.sqrt(N)
    assert x.std() == pytest.approx(sd, rel=0.03)
    assert (x >= 0).all()
    assert _dist(spec).mean_value == mean  # type: ignore[attr-defined]


@pytest.mark.parametrize("spec,reference", [
    ({"kind": "lognormal", "mean": 11.5, "sd": 7.0},
     stats.lognorm(s=math.sqrt(math.log1p((7 / 11.5) ** 2)),
                   scale=11.5 / math.sqrt(1 + (7 / 11.5) ** 2))),
    ({"kind": "gamma", "mean": 8.0, "sd": 4.0}, stats.gamma(a=4.0, scale=2.0)),
    ({"kind": "exponential", "mean": 3.0}, stats.expon(scale=3.0)),
    ({"kind": "uniform", "low": 2.0, "high": 5.0}, stats.uniform(loc=2.0, scale=3.0)),
])
def test_shape_matches_the_textbook_distribution(spec: dict, reference: object) -> None:
    x = _sample(spec)[:20_000]
    assert stats.kstest(x, reference.cdf).pvalue > 0.001  # type: ignore[attr-defined]


def test_weibull_shape_solves_the_coefficient_of_variation() -> None:
    # shape 2 has CV sqrt(4/pi - 1); mean and sd from scipy's Weibull with shape 2, scale 3
    reference = stats.weibull_min(c=2.0, scale=3.0)
    spec = {"kind": "weibull", "mean": float(reference.mean()), "sd": float(reference.std())}
    x = _sample(spec)[:20_000]
    assert stats.kstest(x, reference.cdf).pvalue > 0.001


def test_other_kinds() -> None:
    assert (_sample({"kind": "fixed", "value": 6.0}) == 6.0).all()
    exp = _sample({"kind": "exponential", "mean": 3.0})
    assert abs(exp.mean() - 3.0) < 4 * 3.0 / math.sqrt(N) and exp.std() == pytest.approx(3.0, rel=0.02)
    uni = _sample({"kind": "uniform", "low": 2.0, "high": 5.0})
    assert uni.min() >= 2.0 and uni.max() <= 5.0
    assert uni.std() == pytest.approx(3.0 / math.sqrt(12), rel=0.01)
    emp = _sample({"kind": "empirical", "values": [4, 1, 9], "weights": [1, 2, 1]})
    assert set(np.unique(emp)) == {1.0, 4.0, 9.0}
    shares = [np.mean(emp == v) for v in (1.0, 4.0, 9.0)]
    assert shares == pytest.approx([0.5, 0.25, 0.25], abs=0.005)
    hist = {"kind": "histogram", "edges": [0, 13, 52, 104], "weights": [1, 2, 1]}
    h = _sample(hist)
    counts = np.histogram(h, bins=[0, 13, 52, 104])[0] / N
    assert counts == pytest.approx([0.25, 0.5, 0.25], abs=0.005)
    # uniform within a bin
    low_bin = h[h < 13]
    assert low_bin.mean() == pytest.approx(6.5, abs=0.1)
    assert h.mean() == pytest.approx(_dist(hist).mean_value, rel=0.01)  # type: ignore[attr-defined]


@pytest.mark.parametrize("spec", [*BY_MEAN_AND_SD, {"kind": "exponential", "mean": 2.0},
                                  {"kind": "histogram", "edges": [0, 1, 5], "weights": [1, 3]}])
def test_inverse_cdf_is_monotone_so_common_random_numbers_pair_up(spec: dict) -> None:
    u = np.linspace(0.0, 0.999999, 5001)
    values = _dist(spec).ppf(u)  # type: ignore[attr-defined]
    assert np.all(np.diff(values) >= 0) and np.isfinite(values).all()


@pytest.mark.parametrize("spec,fragment", [
    ({"kind": "gamma", "mean": 8.0, "sd": 0.0}, "sd"),
    ({"kind": "uniform", "low": 5.0, "high": 2.0}, "high"),
    ({"kind": "histogram", "edges": [0, 1], "weights": [1, 2]}, "one weight per bin"),
    ({"kind": "empirical", "values": [1, 2], "weights": [1]}, "weights"),
])
def test_bad_parameters_are_rejected(spec: dict, fragment: str) -> None:
    with pytest.raises(Exception, match=fragment):
        _dist(spec)


ALL_KINDS = [*BY_MEAN_AND_SD, {"kind": "exponential", "mean": 2.0}, {"kind": "fixed", "value": 3.0},
             {"kind": "uniform", "low": 2.0, "high": 5.0},
             {"kind": "empirical", "values": [4, 1, 9], "weights": [1, 2, 1]},
             {"kind": "histogram", "edges": [0, 13, 52, 104], "weights": [1, 2, 1]}]


@pytest.mark.parametrize("spec", ALL_KINDS, ids=lambda s: s["kind"])
def test_durations_worked_out_on_demand_are_those_drawn_at_once(spec: dict) -> None:
    """The engine computes a duration's inverse CDF only for the children who read one, a block
    at a time: every value must be the one the whole array at once gives, float for float,
    whatever order the children are read in, after its rows are cut or joined to more."""
    from model.pathway import _OnDemand

    dist = _dist(spec)
    rng = np.random.default_rng(5)
    u, more = rng.random(3000), rng.random(700)
    expected = 7.0 * dist.ppf(np.concatenate([u, more]))  # type: ignore[attr-defined]
    lazy = _OnDemand(dist, u, 7.0)  # type: ignore[arg-type]
    # a session's starts worked out at once, some of them twice, some already read
    session = rng.permutation(3000)[:40].tolist()
    lazy[session[0]]
    lazy.prepare(session + session[:5])
    assert lazy.ready.sum() <= 256 + 40  # only the children asked for (and one block read)
    for i in session:
        assert lazy.values[i] == expected[i]
    for i in rng.permutation(3000)[:500].tolist():
        assert lazy[i] == expected[i]
    cut = lazy[:2900]  # the rows kept, a block cut short among them
    assert len(cut) == 2900
    joined = cut.concatenate(_OnDemand(dist, np.concatenate([u[2900:], more]), 7.0))  # type: ignore[arg-type]
    assert len(joined) == len(expected)
    for i in rng.permutation(len(expected))[:800].tolist():
        assert joined[i] == expected[i]
    np.testing.assert_array_equal(joined.all(), expected)
