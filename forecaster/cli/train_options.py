"""The options of `forecaster train`, declared once; those that set a `TrainConfig` field
are named after it.

`cli.train` takes each as a parameter of the field's name, so the flags reach the config by
name (`options.config_flags`) with no table to keep in step; `--help` quotes defaults and
limits from `config`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forecaster.cli import options
from forecaster.cli.options import COVARIATES, DATA, DEFAULTS, MODEL, OUTPUT, TRAINING, default
from forecaster.config import AUTO_ROWS_PER_REPEAT, MAX_LR, MAX_SEED, UPDATABLE

Data = Annotated[
    str,
    typer.Argument(
        metavar="DATA",
        help="CSV or Parquet file (or a directory of Parquet files), or - for standard input.",
    ),
]
Output = Annotated[
    str,
    typer.Option(
        "--output", "-o", metavar="FILE", help="Model file to write.", rich_help_panel=OUTPUT
    ),
]
Time = Annotated[
    str | None,
    typer.Option(
        "--time",
        metavar="COL",
        help="Time column." + default("detected"),
        rich_help_panel=DATA,
    ),
]
Targets = Annotated[
    list[str] | None,
    typer.Option(
        "--target",
        metavar="COL",
        help="Target column; repeat for several." + default("every numeric column, or y"),
        rich_help_panel=DATA,
    ),
]
Id = Annotated[
    str | None,
    typer.Option(
        "--id",
        metavar="COL",
        help="Series id column, for long format." + default("unique_id, or detected"),
        rich_help_panel=DATA,
    ),
]
FutureCovariates = Annotated[
    list[str] | None,
    typer.Option(
        "--future-covariate",
        metavar="COL",
        help="A column known ahead of time (a weather or load forecast, a planned price, "
        "a promotion flag); repeat for several. predict then needs its values for the "
        "horizon: rows after the last target value in DATA, or --future FILE.",
        rich_help_panel=COVARIATES,
    ),
]
PastCovariates = Annotated[
    list[str] | None,
    typer.Option(
        "--past-covariate",
        metavar="COL",
        help="A column observed only up to the forecast time (a measured temperature, "
        "another sensor); repeat for several.",
        rich_help_panel=COVARIATES,
    ),
]
StaticCovariates = Annotated[
    list[str] | None,
    typer.Option(
        "--static-covariate",
        metavar="COL",
        help="Long format: a column constant within each series (a store's region, a "
        "sensor's type; text categories allowed); repeat for several.",
        rich_help_panel=COVARIATES,
    ),
]
Calendar = Annotated[
    options.CalendarRule | None,
    typer.Option(
        "--calendar",
        help="Features derived from the timestamps, suited to the frequency (hour of "
        "day and weekday for hourly data, weekday and day of year for daily, month for "
        "monthly); future-known, so predict computes them for the horizon. auto: with "
        "any covariate or --holidays." + default(DEFAULTS.calendar),
        rich_help_panel=COVARIATES,
    ),
]
Holidays = Annotated[
    list[str] | None,
    typer.Option(
        "--holidays",
        metavar="CC",
        help="Add the public holidays of country CC (ISO code, e.g. US, DE, FR; from the "
        "holidays package) as a feature; repeat for several countries.",
        rich_help_panel=COVARIATES,
    ),
]
Freq = Annotated[
    str | None,
    typer.Option(
        "--freq",
        metavar="ALIAS",
        help="Frequency alias, e.g. h, D, B, W, MS; for integer times that are step "
        "numbers, a whole number of steps, e.g. 1. Data held only in some hours or on some "
        "weekdays (business hours) is modelled on those slots alone." + default("inferred"),
        rich_help_panel=DATA,
    ),
]
DayFirst = Annotated[
    bool | None,
    typer.Option(
        "--dayfirst/--monthfirst",
        metavar="",
        help="Read dates such as 01/02/2020 day first (1 February) or month first. "
        "\\[default: decided by the values; refused when they cannot decide]",
        rich_help_panel=DATA,
    ),
]
Fill = Annotated[
    options.Fill | None,
    typer.Option(
        "--fill",
        help="How to fill gaps and empty cells." + default(DEFAULTS.fill),
        rich_help_panel=DATA,
    ),
]
Duplicates = Annotated[
    options.Duplicates | None,
    typer.Option(
        "--duplicates",
        help="Rows of one series that repeat a timestamp: refuse them (error) or merge "
        "them into one (their mean, or the first or last in the file); auto: their mean "
        f"when at most 1 row in {AUTO_ROWS_PER_REPEAT:,} repeats a timestamp (with a "
        "warning), else refuse them; predict and evaluate read new data the same way."
        + default(DEFAULTS.duplicates),
        rich_help_panel=DATA,
    ),
]
Outliers = Annotated[
    options.Outliers | None,
    typer.Option(
        "--outliers",
        help="Target values far outside the range of both their neighbours in time and "
        "those a season or two apart (a typo, a one-off strike): fill them as gaps, "
        "saying which, or keep them; predict and evaluate read new data the same way "
        "(never the rows a backtest scores)." + default(DEFAULTS.outliers),
        rich_help_panel=DATA,
    ),
]
LeadingRun = Annotated[
    options.LeadingRun | None,
    typer.Option(
        "--leading-run",
        help="Rows before a series starts: the zeros before its first non-zero row (a "
        "product before launch), or one value held unchanged for two seasons or more "
        "before its first change: leave them out, saying so, or keep them; predict and "
        "evaluate read new data the same way." + default(DEFAULTS.leading_run),
        rich_help_panel=DATA,
    ),
]
Holdout = Annotated[
    int,
    typer.Option(
        "--holdout",
        min=0,
        metavar="N",
        help="Leave out the last N steps of every series (to evaluate on them later).",
        rich_help_panel=DATA,
    ),
]
AllowNegative = Annotated[
    bool,
    typer.Option(
        "--allow-negative",
        metavar="",
        help="Let forecasts and bounds go below 0 for series whose history never did "
        "(by default they are kept >= 0 there: counts, sales, volumes).",
        rich_help_panel=MODEL,
    ),
]
Horizon = Annotated[
    int | None,
    typer.Option(
        "--horizon",
        min=1,
        metavar="N",
        help="Steps to forecast. \\[default: by frequency: hourly 48, daily 14, weekly 13, "
        "monthly 18, quarterly 8, yearly 6]",
        rich_help_panel=MODEL,
    ),
]
Lookback = Annotated[
    int | None,
    typer.Option(
        "--lookback",
        min=1,
        metavar="N",
        help="Past steps the model reads. \\[default: max(2 x horizon, 2 seasons), hourly "
        "at least 168, and up to 8x as many for its linear part]",
        rich_help_panel=MODEL,
    ),
]
Layers = Annotated[
    int | None,
    typer.Option(
        "--layers",
        min=1,
        metavar="N",
        help="Stacked LSTM layers." + default(DEFAULTS.layers),
        rich_help_panel=MODEL,
    ),
]
Hidden = Annotated[
    int | None,
    typer.Option(
        "--hidden",
        min=1,
        metavar="N",
        help="Hidden units per layer." + default(DEFAULTS.hidden),
        rich_help_panel=MODEL,
    ),
]
Dropout = Annotated[
    float | None,
    typer.Option(
        "--dropout",
        min=0.0,
        metavar="P",
        help="Dropout between layers, in [0, 1)." + default(DEFAULTS.dropout),
        rich_help_panel=MODEL,
    ),
]
Ensemble = Annotated[
    int | None,
    typer.Option(
        "--ensemble",
        min=1,
        metavar="N",
        help="Networks trained from seeds seed, seed+1, ...; forecasts averaged."
        + default(DEFAULTS.ensemble),
        rich_help_panel=MODEL,
    ),
]
Epochs = Annotated[
    int | None,
    typer.Option(
        "--epochs",
        min=1,
        metavar="N",
        help="Maximum epochs of each network." + default(DEFAULTS.epochs),
        rich_help_panel=TRAINING,
    ),
]
MaxWindowsPerEpoch = Annotated[
    int | None,
    typer.Option(
        "--max-windows-per-epoch",
        min=1,
        metavar="N",
        help="Training windows an epoch visits, drawn afresh each epoch where there are more:"
        " fewer make long series train faster, at some accuracy."
        + default(DEFAULTS.max_windows_per_epoch),
        rich_help_panel=TRAINING,
    ),
]
Loss = Annotated[
    options.Loss | None,
    typer.Option(
        "--loss",
        help="Training loss on the scaled series." + default(DEFAULTS.loss),
        rich_help_panel=TRAINING,
    ),
]
BatchSize = Annotated[
    int | None,
    typer.Option(
        "--batch-size",
        min=1,
        metavar="N",
        help="Windows per batch." + default(DEFAULTS.batch_size),
        rich_help_panel=TRAINING,
    ),
]
Lr = Annotated[
    float | None,
    typer.Option(
        "--lr",
        metavar="X",
        help=f"Adam learning rate, in (0, {MAX_LR:g}]." + default(DEFAULTS.lr),
        rich_help_panel=TRAINING,
    ),
]
Patience = Annotated[
    int | None,
    typer.Option(
        "--patience",
        min=1,
        metavar="N",
        help="Epochs without validation improvement before stopping. \\[default: 8; at "
        "most 10 checks (20,000 windows) when every epoch revisits all the windows; when "
        "epochs sample more, 3 if the first epoch's best was not bettered by 2%, and then "
        "the rate decays towards zero over 6 epochs]",
        rich_help_panel=TRAINING,
    ),
]
ValFraction = Annotated[
    float | None,
    typer.Option(
        "--val-fraction",
        min=0.0,
        metavar="P",
        help="Share of each series' end used for validation (at least one horizon)."
        + default(DEFAULTS.val_fraction),
        rich_help_panel=TRAINING,
    ),
]
Threads = Annotated[
    int | None,
    typer.Option(
        "--threads",
        min=0,
        metavar="N",
        help="CPU threads for training; 0: OMP_NUM_THREADS, else one." + default(DEFAULTS.threads),
        rich_help_panel=TRAINING,
    ),
]
Seed = Annotated[
    int | None,
    typer.Option(
        "--seed",
        metavar="N",
        help=f"Random seed, 0 to 2^{MAX_SEED.bit_length()}-1." + default(DEFAULTS.seed),
        rich_help_panel=TRAINING,
    ),
]
Device = Annotated[
    options.Device | None,
    typer.Option(
        "--device", help="Where to train." + default(DEFAULTS.device), rich_help_panel=TRAINING
    ),
]
Precision = Annotated[
    options.Precision | None,
    typer.Option(
        "--precision",
        help="bf16 autocast (GPU only)." + default(DEFAULTS.precision),
        rich_help_panel=TRAINING,
    ),
]
MaxTime = Annotated[
    str | None,
    typer.Option(
        "--max-time",
        metavar="DURATION",
        help="Stop training when this much time has passed (90s, 10m, 1h30m), keeping "
        "the best weights so far." + default("no limit"),
        rich_help_panel=TRAINING,
    ),
]
Nproc = Annotated[
    int,
    typer.Option(
        "--nproc",
        min=1,
        metavar="N",
        help="Train with N local processes through PyTorch's launcher (what torchrun "
        "--nproc-per-node N does): whole networks of the ensemble on different "
        "processes; the rest on one process with the idle processes' threads, or, on "
        "GPUs and several machines, data parallel with --batch-size split between "
        "them. Every flag means what it means in one process; each process uses --threads "
        "threads (keep N x threads within the cores). See docs/distributed.md for torchrun "
        "across machines." + default(1),
        rich_help_panel=TRAINING,
    ),
]
From = Annotated[
    Path | None,
    typer.Option(
        "--from",
        metavar="MODEL",
        help="Update MODEL with DATA instead of training anew: its networks, shape and "
        "settings are kept, DATA may hold only the rows that came after MODEL's, and "
        "only " + ", ".join("--" + k.replace("_", "-") for k in UPDATABLE) + " apply "
        "(any other flag that differs from MODEL's is refused). -o MODEL replaces it "
        "once the update succeeded.",
        rich_help_panel=TRAINING,
    ),
]
ConfigFile = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        help="TOML file with the same keys as the flags; flags win.",
        rich_help_panel=TRAINING,
    ),
]
Format = Annotated[
    options.SummaryFormat,
    typer.Option("--format", help="json: a summary on standard output.", rich_help_panel=OUTPUT),
]
