"""Deterministic pools and stratified splits, exact to the row.

`stratified_split` gives every stratum (a class, or a combination of several label columns) its
share of each split by largest remainders, then fills the splits from a seeded permutation of the
stratum's rows: the same seed and labels always give the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from runcard.errors import InputError


def first_per_class(labels: Sequence[str], quota: Mapping[str, int]) -> np.ndarray:
    """Row indices taking, in row order, the first ``quota[c]`` rows of each class ``c``."""
    taken = dict.fromkeys(quota, 0)
    chosen = []
    for i, label in enumerate(labels):
        if label in taken and taken[label] < quota[label]:
            taken[label] += 1
            chosen.append(i)
    short = {c: (taken[c], quota[c]) for c in quota if taken[c] < quota[c]}
    if short:
        detail = ", ".join(f"{c}: {have} of {want}" for c, (have, want) in short.items())
        raise InputError(f"data.pool.per_class: not enough rows ({detail}); lower the quota or add data.")
    return np.array(chosen, dtype=np.int64)


def _allocate(count: int, sizes: Sequence[int], total: int) -> list[int]:
    """Split ``count`` rows across splits in proportion to ``sizes`` (largest remainders)."""
    exact = [count * s / total for s in sizes]
    base = [int(np.floor(e)) for e in exact]
    order = sorted(range(len(sizes)), key=lambda i: (-(exact[i] - base[i]), i))
    for i in order[: count - sum(base)]:
        base[i] += 1
    return base


def stratified_split(strata: Sequence[Sequence[object]], sizes: Mapping[str, int], seed: int) -> dict[str, np.ndarray]:
    """Split rows into named splits of exactly ``sizes`` rows, stratified jointly on the given
    label columns. Returns split -> sorted row indices."""
    n = len(strata[0]) if strata else 0
    if any(len(column) != n for column in strata):
        raise InputError("split.stratify: the label columns have different lengths.")
    total = sum(sizes.values())
    if total != n:
        raise InputError(f"split.sizes add up to {total} but the pool has {n} rows; make them equal.")
    keys = list(zip(*strata)) if strata else [()] * n
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(tuple(key), []).append(i)
    rng = np.random.default_rng(seed)
    names = list(sizes)
    parts: dict[str, list[int]] = {name: [] for name in names}
    for key in sorted(groups, key=repr):
        rows = np.array(groups[key])[rng.permutation(len(groups[key]))]
        start = 0
        for name, take in zip(names, _allocate(len(rows), [sizes[s] for s in names], total)):
            parts[name].extend(rows[start:start + take].tolist())
            start += take
    _fix_totals(parts, sizes)
    return {name: np.sort(np.array(parts[name], dtype=np.int64)) for name in names}


def _fix_totals(parts: dict[str, list[int]], sizes: Mapping[str, int]) -> None:
    """Per-stratum rounding can leave a split a few rows off its size: move rows from the
    splits with too many to those with too few (deterministically, from the end)."""
    over = [n for n in parts if len(parts[n]) > sizes[n]]
    under = [n for n in parts if len(parts[n]) < sizes[n]]
    for name in under:
        while len(parts[name]) < sizes[name]:
            donor = next(d for d in over if len(parts[d]) > sizes[d])
            parts[name].append(parts[donor].pop())
