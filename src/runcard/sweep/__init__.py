"""Hyper-parameter sweeps over recipe configs: `runcard sweep SWEEP_TOML`.

A sweep file names a base recipe config and a space of config keys; the sweep draws points (grid, random or
Optuna TPE), runs each once per seed in parallel workers (local processes or Ray tasks) into one store, tags
every run with the sweep id, and is summarised like any set of runs (docs/sweeps.md). Optuna and Ray are
imported only when a sweep uses them.
"""

from __future__ import annotations

from runcard.sweep.runner import SweepInterrupted, SweepResult, TrialRecord, new_sweep_id, run_sweep
from runcard.sweep.space import (
           Choices,
           Range,
           Sweep,
           grid_points,
           load_sweep,
           parse_sweep,
           random_points,
)

__all__ = ["Choices", "Range", "Sweep", "SweepInterrupted", "SweepResult", "TrialRecord", "grid_points",
           "load_sweep", "new_sweep_id", "parse_sweep", "random_points", "run_sweep"]
