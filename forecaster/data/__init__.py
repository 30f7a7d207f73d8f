"""From a CSV (path or ``-``) to a `Panel`: regular, gap-free series as one float array.

One module per step: `read` and `parquet` (bytes to a table), `columns` (which column plays
which role, numbers), `times` and `forms` (timestamps, day/month order, zones; years,
quarters, step numbers), `rows` (rows by series, in time order, one per timestamp with
`duplicates`), `frequency` (the data's frequency), `sessions` (grids of the slots that
exist), `grid` (the regular grid, filling), `covariates` and `calendar` (the columns that
inform the forecast), `build` (`build_panel`: the steps in order), `load` (a file to a
panel), `panel` (the data model).
Every problem with the input is raised as `DataError` with the column, rows and fix named;
nothing here knows about windows or tensors.
"""

from forecaster.data.build import build_panel
from forecaster.data.columns import (
    ID_NAMES,
    MAX_MAGNITUDE,
    TIME_NAMES,
    detect_schema,
    parse_numbers,
)
from forecaster.data.frequency import infer_frequency, validate_freq
from forecaster.data.grid import fill_gaps
from forecaster.data.load import load_panel, load_panel_like
from forecaster.data.panel import (
    Panel,
    Schema,
    drop_first,
    drop_last,
    fixed_step_ns,
    grid_timestamps,
)
from forecaster.data.read import name_of, read_table
from forecaster.data.times import parse_times

__all__ = [
    "ID_NAMES",
    "MAX_MAGNITUDE",
    "TIME_NAMES",
    "Panel",
    "Schema",
    "build_panel",
    "detect_schema",
    "drop_first",
    "drop_last",
    "fill_gaps",
    "fixed_step_ns",
    "grid_timestamps",
    "infer_frequency",
    "load_panel",
    "load_panel_like",
    "name_of",
    "parse_numbers",
    "parse_times",
    "read_table",
    "validate_freq",
]
