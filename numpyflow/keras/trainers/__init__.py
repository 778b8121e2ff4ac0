"""Training: compile/fit/evaluate/predict (`Trainer`), the epoch iterator and data adapters."""
