"""Read TensorBoard event files (``events.out.tfevents.*``), as written by PyTorch Lightning's default
logger, ``torch.utils.tensorboard.SummaryWriter``, the HF Trainer with tensorboard installed, or Keras.

One run per folder holding event files; its name is the folder's path relative to the imported folder.
What is read, and where it lands:

- scalars (the ``scalars`` plugin: ``add_scalar``, ``tf.summary.scalar``, old-style ``simple_value``) ->
  series, each point with its step and wall time, as TensorBoard shows them (points orphaned by a restart
  that reused steps are dropped, as TensorBoard drops them);
- hparams (the ``hparams`` plugin's session start info) -> config, numbers as numbers, strings and
  booleans as they are;
- torch's ``SummaryWriter.add_hparams`` writes into a sub-folder named by the time (``<logdir>/<time>/``)
  unless given ``run_name``: such a sub-folder (its name a number, holding hparams) is read into its parent
  folder's run, its hparams as config and its scalars (the ``metric_dict``) as summary values;
- the first and last event's wall times -> the run's start and end; other plugins (histograms, images,
  text, graphs) are named in the import's report as not read.

It needs the ``tensorboard`` package (``pip install 'runcard[tensorboard]'``), imported only here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from runcard.errors import InputError
from runcard.importers.records import ImportedRun

EVENT_GLOB = "events.out.tfevents.*"


def event_dirs(path: Path) -> list[Path]:
    """Folders at or under ``path`` that hold event files, sorted."""
    return sorted({p.parent for p in path.rglob(EVENT_GLOB) if p.is_file()})


def _load(folder: Path) -> Any:
    for link in sorted(p for p in folder.glob(EVENT_GLOB) if p.is_symlink()):
        raise InputError(f"{link} is a symbolic link (to {os.readlink(link)}); runcard does not follow links out of "
                         "an imported tree: replace it with the event file itself.")
    try:
        from tensorboard.backend.event_processing import plugin_event_accumulator as pea
    except ImportError:
        raise InputError(f"{folder}: holds TensorBoard event files, and reading them needs the tensorboard "
                         "package: pip install 'runcard[tensorboard]'.") from None
    # 0 = keep every point (the default keeps a sample); other plugins keep the default few.
    acc = pea.EventAccumulator(str(folder), tensor_size_guidance={"scalars": 0, "hparams": 0})
    try:
        acc.Reload()
    except Exception as exc:  # noqa: BLE001 - a corrupt or truncated file, reported with its folder
        raise InputError(f"{folder}: could not read its event files ({type(exc).__name__}: {exc}).") from None
    return acc


def _hparams(acc: Any) -> dict[str, Any]:
    from tensorboard.plugins.hparams import metadata

    try:
        contents = acc.PluginTagToContent(metadata.PLUGIN_NAME)
    except KeyError:
        return {}
    content = contents.get(metadata.SESSION_START_INFO_TAG)
    if content is None:
        return {}
    info = metadata.parse_session_start_info_plugin_data(content)
    out: dict[str, Any] = {}
    for name, value in sorted(info.hparams.items()):
        kind = value.WhichOneof("kind")
        if kind in ("number_value", "string_value", "bool_value"):
            out[name] = getattr(value, kind)
    return out


def _scalars(acc: Any) -> tuple[dict[str, list[tuple[int, float, float]]], list[str]]:
    """Each scalar tag's points (step, value, wall time), and the plugins of the tags not read."""
    from tensorboard.util import tensor_util

    series: dict[str, list[tuple[int, float, float]]] = {}
    skipped: set[str] = set()
    for tag in acc.Tags().get("tensors", []):
        plugin = acc.SummaryMetadata(tag).plugin_data.plugin_name
        if plugin == "scalars":
            series[tag] = [(int(e.step), float(tensor_util.make_ndarray(e.tensor_proto).item()), float(e.wall_time))
                           for e in acc.Tensors(tag)]
        elif plugin != "hparams":
            skipped.add(plugin or "unnamed")
    if acc.Tags().get("graph"):
        skipped.add("graph")
    return series, sorted(skipped)


def _is_hparams_child(folder: Path, acc: Any, runs: dict[Path, ImportedRun]) -> bool:
    """torch's ``add_hparams`` layout: a time-named sub-folder, with hparams, of a folder with event files."""
    try:
        float(folder.name)
    except ValueError:
        return False
    return folder.parent in runs and bool(_hparams(acc))


def _wall_times(series: dict[str, list[tuple[int, float, float]]]) -> list[float]:
    return [ts for points in series.values() for _, _, ts in points]


def read_tensorboard(path: Path, folders: list[Path], project: str | None) -> list[ImportedRun]:
    """One run per folder in ``folders`` (under ``path``), torch's hparams sub-folders merged into their parents."""
    loaded = {folder: _load(folder) for folder in folders}
    runs: dict[Path, ImportedRun] = {}
    children: list[tuple[Path, Any]] = []
    for folder, acc in loaded.items():
        if _is_hparams_child(folder, acc, runs):  # sorted: a parent folder is read before its sub-folders
            children.append((folder, acc))
            continue
        relative = folder.resolve().relative_to(path.resolve()).as_posix()
        record = ImportedRun(source=f"tb:{folder.resolve()}", project=project or path.resolve().name,
                             name=path.resolve().name if relative == "." else relative, config=_hparams(acc))
        record.series, skipped = _scalars(acc)
        record.notes += [f"{folder}: {plugin} data not read (runcard reads scalars and hparams)" for plugin in skipped]
        times = _wall_times(record.series) + _first_event(acc)
        if times:
            record.created_at, record.ended_at = min(times), max(times)
        runs[folder] = record
    for folder, acc in children:
        parent = runs[folder.parent]
        for name, value in _hparams(acc).items():
            parent.config.setdefault(name, value)
        series, _ = _scalars(acc)
        for key, points in series.items():
            parent.summary[key] = points[-1][1]
    return list(runs.values())


def _first_event(acc: Any) -> list[float]:
    try:
        return [float(acc.FirstEventTimestamp())]
    except ValueError:  # no event at all
        return []
