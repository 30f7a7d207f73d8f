"""Property tests (hypothesis) of the CSV reader and of the windowing.

The reader, given any small table, returns a valid `Panel` or raises the tool's own error
(`ForecasterError`: data or usage), never another exception. Windows never reach past the
end of their series, training targets never reach into validation rows, and the scaler is
fit on training rows only.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecaster.data import Panel, Schema, load_panel
from forecaster.errors import DataError, ForecasterError
from forecaster.windows import context_windows, fit_scaler, make_windows, split_series

READER_EXAMPLES = 200
STRUCTURED_EXAMPLES = 100
WINDOW_EXAMPLES = 150
SCALER_EXAMPLES = 100

SETTINGS = {
    "deadline": None,
    "database": None,  # no .hypothesis/ directory in the checkout
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}

# ---------------------------------------------------------------------------------------
# Cells and tables

NAME_CHARS = st.characters(
    codec="utf-8",
    categories=("L", "N", "P", "Zs", "S"),
    include_characters=",;\t\"'|",
)
column_names = st.text(NAME_CHARS, min_size=0, max_size=8) | st.sampled_from(
    ["date", "ds", "y", "unique_id", "value", "time", "Zeitpunkt", "日付", "€ sales"]
)
dates = st.datetimes(
    min_value=pd.Timestamp("1990-01-01").to_pydatetime(),
    max_value=pd.Timestamp("2040-01-01").to_pydatetime(),
)
date_text = st.one_of(
    dates.map(lambda t: t.strftime("%Y-%m-%d")),
    dates.map(lambda t: t.strftime("%Y-%m-%d %H:%M:%S")),
    dates.map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%S+02:00")),
    dates.map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")),
    dates.map(lambda t: t.strftime("%d/%m/%Y")),
)
numbers = st.one_of(
    st.integers(-(10**15), 10**15).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-1e6, 1e6).map(lambda x: f"{x:.3f}"),
    st.sampled_from(["1,000", "0,5", "1.234,5", "1e12", "1e-12", "1e300", "-0", "NaN", "inf"]),
)
words = st.text(NAME_CHARS, max_size=6) | st.sampled_from(["a", "b", "true", "False", "NA", "-"])
cells = st.one_of(st.none(), st.just(""), date_text, numbers, words)


@st.composite
def arbitrary_tables(draw: st.DrawFn) -> list[list[str | None]]:
    """A header and rows of anything: dates, numbers, words, empty cells, ragged or not."""
    n_cols = draw(st.integers(1, 4))
    n_rows = draw(st.integers(0, 12))
    header = draw(st.lists(column_names, min_size=n_cols, max_size=n_cols))
    kinds = draw(st.lists(st.sampled_from(["date", "number", "word", "any"]), min_size=n_cols))
    pools = {"date": date_text, "number": numbers, "word": words, "any": cells}
    rows = []
    for _ in range(n_rows):
        row = []
        for c in range(n_cols):
            missing = draw(st.integers(0, 9)) == 0
            row.append(None if missing else draw(pools[kinds[c]]))
        rows.append(row)
    return [list(header), *rows]


@st.composite
def structured_tables(draw: st.DrawFn) -> list[list[str | None]]:
    """Nearly valid data (time + numbers, wide or long) with a few things made wrong."""
    long = draw(st.booleans())
    freq = draw(st.sampled_from(["D", "h", "W-SUN", "MS", "15min"]))
    n_series = draw(st.integers(1, 3)) if long else 1
    lengths = draw(st.lists(st.integers(1, 15), min_size=n_series, max_size=n_series))
    n_targets = draw(st.integers(1, 2))
    start = pd.Timestamp(draw(dates)).floor("D")
    header = (["unique_id"] if long else []) + ["ds" if long else "date"]
    header += ["y"] if long and n_targets == 1 else [f"v{k}" for k in range(n_targets)]
    rows: list[list[str | None]] = []
    for s, n in enumerate(lengths):
        sid = draw(st.sampled_from([f"s{s}", str(s), f"{s}.0", "ü" * (s + 1)]))
        for t in pd.date_range(start, periods=n, freq=freq):
            row: list[str | None] = [sid] if long else []
            row.append(str(t))
            for _ in range(n_targets):
                row.append(repr(draw(st.floats(-1e9, 1e9))))
            rows.append(row)
    # Damage: drop rows (gaps), blank or replace cells, duplicate rows.
    for _ in range(draw(st.integers(0, 3))):
        if not rows:
            break
        r = draw(st.integers(0, len(rows) - 1))
        action = draw(st.sampled_from(["drop", "blank", "replace", "duplicate"]))
        if action == "drop":
            rows.pop(r)
        elif action == "duplicate":
            rows.insert(r, list(rows[r]))
        else:
            c = draw(st.integers(0, len(header) - 1))
            rows[r][c] = None if action == "blank" else draw(cells)
    rows = draw(st.permutations(rows)) if draw(st.booleans()) else rows
    return [header, *rows]


@st.composite
def encodings(draw: st.DrawFn) -> dict[str, object]:
    return {
        "delimiter": draw(st.sampled_from([",", ";", "\t", "|"])),
        "bom": draw(st.booleans()),
        "crlf": draw(st.booleans()),
        "gzip": draw(st.integers(0, 4)) == 0,
        "quote_all": draw(st.booleans()),
    }


def to_bytes(table: list[list[str | None]], how: dict[str, object]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=str(how["delimiter"]),
        lineterminator="\r\n" if how["crlf"] else "\n",
        quoting=csv.QUOTE_ALL if how["quote_all"] else csv.QUOTE_MINIMAL,
    )
    for row in table:
        writer.writerow(["" if cell is None else cell for cell in row])
    data = (("\ufeff" if how["bom"] else "") + buffer.getvalue()).encode("utf-8")
    return gzip.compress(data) if how["gzip"] else data


def check_panel(panel: Panel) -> None:
    """What every stage after the reader relies on."""
    n = panel.n_series
    assert n >= 1
    assert len(panel.ids) == len(set(panel.ids)) == len(panel.starts) == n
    assert panel.offsets.shape == (n + 1,)
    assert panel.offsets[0] == 0 and panel.offsets[-1] == len(panel.values)
    assert (np.diff(panel.offsets) >= 1).all()
    assert panel.values.ndim == 2 and panel.values.shape[1] == len(panel.schema.targets) >= 1
    assert panel.values.dtype == np.float64
    assert np.isfinite(panel.values).all()
    assert isinstance(panel.schema, Schema)
    for i in range(n):
        index = panel.index(i)
        assert len(index) == panel.lengths[i]
        assert index.is_monotonic_increasing and index.is_unique
        assert len(panel.series(i)) == panel.lengths[i]


def read_or_refuse(directory: Path, payload: bytes, **flags: object) -> Panel | None:
    path = directory / ("data.csv.gz" if payload[:2] == b"\x1f\x8b" else "data.csv")
    path.write_bytes(payload)
    try:
        panel = load_panel(path, **flags)  # type: ignore[arg-type]
    except ForecasterError as exc:
        message = str(exc)
        assert message and "\n" not in message.strip(), message
        return None
    check_panel(panel)
    return panel


# ---------------------------------------------------------------------------------------
# Reader properties


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for every example's CSV (hypothesis reuses module fixtures)."""
    return tmp_path_factory.mktemp("hypothesis")


@pytest.fixture(autouse=True)
def _fresh_logger() -> None:
    """Earlier CliRunner calls leave a log handler on their (closed) stderr: drop it."""
    logging.getLogger("forecaster").handlers.clear()


@settings(max_examples=READER_EXAMPLES, **SETTINGS)  # type: ignore[arg-type]
@given(table=arbitrary_tables(), how=encodings())
def test_reader_returns_a_valid_panel_or_its_own_error(
    scratch: Path, table: list[list[str | None]], how: dict[str, object]
) -> None:
    read_or_refuse(scratch, to_bytes(table, how))


@settings(max_examples=STRUCTURED_EXAMPLES, **SETTINGS)  # type: ignore[arg-type]
@given(table=structured_tables(), how=encodings(), use_flags=st.booleans(), data=st.data())
def test_reader_on_nearly_valid_data(
    scratch: Path,
    table: list[list[str | None]],
    how: dict[str, object],
    use_flags: bool,
    data: st.DataObject,
) -> None:
    header = [str(c) for c in table[0]]
    flags: dict[str, object] = {}
    if use_flags:
        # Flags that may or may not name real columns (misspelt ones must be refused cleanly).
        named = st.sampled_from([*header, "nope", header[-1] + "x"])
        flags["time"] = data.draw(st.none() | named)
        flags["targets"] = data.draw(st.lists(named, max_size=2, unique=True))
        flags["fill"] = data.draw(st.sampled_from(["interpolate", "ffill", "error"]))
        flags["freq"] = data.draw(st.none() | st.sampled_from(["D", "h", "W", "bogus"]))
    panel = read_or_refuse(scratch, to_bytes(table, how), **flags)
    if panel is not None and not use_flags:
        # Every data row that survived lies in some series; nothing was invented outside.
        data_rows = len(table) - 1
        assert panel.n_series <= max(1, data_rows)


# ---------------------------------------------------------------------------------------
# Windowing properties


def panel_of(lengths: list[int], values: np.ndarray) -> Panel:
    return Panel(
        ids=[f"s{i}" for i in range(len(lengths))],
        starts=[pd.Timestamp("2021-01-01")] * len(lengths),
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        values=values,
        freq="D",
        schema=Schema(time="ds", targets=[f"t{c}" for c in range(values.shape[1])], id="id"),
    )


@st.composite
def window_cases(draw: st.DrawFn) -> tuple[Panel, int, int, float]:
    lengths = draw(st.lists(st.integers(1, 60), min_size=1, max_size=4))
    channels = draw(st.integers(1, 2))
    rows = sum(lengths)
    values = draw(
        st.lists(st.floats(-1e6, 1e6), min_size=rows * channels, max_size=rows * channels)
    )
    panel = panel_of(lengths, np.asarray(values, dtype=np.float64).reshape(rows, channels))
    lookback = draw(st.integers(1, 20))
    horizon = draw(st.integers(1, 10))
    val_fraction = draw(st.sampled_from([0.0, 0.1, 0.2, 0.35, 0.5]))
    return panel, lookback, horizon, val_fraction


@settings(max_examples=WINDOW_EXAMPLES, **SETTINGS)  # type: ignore[arg-type]
@given(case=window_cases())
def test_windows_stay_inside_their_series(case: tuple[Panel, int, int, float]) -> None:
    panel, lookback, horizon, val_fraction = case
    split = split_series(panel.lengths, horizon, lookback, val_fraction)
    assert (split.n_train + split.n_val == panel.lengths).all()
    assert (split.n_train >= 1).all()
    scaler = fit_scaler(panel, split)
    if int(split.n_train.max()) < horizon + 1:
        with pytest.raises(DataError):
            make_windows(panel, scaler, split, lookback, horizon)
        return
    windows = make_windows(panel, scaler, split, lookback, horizon)
    pads = np.maximum(0, lookback + horizon - split.n_train)
    blocks = np.concatenate([[0], np.cumsum(panel.lengths + pads)])
    assert len(windows.series) == blocks[-1]
    span = lookback + horizon
    for role, starts in (("train", windows.train_starts), ("val", windows.val_starts)):
        for start in starts.tolist():
            i = int(np.searchsorted(blocks, start, side="right") - 1)
            base, pad = int(blocks[i]), int(pads[i])
            n_train, n = int(split.n_train[i]), int(panel.lengths[i])
            # The whole window lies in its own series' block, never past its end.
            assert base <= start and start + span <= blocks[i + 1], (role, start, i)
            first_target = start - base + lookback  # padded coordinates
            if role == "train":
                # Targets are real training rows: not padding, not validation.
                assert pad <= first_target and first_target + horizon <= pad + n_train
            else:
                assert pad + n_train <= first_target and first_target + horizon <= pad + n
    # Gathering any window indexes inside the array.
    every = np.concatenate([windows.train_starts.numpy(), windows.val_starts.numpy()])
    context, target = windows.gather(windows.train_starts[: min(8, len(windows.train_starts))])
    assert int(every.max()) + span <= len(windows.series)
    assert context.shape[1:] == (lookback, panel.values.shape[1])
    assert target.shape[1:] == (horizon, panel.values.shape[1])
    # Contexts for forecasting: one per series, any length of history, finite.
    ends = np.minimum(panel.lengths, np.maximum(1, panel.lengths - horizon))
    contexts = context_windows(panel, scaler, lookback, np.arange(panel.n_series), ends)
    assert contexts.shape == (panel.n_series, lookback, panel.values.shape[1])
    assert np.isfinite(contexts).all()


@settings(max_examples=SCALER_EXAMPLES, **SETTINGS)  # type: ignore[arg-type]
@given(case=window_cases(), junk=st.floats(-1e9, 1e9))
def test_scaler_never_sees_validation_rows(
    case: tuple[Panel, int, int, float], junk: float
) -> None:
    panel, lookback, horizon, val_fraction = case
    split = split_series(panel.lengths, horizon, lookback, val_fraction)
    before = fit_scaler(panel, split)
    for i in range(panel.n_series):
        train_rows = panel.series(i)[: int(split.n_train[i])]
        mean, std = train_rows.mean(axis=0), train_rows.std(axis=0)
        np.testing.assert_allclose(before.mean[i], mean, rtol=1e-9, atol=1e-9)
        expected = np.where(std > 1e-12 * np.maximum(np.abs(mean), 1e-300), std, 1.0)
        np.testing.assert_allclose(before.std[i], expected, rtol=1e-6, atol=1e-9)
        assert (before.std[i] > 0).all()
    # Overwrite every validation row: the scaler must not move at all.
    changed = panel.values.copy()
    for i in range(panel.n_series):
        first = int(panel.offsets[i] + split.n_train[i])
        changed[first : int(panel.offsets[i + 1])] = junk
    after = fit_scaler(panel_of(panel.lengths.tolist(), changed), split)
    np.testing.assert_array_equal(before.mean, after.mean)
    np.testing.assert_array_equal(before.std, after.std)
