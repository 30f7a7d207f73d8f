"""A blend of the networks' forecast with a baseline, weighted on validation.

On short seasonal series the networks can validate ahead of seasonal naive and still
forecast worse than it, or validate behind it: their errors and the baseline's are far
from perfectly correlated, so a mix of the two is often better than either (the M4
winners' combinations). After training, the forecasts of the validation windows are mixed
with each baseline (naive, seasonal naive, damped-trend smoothing: `smoothing`) at the
weights `WEIGHTS`; the mix with the lowest validation MASE is kept when it beats the
networks alone by `MIN_GAIN` or more, else nothing changes. Where validation is too short
to choose by (`MIN_EVIDENCE`), the networks, damped-trend smoothing and seasonal naive with
drift are mixed at equal weights instead.

Measured on the real-world suite (benchmarks/README.md, "Blend with a baseline" and
"Damped-trend smoothing"): naive and seasonal naive took the monthly electricity series
from 1.173 to 1.031 and the monthly wine sales from 1.262 to 1.021 (MASE ratio to the
better naive on the test origins); damped-trend smoothing then took four short series'
geometric mean from 0.993 to 0.899 (the wine sales, though, from 1.021 to 1.060); seasonal
naive with drift as a third member kept that (0.899) and took 23 short M4 Hourly series
from 1.145 to 0.925 and the CO2 sample's error down by a sixth; deciding the smoothing's
season on the training rows (`smoothing.seasonal_rows`) took the wool from 1.025 to 0.991
and 25 short monthly employment series from 0.627 to 0.494. ETTh1, M4 Hourly and the
suite's large cases chose no blend. Models that read covariates are left alone: on
EPF's prices the blend validated 4.6% better and tested 6% worse (MAE 5.684 to 6.028), a
rule drawn from that one case.

The blend is applied where every forecast is made (`inputs.run_model` and
`run_ensemble`), on the scaled inputs: the baselines are read from the context rows the
networks read (or the last 3 seasons, where the networks' lookback holds fewer:
`statistical_rows`; the windows then hold those rows and the networks read their last
lookback rows), so predict, evaluate, the validation scores and the intervals' calibration
all see the same blended forecast. The members' spread shrinks with the networks' weight.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from forecaster.smoothing import FIT_ROWS, MIN_SEASONS, Parameters, sampled, seasonal_rows
from forecaster.smoothing import fit as fit_parameters
from forecaster.smoothing import forecast as damped

if TYPE_CHECKING:
    from forecaster.artifact import Artifact
    from forecaster.data import Panel
    from forecaster.windows import Split

# "damped_trend": damped-trend smoothing of the seasonally adjusted window (`smoothing`);
# "damped_trend_seasonal_drift": the mean of it and seasonal naive with drift (the
# equal-weight mix; `seasonal_drift`).
BASELINES = ("naive", "seasonal_naive", "damped_trend", "damped_trend_seasonal_drift")
SMOOTHED = ("damped_trend", "damped_trend_seasonal_drift")  # those with smoothing parameters
# The networks' weight in a blend (1, the networks alone, is the default it must beat).
WEIGHTS = (0.0, 0.25, 0.5, 0.75)
# How much lower the blend's validation MASE must be than the networks' alone.
MIN_GAIN = 0.01
# Validation too short to choose a blend by: fewer than this many horizons of validation
# rows, summed over the series (one horizon is one window's luck, and the stride-1 windows
# inside a few horizons are far from independent; "several validation origins" means at
# least 3 that do not overlap). The networks, damped-trend smoothing and seasonal naive
# with drift are then mixed at equal weights, as forecast combinations are weighted when
# weights cannot be estimated (M4: equal-weight combinations of simple methods were hard to
# beat on short series): a learned model, a smoothing and the last season moved by the
# window's trend, whose errors differ.
MIN_EVIDENCE = 3.0
EQUAL_WEIGHT = 1.0 / 3.0


@dataclass(frozen=True)
class Blend:
    """``weight`` x the networks' forecast + (1 - ``weight``) x ``baseline``'s; for the
    baselines with damped-trend smoothing (`SMOOTHED`), its ``smoothing`` parameters
    (alpha, beta, phi) per target, and per target whether the training rows showed the
    season (``seasonal``: every window is then adjusted by its profile; None, in files
    written before, or False: each window tests its own, `smoothing.seasonal_profile`).

    ``rows``: how many rows before each origin the baseline reads, where that is more than
    the networks' lookback (`statistical_rows`); None: the lookback, as in files written
    before it."""

    baseline: str
    weight: float
    smoothing: tuple[Parameters, ...] | None = None
    seasonal: tuple[bool, ...] | None = None
    rows: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"baseline": self.baseline, "weight": self.weight}
        if self.smoothing is not None:
            out["smoothing"] = [list(p) for p in self.smoothing]
        if self.seasonal is not None and any(self.seasonal):  # none: as files before it
            out["seasonal"] = list(self.seasonal)
        if self.rows is not None:
            out["rows"] = self.rows
        return out

    @classmethod
    def from_dict(cls, value: Any) -> Blend:
        """The stored form back; ValueError when it is not one this module writes."""
        smoothed = isinstance(value, dict) and value.get("baseline") in SMOOTHED
        keys = {"baseline", "weight"} | ({"smoothing"} if smoothed else set())
        if smoothed:
            keys |= {"seasonal", "rows"} & set(value)
        if not isinstance(value, dict) or set(value) != keys:
            raise ValueError(
                "an object of baseline and weight (and smoothing, and optionally seasonal "
                "and rows, for damped_trend and damped_trend_seasonal_drift)"
            )
        baseline, weight = value["baseline"], value["weight"]
        if baseline not in BASELINES:
            raise ValueError(f"baseline: one of {', '.join(BASELINES)}")
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise ValueError("weight: a number")
        if not 0.0 <= float(weight) < 1.0:
            raise ValueError("weight: from 0 to below 1")
        if not smoothed:
            return cls(baseline, float(weight))
        smoothing = _smoothing(value["smoothing"])
        seasonal = value.get("seasonal")
        if seasonal is not None and (
            not isinstance(seasonal, list)
            or len(seasonal) != len(smoothing)
            or not all(isinstance(x, bool) for x in seasonal)
        ):
            raise ValueError("seasonal: a list of true or false per target")
        rows = value.get("rows")
        if "rows" in value and (isinstance(rows, bool) or not isinstance(rows, int) or rows < 2):
            raise ValueError("rows: a whole number of rows, 2 or more")
        return cls(baseline, float(weight), smoothing,
                   tuple(seasonal) if seasonal is not None else None, rows)  # fmt: skip


def statistical_rows(lookback: int, season: int) -> int | None:
    """Rows the smoothed baselines read before an origin where the networks' lookback is too
    short for them: `MIN_SEASONS` seasons, the fewest a seasonal profile is estimated from
    (None: the lookback holds them, or there is no season).

    A window shorter than that gets no profile at all (`smoothing.seasonal_profile`), so the
    baseline forecast a seasonal series with its season smoothed away even where the training
    rows showed it: short monthly series get a lookback of 24 rows, and on the souvenir
    sales and the electrical equipment orders the equal-weight mix was far behind the
    networks alone (1.022 and 0.939 against 0.778 and 0.617, MASE ratio to the better naive).
    """
    if season <= 1 or lookback >= MIN_SEASONS * season:
        return None
    return MIN_SEASONS * season


def reads(blend: Blend | None, lookback: int) -> int:
    """Rows before each origin a model with ``blend`` reads: its networks' ``lookback``, or
    more where the blend's baseline reads more (`Blend.rows`)."""
    if blend is None or blend.rows is None:
        return lookback
    return max(lookback, blend.rows)


def _smoothing(value: Any) -> tuple[Parameters, ...]:
    """Stored smoothing parameters back: a list per target of alpha in (0, 1], beta in
    [0, 1] and phi in (0, 1]."""
    message = "smoothing: a list of [alpha, beta, phi] per target"
    if not isinstance(value, list) or not value:
        raise ValueError(message)
    out = []
    for row in value:
        if not isinstance(row, list) or len(row) != 3:
            raise ValueError(message)
        if any(isinstance(x, bool) or not isinstance(x, int | float) for x in row):
            raise ValueError(message)
        alpha, beta, phi = (float(x) for x in row)
        if not (0.0 < alpha <= 1.0 and 0.0 <= beta <= 1.0 and 0.0 < phi <= 1.0):
            raise ValueError(message + " (alpha and phi in (0, 1], beta in [0, 1])")
        out.append((alpha, beta, phi))
    return tuple(out)


def baseline_forecast(
    baseline: str,
    contexts: np.ndarray,
    lookback: int,
    horizon: int,
    targets: int,
    season: int,
    smoothing: tuple[Parameters, ...] | None = None,
    seasonal: tuple[bool, ...] | None = None,
) -> np.ndarray:
    """The baseline's forecast (N, H, C) from scaled model inputs (N, L[+H], C[+K]): the last
    context row, or the last season of context rows repeated (naive when the context is
    shorter than a season), as `metrics.naive` and `metrics.seasonal_naive` forecast; or
    damped-trend smoothing of the context rows with ``smoothing``'s parameters (and the
    season ``seasonal`` says the training rows showed); or the mean of it and seasonal naive
    with drift (`seasonal_drift`)."""
    if baseline == "damped_trend_seasonal_drift":
        damped_part = baseline_forecast("damped_trend", contexts, lookback, horizon, targets,
                                        season, smoothing, seasonal)  # fmt: skip
        drifted = seasonal_drift(contexts[:, :lookback, :targets], horizon, season)
        mean: np.ndarray = 0.5 * (damped_part + drifted)
        return mean
    own = contexts[:, :lookback, :targets]
    if baseline == "damped_trend":
        if smoothing is None or len(smoothing) != targets:
            raise ValueError("damped_trend needs smoothing parameters for every target")
        known = seasonal if seasonal is not None else (False,) * targets
        columns = [damped(own[:, :, c], horizon, season, smoothing[c], known[c])
                   for c in range(targets)]  # fmt: skip
        return np.stack(columns, axis=2)
    if baseline == "seasonal_naive" and 1 < season <= lookback:
        steps = lookback - season + np.arange(horizon) % season
        return own[:, steps, :]
    return np.repeat(own[:, -1:, :], horizon, axis=1)


def seasonal_drift(own: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Seasonal naive with drift (N, H, C) from context rows (N, L, C): the last season
    repeated, each repetition moved by one season of the window's trend (the change from the
    mean of its first season to that of its last, per row; none when it holds fewer than two
    seasons). Without a season in the window, naive with drift (the line through the first
    and last rows). The trend is what seasonal naive lacks on a trending series: it lags the
    Mauna Loa CO2 by a year."""
    lookback = own.shape[1]
    step = season if 1 < season <= lookback else 1
    last = own[:, lookback - step :]
    slope = np.zeros((own.shape[0], own.shape[2]))
    if lookback >= 2 * step:
        slope = (last.mean(axis=1) - own[:, :step].mean(axis=1)) / (lookback - step)
    ahead = np.arange(horizon)
    moved = ((ahead // step + 1) * step)[None, :, None]
    drift: np.ndarray = last[:, ahead % step] + slope[:, None, :] * moved
    return drift


def apply(
    blend: Blend | None, forecast: np.ndarray, contexts: np.ndarray, artifact: Artifact
) -> np.ndarray:
    """``forecast`` (N, H, C), scaled, blended with the baseline (unchanged without a blend);
    ``contexts`` hold the rows the blend reads (`reads`)."""
    if blend is None:
        return forecast
    from forecaster.seasons import season_length

    config = artifact.model_config
    rows = reads(blend, config.lookback)
    if contexts.shape[1] != rows:  # a caller that built the networks' windows only
        raise ValueError(f"the blend reads {rows} rows before each origin, not {contexts.shape[1]}")
    season = season_length(artifact.freq, artifact.schema.session)
    base = baseline_forecast(blend.baseline, contexts, rows, forecast.shape[1],
                             config.n_targets, season, blend.smoothing, blend.seasonal)  # fmt: skip
    mixed = blend.weight * forecast + (1.0 - blend.weight) * base
    return mixed.astype(forecast.dtype, copy=False)


def choose(artifact: Artifact, panel: Panel, split: Split) -> tuple[Blend | None, dict[str, Any]]:
    """The blend of the lowest validation MASE when it beats the networks alone by
    `MIN_GAIN`, with its scores for the summary; (None, {}) otherwise, and without
    validation windows."""
    from forecaster.inputs import run_model
    from forecaster.metrics import mase_scale, naive, seasonal_naive
    from forecaster.seasons import season_length
    from forecaster.validation import MAX_REPORT_WINDOWS, validation_windows

    if artifact.model_config.n_covariates:
        # The baselines cannot see the covariates the networks read: on EPF's day-ahead
        # prices (future covariates) a blend validated 4.6% better and tested 6% worse.
        return None, {}
    horizon, lookback = artifact.model_config.horizon, artifact.model_config.lookback
    season = season_length(panel.freq, panel.schema.session)
    evidence = float((split.n_val / horizon).sum())  # horizons of validation rows, all series
    windows = validation_windows(artifact, panel, split, MAX_REPORT_WINDOWS)
    if evidence < MIN_EVIDENCE:
        return _equal_weights(artifact, panel, split, season, windows, evidence)
    if windows is None:
        return None, {}
    series, origins, contexts = windows
    rows = statistical_rows(lookback, season)
    unblended = dataclasses.replace(artifact, blend=None)
    network = artifact.scaler.inverse(run_model(unblended, contexts).astype(np.float64), series)
    actuals = panel.actuals(series, origins, horizon)
    history = panel.histories(series, origins)
    scale = mase_scale(history, season)  # (N, C), as `metrics.evaluate` scales MASE
    alone = _mase(network, actuals, scale)
    if alone is None:  # no scale (a constant history): no choice
        return None, {}
    smoothing, seasonal = fit_smoothing(artifact, panel, split, season)
    wide = _statistical_inputs(artifact, panel, series, origins, rows, contexts)
    smoothed = baseline_forecast("damped_trend", wide, rows or lookback, horizon,
                                 len(smoothing), season, smoothing, seasonal)  # fmt: skip
    baselines = {"naive": naive(history, horizon),
                 "seasonal_naive": seasonal_naive(history, horizon, season),
                 "damped_trend": artifact.scaler.inverse(smoothed, series)}  # fmt: skip
    tried: dict[tuple[str, float], float] = {}
    for name, forecast in baselines.items():
        for weight in WEIGHTS:
            mase = _mase(weight * network + (1.0 - weight) * forecast, actuals, scale)
            if mase is not None:
                tried[name, weight] = mase
    if not tried:
        return None, {}
    best = min(tried, key=lambda key: tried[key])
    if tried[best] > alone * (1.0 - MIN_GAIN):
        return None, {}
    chosen = (Blend(best[0], best[1], smoothing, seasonal, rows) if best[0] == "damped_trend"
              else Blend(best[0], best[1]))  # fmt: skip
    return chosen, {**chosen.to_dict(), "mase": tried[best], "network_mase": alone,
                    "windows": len(series)}  # fmt: skip


def _equal_weights(
    artifact: Artifact,
    panel: Panel,
    split: Split,
    season: int,
    windows: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    evidence: float,
) -> tuple[Blend, dict[str, Any]]:
    """The networks, damped-trend smoothing and seasonal naive with drift at equal weights,
    chosen without validation (too little of it to choose by), with the validation MASE of
    the mix and of the networks where there is any."""
    from forecaster.inputs import run_model
    from forecaster.metrics import mase_scale

    smoothing, seasonal = fit_smoothing(artifact, panel, split, season)
    rows = statistical_rows(artifact.model_config.lookback, season)
    chosen = Blend("damped_trend_seasonal_drift", EQUAL_WEIGHT, smoothing, seasonal, rows)
    summary: dict[str, Any] = {**chosen.to_dict(), "rule": "equal",
                               "validation_horizons": round(evidence, 2)}  # fmt: skip
    if windows is not None:
        series, origins, contexts = windows
        horizon = artifact.model_config.horizon
        unblended = dataclasses.replace(artifact, blend=None)
        scaled = run_model(unblended, contexts).astype(np.float64)
        wide = _statistical_inputs(artifact, panel, series, origins, rows, contexts)
        mixed = apply(chosen, scaled, wide, artifact)
        actuals = panel.actuals(series, origins, horizon)
        scale = mase_scale(panel.histories(series, origins), season)
        summary["mase"] = _mase(artifact.scaler.inverse(mixed, series), actuals, scale)
        summary["network_mase"] = _mase(artifact.scaler.inverse(scaled, series), actuals, scale)
        summary["windows"] = len(series)
    return chosen, summary


def _statistical_inputs(
    artifact: Artifact,
    panel: Panel,
    series: np.ndarray,
    origins: np.ndarray,
    rows: int | None,
    contexts: np.ndarray,
) -> np.ndarray:
    """The validation windows as a smoothed baseline reads them: ``contexts`` (the
    networks' windows) where the lookback suffices, else ``rows`` rows before each origin."""
    if rows is None or rows <= artifact.model_config.lookback:
        return contexts
    from forecaster.inputs import model_inputs

    return model_inputs(artifact, panel, artifact.scaler, series, origins, rows=rows)


def fit_smoothing(
    artifact: Artifact, panel: Panel, split: Split, season: int
) -> tuple[tuple[Parameters, ...], tuple[bool, ...]]:
    """Damped-trend parameters per target, fitted on every series' training rows as the
    networks see them (scaled), so that a panel's series weigh alike; and per target
    whether those rows show the season (`smoothing.seasonal_rows`)."""
    targets = artifact.model_config.n_targets
    scaled = []
    for i in sampled(panel.n_series):
        rows = panel.series(int(i))[: int(split.n_train[i]), :targets][-FIT_ROWS:]
        scaled.append(artifact.scaler.transform(rows, int(i)))
    columns = [[rows[:, c] for rows in scaled] for c in range(targets)]
    parameters = tuple(fit_parameters(column, season) for column in columns)
    return parameters, tuple(seasonal_rows(column, season) for column in columns)


def _mase(forecasts: np.ndarray, actuals: np.ndarray, scale: np.ndarray) -> float | None:
    """MASE over windows (N, H, C), averaged over targets, as `metrics.evaluate` gives it;
    None when it is not finite (no scale)."""
    from forecaster.metrics import mean_ratio

    absolute = np.abs(forecasts - actuals).mean(axis=1)  # (N, C)
    per_target = []
    for c in range(absolute.shape[1]):
        usable = scale[:, c] > 0
        if not usable.any():
            return None
        per_target.append(mean_ratio(absolute[usable, c], scale[usable, c]))
    value = float(np.mean(per_target))
    return value if math.isfinite(value) else None


def describe(blend: dict[str, Any] | None) -> str | None:
    """`train`'s and `info`'s words for a blend (None: the networks alone)."""
    if not blend:
        return None
    baseline = {
        "damped_trend": "damped-trend smoothing",
        "damped_trend_seasonal_drift": "the mean of damped-trend smoothing and seasonal naive "
        "with drift",
    }.get(str(blend["baseline"]), str(blend["baseline"]).replace("_", " "))
    weight = float(blend["weight"])
    mixed = f"{weight:.3g} x the networks + {1 - weight:.3g} x {baseline}"
    rows = f"; the smoothing reads the last {blend['rows']} rows" if blend.get("rows") else ""
    if blend.get("rule") == "equal":
        horizons = blend.get("validation_horizons", 0)
        why = f"equal weights: {horizons:g} horizon(s) of validation rows, too few to choose by"
        if blend.get("mase") is not None and blend.get("network_mase") is not None:
            why += (f"; validation MASE {blend['mase']:.3g} against the networks' "
                    f"{blend['network_mase']:.3g}")  # fmt: skip
        return f"{mixed} ({why}{rows})"
    return (
        f"{mixed} (validation MASE {blend['mase']:.3g} against the networks' "
        f"{blend['network_mase']:.3g} on {blend['windows']} validation window(s){rows})"
    )
