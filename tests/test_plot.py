"""`forecaster plot` and `evaluate --plot`: real images, of the expected size, not blank."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from forecaster.plot import DPI, MAX_PANELS, PANEL_HEIGHT, PANEL_WIDTH
from tests.conftest import FAST, invoke, long_frame, run_forecaster, seasonal_frame
from tests.test_intervals import without_intervals


def read_png(payload: bytes) -> np.ndarray:
    import matplotlib.image

    assert payload[:8] == b"\x89PNG\r\n\x1a\n"
    return matplotlib.image.imread(io.BytesIO(payload), format="png")


def assert_picture(payload: bytes, panels: int) -> None:
    """A PNG of the grid's size (1, 2 or 3 columns of panels) with something drawn on it."""
    image = read_png(payload)
    columns = 1 if panels == 1 else 2 if panels <= 4 else 3
    rows = -(-panels // columns)
    assert image.shape[1] == round(PANEL_WIDTH * columns * DPI)
    assert image.shape[0] == round((PANEL_HEIGHT * rows + 0.9) * DPI)
    gray = image[..., :3].mean(axis=2)
    assert gray.std() > 0.05  # not blank: lines, bands and text
    assert (gray < 0.5).mean() > 0.002  # some dark ink (history, labels)


@pytest.fixture(scope="module")
def panel_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("plot")
    data = directory / "long.csv"
    long_frame().to_csv(data, index=False)
    model = directory / "m.fcst"
    args = ["train", str(data), "-o", str(model), "--horizon", "7", "--holdout", "14", *FAST]
    assert invoke(args).exit_code == 0
    return model, data


def test_plot_draws_one_panel_per_series_with_bands(
    panel_model: tuple[Path, Path], tmp_path: Path
) -> None:
    model, data = panel_model
    out = tmp_path / "forecast.png"
    result = invoke(["plot", "-m", str(model), str(data), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert_picture(out.read_bytes(), 3)
    one = tmp_path / "one.png"
    assert invoke(["plot", "-m", str(model), "--series", "s1", "-o", str(one)]).exit_code == 0
    assert_picture(one.read_bytes(), 1)


def test_plot_writes_svg_and_pdf_by_extension(
    panel_model: tuple[Path, Path], tmp_path: Path
) -> None:
    model, _ = panel_model
    for name, head in (("f.svg", b"<?xml"), ("f.pdf", b"%PDF")):
        out = tmp_path / name
        assert invoke(["plot", "-m", str(model), "-o", str(out)]).exit_code == 0
        assert out.read_bytes().startswith(head)


def test_plot_to_stdout_is_png(panel_model: tuple[Path, Path]) -> None:
    model, _ = panel_model
    result = run_forecaster(["plot", "-m", str(model), "-o", "-", "--series", "s0"])
    assert result.returncode == 0, result.stderr
    assert_picture(result.stdout, 1)


def test_a_panel_of_many_series_is_capped_with_a_note(tmp_path: Path) -> None:
    frame = long_frame(tuple([80] * (MAX_PANELS + 2)))
    data = tmp_path / "many.csv"
    frame.to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    assert invoke(["train", str(data), "-o", str(model), "--horizon", "7", *FAST]).exit_code == 0
    out = tmp_path / "many.png"
    result = invoke(["plot", "-m", str(model), "-o", str(out)])
    assert result.exit_code == 0
    assert f"showing {MAX_PANELS} of {MAX_PANELS + 2} series" in result.stderr
    assert "--series" in result.stderr
    assert_picture(out.read_bytes(), MAX_PANELS)


@pytest.mark.parametrize(
    ("args", "code", "phrase"),
    [
        (["--series", "nope"], 2, "'nope' not in the model"),
        (["-o", "f.gif"], 2, "name an image file .png, .svg or .pdf"),
        (["-o", "missing-dir/f.png"], 2, "does not exist"),
        (["--history", "0"], 2, "--history"),
    ],
)
def test_bad_plot_requests_are_one_line_and_write_nothing(
    panel_model: tuple[Path, Path], tmp_path: Path, args: list[str], code: int, phrase: str
) -> None:
    model, _ = panel_model
    out = [] if "-o" in args else ["-o", "f.png"]
    result = invoke(["plot", "-m", str(model), *out, *args])
    assert result.exit_code == code
    assert phrase in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not list(Path(".").glob("f.*")) and not (tmp_path / "f.png").exists()


def test_plot_needs_an_output(panel_model: tuple[Path, Path]) -> None:
    result = invoke(["plot", "-m", str(panel_model[0])])
    assert result.exit_code == 2 and "--output" in result.stderr


def test_a_model_without_intervals_plots_without_bands(trained_model: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.fcst"
    old.write_bytes(without_intervals(trained_model.read_bytes()))
    out = tmp_path / "old.png"
    assert invoke(["plot", "-m", str(old), "-o", str(out)]).exit_code == 0
    assert_picture(out.read_bytes(), 1)
    asked = invoke(["plot", "-m", str(old), "-o", str(tmp_path / "x.png"), "--level", "90"])
    assert asked.exit_code == 4 and not (tmp_path / "x.png").exists()


def test_evaluate_draws_the_backtest(panel_model: tuple[Path, Path], tmp_path: Path) -> None:
    model, data = panel_model
    picture = tmp_path / "backtest.png"
    result = invoke(
        ["evaluate", "-m", str(model), str(data), "--windows", "2", "--plot", str(picture),
         "--format", "json", "-q"]
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["windows"] == 2  # the report is unchanged
    assert_picture(picture.read_bytes(), 3)
    clash = invoke(["evaluate", "-m", str(model), str(data), "--plot", "-", "--format", "json"])
    assert clash.exit_code == 2 and "standard output" in clash.stderr
    same = invoke(
        ["evaluate", "-m", str(model), str(data), "--plot", str(picture), "-o", str(picture),
         "--format", "json"]
    )  # fmt: skip
    assert same.exit_code == 2 and "same file" in same.stderr


def test_plot_is_drawn_in_the_data_time_zone(tmp_path: Path) -> None:
    """Timestamps with an offset (zone-aware times on both lines) draw a valid picture."""
    frame = seasonal_frame(200, freq="h", period=24)
    frame["date"] = frame["date"].dt.strftime("%Y-%m-%d %H:%M:%S+02:00")
    data = tmp_path / "offset.csv"
    frame.to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    trained = invoke(["train", str(data), "-o", str(model), "--horizon", "12", *FAST])
    assert trained.exit_code == 0, trained.stderr
    out = tmp_path / "offset.png"
    result = invoke(["plot", "-m", str(model), str(data), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.stderr
    assert_picture(out.read_bytes(), 1)


def test_step_numbers_are_ticked_at_whole_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A series indexed by step numbers: no tick at step 202.5, which names no row."""
    import matplotlib.figure
    import pandas as pd

    drawn: list[matplotlib.figure.Figure] = []
    save = matplotlib.figure.Figure.savefig

    def keep(figure: matplotlib.figure.Figure, *args: object, **kwargs: object) -> None:
        drawn.append(figure)
        save(figure, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", keep)
    steps = np.arange(200)
    data, model = tmp_path / "steps.csv", tmp_path / "m.fcst"
    pd.DataFrame({"step": steps, "value": 10 + np.sin(2 * np.pi * steps / 12)}).to_csv(
        data, index=False
    )
    assert invoke(["train", str(data), "-o", str(model), "--horizon", "5", *FAST]).exit_code == 0
    result = invoke(["plot", "-m", str(model), str(data), "-o", str(tmp_path / "p.png"), "-q"])
    assert result.exit_code == 0, result.stderr
    ticks = drawn[-1].axes[0].get_xticks()
    assert len(ticks) >= 3 and all(float(tick).is_integer() for tick in ticks), ticks
