"""Training helpers for imbalanced, multi-task transformer classifiers (needs the `train` extra).

Import the modules you need; this package imports nothing at import time, so the core stays
importable without torch:

- ``losses``: focal loss with class weights and label smoothing, R-Drop's symmetric KL.
- ``class_weights``: per-class loss weights from class counts (numpy only).
- ``sampler``: per-row sampling weights and a seeded ``WeightedRandomSampler``.
- ``optim``: layer-wise learning-rate decay parameter groups and linear warmup.
- ``early_stopping``: patience-based early stopping on a validation metric.
- ``heads``: token pooling, classifier heads and a shared-encoder multi-task model.
"""
