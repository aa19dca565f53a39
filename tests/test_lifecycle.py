"""Life-cycle fit and phase table: synthetic curves with known parameters, hand cases."""

import json

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import LifecycleInputError, PatNavError
from pipeline import lifecycle as lc
from pipeline.lifecycle import (
    fit_lifecycle,
    gompertz,
    logistic,
    phase_table,
    stage_from_share,
)


def _annual(cumulative):
    return np.diff(cumulative, prepend=0.0)


def _noisy(counts, seed=0, sd=0.05):
    rng = np.random.default_rng(seed)
    return np.round(counts * rng.normal(1.0, sd, len(counts)))


# ---------------------------------------------------------------- fit_lifecycle


def test_logistic_parameters_recovered_exactly_without_noise():
    years = np.arange(1995, 2021)
    fit = fit_lifecycle(years, _annual(logistic(years, 5000.0, 0.45, 2013.0)))
    assert fit.determined and fit.model == "logistic"
    assert fit.params["K"] == pytest.approx(5000.0, rel=1e-4)
    assert fit.params["r"] == pytest.approx(0.45, rel=1e-4)
    assert fit.params["t0"] == pytest.approx(2013.0, abs=1e-3)
    assert fit.inflection_year == pytest.approx(2013.0, abs=1e-3)
    assert fit.r2 == pytest.approx(1.0, abs=1e-9)
    assert fit.saturation == pytest.approx(float(logistic(2020, 1.0, 0.45, 2013.0)), rel=1e-4)
    assert fit.notes == ()


def test_logistic_parameters_recovered_from_noisy_counts():
    years = np.arange(1995, 2024)
    counts = _noisy(_annual(logistic(years, 5000.0, 0.45, 2013.0)))
    fit = fit_lifecycle(years, counts)
    assert fit.params["K"] == pytest.approx(5000.0, rel=0.03)
    assert fit.params["r"] == pytest.approx(0.45, rel=0.10)
    assert fit.params["t0"] == pytest.approx(2013.0, abs=0.5)
    assert fit.r2 > 0.99
    assert fit.stage == "saturation/decline"
    assert np.all(np.isfinite(list(fit.param_se.values())))


def test_gompertz_parameters_recovered():
    years = np.arange(1995, 2024)
    truth = gompertz(years - 1995, 5000.0, 30.0, 0.25)
    exact = fit_lifecycle(years, _annual(truth), "gompertz")
    assert exact.params["K"] == pytest.approx(5000.0, rel=1e-4)
    assert exact.params["b"] == pytest.approx(30.0, rel=1e-3)
    assert exact.params["c"] == pytest.approx(0.25, rel=1e-4)
    assert exact.params["origin"] == 1995
    # inflection of the Gompertz curve at ln(b) / c after the origin
    assert exact.inflection_year == pytest.approx(1995 + np.log(30.0) / 0.25, abs=1e-2)
    np.testing.assert_allclose(exact.fitted, truth, rtol=1e-4)
    np.testing.assert_allclose(exact.predict(years), truth, rtol=1e-4)

    noisy = fit_lifecycle(years, _noisy(_annual(truth), seed=1), "gompertz")
    assert noisy.params["K"] == pytest.approx(5000.0, rel=0.05)
    assert noisy.params["c"] == pytest.approx(0.25, rel=0.10)
    assert noisy.inflection_year == pytest.approx(1995 + np.log(30.0) / 0.25, abs=1.0)


@pytest.mark.parametrize(
    ("end", "stage", "zh"),
    [
        (2010, "emerging", "萌芽期"),  # share 0.076
        (2013, "growth", "成长期"),  # share 0.269
        (2017, "maturity", "成熟期"),  # share 0.731
        (2022, "saturation/decline", "饱和/衰退期"),  # share 0.971
    ],
)
def test_stage_of_a_logistic_observed_up_to_a_year(end, stage, zh):
    years = np.arange(2000, end + 1)
    fit = fit_lifecycle(years, _annual(logistic(years, 1000.0, 0.5, 2015.0)))
    assert (fit.stage, fit.stage_zh) == (stage, zh)
    assert fit.saturation == pytest.approx(1 / (1 + np.exp(-0.5 * (end - 2015))), rel=1e-3)


def test_stage_cut_points_on_hand_cases():
    assert lc.STAGE_CUTS == (0.10, 0.50, 0.90)
    cases = {
        0.0: "emerging",
        0.0999: "emerging",
        0.10: "growth",
        0.4999: "growth",
        0.50: "maturity",
        0.8999: "maturity",
        0.90: "saturation/decline",
        1.0: "saturation/decline",
    }
    assert {s: stage_from_share(s) for s in cases} == cases
    assert stage_from_share(float("nan")) == "undetermined"
    assert stage_from_share(-0.1) == "undetermined"


@pytest.mark.parametrize("model", lc.MODELS)
def test_fewer_than_five_years_is_undetermined_not_an_error(model):
    fit = fit_lifecycle([2019, 2020, 2021, 2022], [1, 3, 6, 9], model)
    assert fit.stage == "undetermined" and fit.stage_zh == "无法判定"
    assert fit.reason == "too few years: 4 < 5"
    assert not fit.determined
    assert fit.years == (2019, 2020, 2021, 2022)
    assert fit.cumulative == (1.0, 4.0, 10.0, 19.0)
    assert np.isnan(fit.predict([2020])).all()


def test_empty_and_zero_inputs_are_undetermined():
    assert fit_lifecycle([], []).reason == "too few years: 0 < 5"
    zero = fit_lifecycle(range(2010, 2020), [0] * 10)
    assert zero.stage == "undetermined" and zero.reason == "no filings"


def test_no_convergence_is_undetermined(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("Optimal parameters not found")

    monkeypatch.setattr(lc, "curve_fit", fail)
    years = np.arange(2000, 2015)
    fit = fit_lifecycle(years, _annual(logistic(years, 1000.0, 0.5, 2008.0)))
    assert fit.stage == "undetermined"
    assert "did not converge" in fit.reason


def test_gaps_are_years_without_filings():
    fit = fit_lifecycle([2000, 2001, 2003, 2004, 2006], [1, 2, 5, 8, 4])
    assert fit.years == (2000, 2001, 2002, 2003, 2004, 2005, 2006)
    assert fit.cumulative == (1.0, 3.0, 3.0, 8.0, 16.0, 16.0, 20.0)


def test_steady_filing_rate_is_flagged():
    fit = fit_lifecycle(range(2010, 2020), [5] * 10)
    assert any("straight line" in note for note in fit.notes)


def test_fit_is_deterministic_and_serialisable():
    years = np.arange(1995, 2024)
    counts = _noisy(_annual(logistic(years, 800.0, 0.3, 2015.0)), seed=3)
    a, b = fit_lifecycle(years, counts), fit_lifecycle(years, counts)
    assert a == b
    data = json.loads(json.dumps(a.to_dict()))
    assert data["stage"] == a.stage and data["years"][0] == 1995


@pytest.mark.parametrize(
    ("years", "counts", "model", "match"),
    [
        ([2000, 2001], [1], "logistic", "differ in length"),
        ([2000, 2000, 2001], [1, 2, 3], "logistic", "duplicated"),
        ([2000, 2001], [1, -2], "logistic", "non-negative"),
        ([2000, 2001], [1, float("nan")], "logistic", "non-negative"),
        ([2000.5, 2001], [1, 2], "logistic", "whole years"),
        ([2000, 2001], [1, 2], "weibull", "model must be"),
    ],
)
def test_bad_input_raises_a_named_error(years, counts, model, match):
    with pytest.raises(LifecycleInputError, match=match) as info:
        fit_lifecycle(years, counts, model)
    assert isinstance(info.value, PatNavError) and isinstance(info.value, ValueError)


# ---------------------------------------------------------------- phase_table


def test_phase_classification_on_a_hand_made_six_year_table():
    table = phase_table(
        [2018, 2019, 2020, 2021, 2022, 2023],
        [10, 20, 30, 20, 15, 15],  # applications
        [5, 10, 8, 6, 9, 9],  # applicants
    )
    assert table["year"].tolist() == [2018, 2019, 2020, 2021, 2022, 2023]
    assert table["phase"].tolist() == ["start", "growth", "maturity", "decline", "recovery", "stable"]
    assert table["phase_zh"].tolist() == ["起点", "成长期", "成熟期", "衰退期", "复苏期", "平稳期"]
    assert table["phase_en"].tolist() == [
        "start", "growth", "maturity/concentration", "decline", "recovery/renewal", "stable",
    ]
    assert table["d_applications"].tolist()[1:] == [10, 10, -10, -5, 0]
    assert table["d_applicants"].tolist()[1:] == [5, -2, -2, 3, 0]
    assert np.isnan(table.loc[0, "d_applications"])
    assert table["label"].tolist() == ["2018", "2019", "2020", "2021", "2022", "2023"]


def test_flat_within_tolerance_and_mixed_cases():
    # apps +2 % (flat), applicants up -> growth; apps flat, applicants down -> maturity;
    # apps down, applicants flat -> decline
    table = phase_table([1, 2, 3, 4], [100, 102, 101, 80], [10, 20, 15, 15])
    assert table["phase"].tolist() == ["start", "growth", "maturity", "decline"]
    strict = phase_table([1, 2], [100, 102], [10, 10], tol=0.0)
    assert strict["phase"].tolist() == ["start", "maturity"]


def test_small_numbers_before_take_off_are_emerging():
    table = phase_table(range(2000, 2007), [1, 2, 1, 3, 20, 40, 60], [1, 1, 1, 2, 8, 15, 20])
    # 10 % of the peak (60) is 6: the first four years precede the take-off
    assert table["phase"].tolist() == ["emerging"] * 4 + ["growth"] * 3
    assert table["phase_zh"].iloc[0] == "萌芽期"


def test_periods_average_the_years_and_end_with_the_last_year():
    table = phase_table(range(2018, 2023), [10, 20, 30, 40, 20], [2, 4, 6, 6, 2], period=2)
    assert table["label"].tolist() == ["2018", "2019–2020", "2021–2022"]
    assert table[["start", "end"]].values.tolist() == [[2018, 2018], [2019, 2020], [2021, 2022]]
    assert table["applications"].tolist() == [10.0, 25.0, 30.0]
    assert table["applicants"].tolist() == [2.0, 5.0, 4.0]
    assert table["phase"].tolist() == ["start", "growth", "maturity"]


def test_missing_years_inside_the_range_count_as_zero():
    table = phase_table([2010, 2012], [5, 5], [2, 2])
    assert table["year"].tolist() == [2010, 2011, 2012]
    assert table["applications"].tolist() == [5, 0, 5]


def test_phase_table_empty_and_bad_input():
    empty = phase_table([], [], [])
    assert empty.empty and "phase_zh" in empty.columns
    with pytest.raises(LifecycleInputError, match="differ in length"):
        phase_table([2000, 2001], [1, 2], [1])
    with pytest.raises(LifecycleInputError, match="period"):
        phase_table([2000, 2001], [1, 2], [1, 2], period=0)
    assert isinstance(phase_table([2000], [3], [1]), pd.DataFrame)
