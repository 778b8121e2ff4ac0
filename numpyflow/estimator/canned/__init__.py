"""The premade estimators: DNN, linear, wide & deep and baseline, on `canned/head.py`."""
