"""`runcard import` of TensorBoard event files written by the real `torch.utils.tensorboard.SummaryWriter`."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorboard")
pytest.importorskip("torch")

from torch.utils.tensorboard import SummaryWriter

from runcard import list_runs
from runcard.errors import InputError
from runcard.importers import import_path

HPARAMS = {"lr": 0.01, "optimizer": "adam", "layers": 2}


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RUNCARD_ARTIFACTS", str(tmp_path / "store" / "artifacts"))
    monkeypatch.setenv("RUNCARD_JOURNAL", str(tmp_path / "store" / "journal"))
    return f"sqlite:///{tmp_path / 'store' / 'runcard.db'}"


def write_logs(root: Path) -> dict[str, dict[str, list[tuple[int, float, float]]]]:
    """Two writer folders, as PyTorch Lightning lays them out (lightning_logs/version_N/); returns what was
    written: per folder, per tag, (step, value, wall time at the call)."""
    written: dict[str, dict[str, list[tuple[int, float, float]]]] = {"version_0": {}, "version_1": {}}
    writer = SummaryWriter(str(root / "version_0"))
    for step in range(12):
        for tag, value, every in (("train/loss", 2.0 / (step + 1), 1), ("val/acc", 0.5 + 0.03 * step, 3)):
            if step % every == 0:
                writer.add_scalar(tag, value, step)
                written["version_0"].setdefault(tag, []).append((step, value, time.time()))
    writer.add_hparams(HPARAMS, {"hparam/val_acc": 0.8})  # into version_0/<time>/, torch's default
    writer.close()
    writer = SummaryWriter(str(root / "version_1"))
    for step in range(0, 50, 10):
        writer.add_scalar("train/loss", 1.0 - step / 100, step)
        written["version_1"].setdefault("train/loss", []).append((step, 1.0 - step / 100, time.time()))
    writer.add_histogram("weights", np.arange(10.0), 0)
    writer.close()
    return written


def test_event_files_are_one_run_per_folder_with_every_point(tmp_path: Path, store_url: str) -> None:
    root = tmp_path / "lightning_logs"
    written = write_logs(root)
    report = import_path(root, store_url)
    assert report.kind == "tensorboard" and len(report.imported) == 2
    runs = {r.name: r for r in list_runs(store=store_url)}
    assert sorted(runs) == ["version_0", "version_1"]
    assert {r.project for r in runs.values()} == {"lightning_logs"}
    assert runs["version_0"].source == f"tb:{(root / 'version_0').resolve()}"
    store_points = {name: {key: run.history(key) for key in run.metric_keys()} for name, run in runs.items()}
    for name, tags in written.items():
        assert set(store_points[name]) == set(tags)
        for tag, points in tags.items():
            # TensorBoard keeps scalars as float32
            assert store_points[name][tag] == [(step, float(np.float32(value))) for step, value, _ in points]
    from runcard.store import open_store

    store = open_store(store_url)
    for name, tags in written.items():
        run = runs[name]
        for tag, points in tags.items():
            stamps = [p.timestamp for p in _points(store, run.id, tag)]
            assert len(stamps) == len(points)
            assert all(abs(got - wrote) < 1.0 for got, (_, _, wrote) in zip(stamps, points, strict=True))
        first = min(p[2] for pts in tags.values() for p in pts)
        assert abs(run.created_at - first) < 1.0

    # add_hparams' sub-folder is read into its run: hparams as config, its metric_dict as summary values
    assert runs["version_0"].config == {"lr": 0.01, "optimizer": "adam", "layers": 2.0}
    assert runs["version_0"].summary["hparam/val_acc"] == float(np.float32(0.8))
    assert runs["version_1"].config == {}
    assert any("histograms data not read" in w for w in report.warnings)
    assert import_path(root, store_url).imported == []


def _points(store: object, run_id: str, key: str) -> list:
    """The stored points of one series with their timestamps (the store's own table)."""
    from sqlalchemy import select

    from runcard.store import schema

    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(select(schema.metrics).where(schema.metrics.c.run_id == run_id,
                                                         schema.metrics.c.key == key)
                            .order_by(schema.metrics.c.step, schema.metrics.c.seq)).all()
    return list(rows)


def test_event_files_without_tensorboard_name_the_folder_and_the_extra(
        tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "logs"
    write_logs(root)
    for name in [m for m in sys.modules if m == "tensorboard" or m.startswith("tensorboard.")] + ["tensorboard"]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(InputError, match=r"logs/version_0: holds TensorBoard event files.*runcard\[tensorboard\]"):
        import_path(root, store_url)
