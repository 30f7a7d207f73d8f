"""forecaster: a stacked LSTM for time series in CSV files, built for shell pipelines."""

__version__ = "0.2.0"
