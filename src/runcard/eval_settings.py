"""`EvalSettings`: how a run's predictions are evaluated (bins, bootstrap, CI level, top-k, primary metric).

The settings belong to the run: taken from the recipe config's ``[evaluation]`` table or from
``start_run(evaluation=...)``, else the documented defaults, and recorded with the run. Every
document reads the evaluation computed with them; a document asked for other settings recomputes
and says so. Two settings with the same `key` give the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from runcard.errors import InputError

#: Metrics a card may lead with (the primary metric of a run).
PRIMARY_METRICS = ("macro_f1", "accuracy", "balanced_accuracy", "weighted_f1", "mcc", "cohen_kappa")


@dataclass(frozen=True)
class EvalSettings:
    """Settings of one evaluation. ``bins``: ECE/MCE and adaptive-ECE bins; ``n_boot``, ``seed`` and
    ``level``: the cell-multinomial bootstrap behind every CI; ``top_k``: top-k accuracies reported (when
    there are more than k classes); ``primary``: the metric a card and a comparison lead with (it changes
    no number, so it is not part of `key`)."""

    bins: int = 15
    n_boot: int = 1000
    seed: int = 0
    level: float = 0.95
    top_k: tuple[int, ...] = (2, 3)
    primary: str = "macro_f1"

    def __post_init__(self) -> None:
        for name in ("bins", "n_boot"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"evaluation.{name}: expected a whole number >= 1, got {value!r}.")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InputError(f"evaluation.seed: expected a whole number >= 0, got {self.seed!r}.")
        if isinstance(self.level, bool) or not isinstance(self.level, (int, float)) or not 0.5 <= self.level < 1:
            raise InputError(f"evaluation.level: expected a confidence level in [0.5, 1), e.g. 0.95; "
                             f"got {self.level!r}.")
        if not all(isinstance(k, int) and not isinstance(k, bool) and k >= 2 for k in self.top_k):
            raise InputError(f"evaluation.top_k: expected whole numbers >= 2 (top-1 is accuracy), "
                             f"got {list(self.top_k)}.")
        if self.primary not in PRIMARY_METRICS:
            raise InputError(f"evaluation.primary = {self.primary!r}: use one of {', '.join(PRIMARY_METRICS)}.")

    @property
    def key(self) -> str:
        """What identifies the numbers these settings give (everything but ``primary``)."""
        ks = ",".join(str(k) for k in self.top_k)
        return f"bins={self.bins}|n_boot={self.n_boot}|seed={self.seed}|level={self.level:g}|top_k={ks}"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["top_k"] = list(self.top_k)
        return out

    def differences(self, other: EvalSettings) -> dict[str, tuple[Any, Any]]:
        """``name -> (self's value, other's value)`` for every setting that differs."""
        if self == other:
            return {}
        mine, theirs = self.to_dict(), other.to_dict()
        return {k: (mine[k], theirs[k]) for k in mine if mine[k] != theirs[k]}

    def replace(self, **changes: Any) -> EvalSettings:
        """These settings with ``changes`` applied (None values ignored: "not given on the command line")."""
        given = {k: v for k, v in changes.items() if v is not None}
        return self if not given else settings_from_mapping({**self.to_dict(), **given}, "settings")


#: The documented defaults.
DEFAULTS = EvalSettings()


def settings_from_mapping(values: Mapping[str, Any], where: str = "evaluation") -> EvalSettings:
    """`EvalSettings` from a mapping (a config's ``[evaluation]`` table, a stored record); unknown keys are
    errors naming ``where``."""
    if not isinstance(values, Mapping):
        raise InputError(f"{where}: expected a table of evaluation settings, got {values!r}.")
    known = {f.name for f in fields(EvalSettings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InputError(f"{where}: unknown evaluation setting(s) {unknown}; known: {sorted(known)}.")
    data = dict(values)
    if "top_k" in data:
        if not isinstance(data["top_k"], (list, tuple)):
            raise InputError(f"{where}.top_k: expected a list of whole numbers, e.g. [2, 3]; got {data['top_k']!r}.")
        data["top_k"] = tuple(data["top_k"])
    if isinstance(data.get("level"), int) and not isinstance(data.get("level"), bool):
        data["level"] = float(data["level"])
    return EvalSettings(**data)


def settings_from_config(config: Mapping[str, Any]) -> EvalSettings:
    """The settings a run's config declares: its ``evaluation`` table; for configs stored before that table
    existed, ``calibration.bins``; else the defaults."""
    table = config.get("evaluation")
    known = {f.name for f in fields(EvalSettings)}
    if isinstance(table, Mapping) and set(table) <= known:  # another tool's "evaluation" table is not ours
        return settings_from_mapping(table, "config evaluation")
    calibration = config.get("calibration")
    if isinstance(calibration, Mapping) and isinstance(calibration.get("bins"), int):
        return EvalSettings(bins=int(calibration["bins"]))
    return DEFAULTS
