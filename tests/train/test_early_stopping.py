"""EarlyStopping: best tracking, min_delta, NaN and patience."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from runcard.errors import InputError
from runcard.train.early_stopping import EarlyStopping


def run(stop: EarlyStopping, values: list[float]) -> list[bool]:
    return [stop.update(v, epoch=e) for e, v in enumerate(values)]


def test_max_mode() -> None:
    stop = EarlyStopping(patience=2)
    assert stop.best is None and stop.best_epoch is None and not stop.should_stop
    assert run(stop, [0.5, 0.6, 0.55, 0.6]) == [True, True, False, False]
    assert (stop.best, stop.best_epoch, stop.bad_epochs, stop.should_stop) == (0.6, 1, 2, True)


def test_min_mode_resets_bad_epochs() -> None:
    stop = EarlyStopping(patience=3, mode="min")
    assert run(stop, [1.0, 1.2, 1.1, 0.9]) == [True, False, False, True]
    assert (stop.best, stop.best_epoch, stop.bad_epochs, stop.should_stop) == (0.9, 3, 0, False)


def test_min_delta() -> None:
    stop = EarlyStopping(patience=5, min_delta=0.05)
    assert run(stop, [0.5, 0.54, 0.55, 0.5501, 0.61]) == [True, False, False, True, True]
    assert stop.best == 0.61
    low = EarlyStopping(patience=5, mode="min", min_delta=0.1)
    assert run(low, [1.0, 0.95, 0.89]) == [True, False, True]


def test_nan_never_improves() -> None:
    stop = EarlyStopping(patience=2)
    assert run(stop, [float("nan"), 0.3, float("nan"), float("nan")]) == [False, True, False, False]
    assert (stop.best, stop.best_epoch, stop.should_stop) == (0.3, 1, True)
    low = EarlyStopping(patience=1, mode="min")
    assert not low.update(float("nan"), epoch=0)
    assert low.best is None and low.should_stop


@pytest.mark.parametrize("kwargs", [{"patience": 0}, {"patience": 2, "mode": "up"},
                                    {"patience": 2, "min_delta": -0.1}])
def test_rejects_bad_settings(kwargs: dict) -> None:
    with pytest.raises(InputError):
        EarlyStopping(**kwargs)
