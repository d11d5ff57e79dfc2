"""Read W&B run folders (``wandb/run-<date>-<id>/``, ``wandb/offline-run-<date>-<id>/``).

The run file ``run-<id>.wandb`` is what wandb always writes (offline runs of wandb 0.31 write
nothing else): a LevelDB-style log of ``wandb.proto.wandb_internal_pb2.Record`` messages, decoded
with the wandb package (the ``runcard[wandb]`` extra, imported only here). wandb-core (Go) reads
that log since wandb 0.30, and the Python package no longer has a reader, so the framing is read
here. The text files of synced runs (``files/config.yaml``, ``wandb-summary.json``,
``wandb-metadata.json``) are checked against the run file; without a run file they are all there is.
docs/import.md lists every field and where it lands.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runcard.errors import InputError
from runcard.importers.records import ImportedRun, to_number
from runcard.importers.safe_files import load_json, load_json_lines, load_yaml

BLOCK, HEADER = 32768, 7  # the log's block size and record header size (crc32 u32, length u16, type u8)
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
START_TOLERANCE_S = 60.0  # run file and wandb-metadata.json are stamped at different moments of wandb.init


def wandb_run_dirs(path: Path) -> list[Path]:
    """W&B run folders at ``path``: the folder itself, its children, or ``path/wandb``'s children."""
    def is_run(d: Path) -> bool:
        return (d.is_dir() and d.name.startswith(("run-", "offline-run-"))
                and ((d / "files").is_dir() or any(d.glob("run-*.wandb"))))

    if is_run(path):
        return [path]
    for base in (path, path / "wandb"):
        if base.is_dir():
            runs = sorted((d for d in base.iterdir() if is_run(d)), key=lambda d: d.name.removeprefix("offline-"))
            if runs:
                return runs
    return []


def read_wandb(run_dirs: list[Path], project: str | None, default_project: str) -> list[ImportedRun]:
    """One record per run folder: from its run file where there is one, else from its text files."""
    records = []
    for run_dir in run_dirs:
        text = _text_files(run_dir / "files")
        linked = sorted(p for p in run_dir.glob("run-*.wandb") if p.is_symlink())
        run_files = sorted(p for p in run_dir.glob("run-*.wandb") if not p.is_symlink())
        record_type = _record_type(run_dir, run_files, text)
        if record_type is None:
            record = _from_text(run_dir, text, project, default_project)
            if run_files:
                record.notes.append(f"{run_files[0].name} was not read (read from files/ only): "
                                    "pip install 'runcard[wandb]' to read it")
        else:
            record = _from_run_file(run_dir, run_files[0], record_type, project, default_project)
            _check_text(record, text, project)
            record.notes += [f"{extra.name} was not read: only {run_files[0].name} was" for extra in run_files[1:]]
        record.notes += [f"skipped {p}: a symbolic link, which runcard does not follow" for p in linked]
        records.append(record)
    return records


def _record_type(run_dir: Path, run_files: list[Path], text: dict[str, Any]) -> Any:
    """wandb's ``Record`` message class and protobuf's decode error, or None where the text files are read."""
    if not run_files:
        return None
    try:
        from google.protobuf.message import DecodeError
        from wandb.proto.wandb_internal_pb2 import Record  # type: ignore[attr-defined]  # generated at build
    except ImportError:
        if text["config"] is not None and text["summary"] is not None:
            return None
        raise InputError(f"{run_dir}: a W&B run folder with only its run file {run_files[0].name}, which needs the "
                         "wandb package to read: pip install 'runcard[wandb]'.") from None
    return Record, DecodeError


def _frames(path: Path) -> tuple[list[bytes], str | None]:
    """The run file's records as bytes, and a note where it ends early (a process that was killed)."""
    data = path.read_bytes()
    if data[:4] != b":W&B" or len(data) < HEADER or data[6] != 0:
        raise InputError(f"{path}: not a W&B run file of a known version (expected the ':W&B' header, version 0).")
    frames: list[bytes] = []
    pending: bytes | None = None
    pos = HEADER
    while pos < len(data):
        room = BLOCK - pos % BLOCK
        if room < HEADER or data[pos:pos + HEADER] == bytes(HEADER):  # block trailer or zero padding
            pos += room
            continue
        crc, length, kind = struct.unpack_from("<IHB", data, pos)
        chunk = data[pos + HEADER:pos + HEADER + length]
        if len(chunk) < length or zlib.crc32(chunk, zlib.crc32(bytes([kind]))) != crc or kind not in (1, 2, 3, 4):
            return frames, f"{path.name} is cut short or damaged at byte {pos} of {len(data)}; what follows was not read"
        pos += HEADER + length
        if kind == FULL:
            frames.append(chunk)
        elif kind == FIRST:
            pending = chunk
        elif pending is not None:
            pending += chunk
            if kind == LAST:
                frames.append(pending)
                pending = None
    if pending is not None:
        return frames, f"{path.name} ends inside a record (wandb stopped mid-write); its last record was not read"
    return frames, None


def _value(item: Any) -> Any:
    """A config, summary or history item's value (history items may carry it typed instead of as JSON)."""
    kind = item.WhichOneof("value") if "value" in item.DESCRIPTOR.oneofs_by_name else None
    if kind == "json":
        return json.loads(item.json)
    if kind is not None:
        return None if kind == "none" else getattr(item, kind)
    return json.loads(item.value_json) if item.value_json else None


def _put(target: dict[str, Any], item: Any, value: Any) -> dict[str, Any]:
    """Set an item's value at its (nested) key: ``nested_key`` ``["val", "acc"]`` is ``target["val"]["acc"]``."""
    path = list(item.nested_key) or [item.key]
    for part in path[:-1]:
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    target[path[-1]] = value
    return target


def _numbers(values: dict[str, Any], media: set[str]) -> dict[str, float]:
    """Numeric values by ``a/b`` key; keys starting with ``_`` dropped, media objects (``_type``) into ``media``."""
    out: dict[str, float] = {}
    for key, value in values.items():
        if key.startswith("_"):
            continue
        if isinstance(value, dict):
            if "_type" in value:
                media.add(f"{key} ({value['_type']})")
                continue
            out.update({f"{key}/{k}": v for k, v in _numbers(value, media).items()})
        elif (number := to_number(value)) is not None:
            out[key] = number
    return out


def _scan(run_file: Path, record_type: Any) -> dict[str, Any]:
    """The run file's records folded into final values: run fields, config, summary, history rows, exit."""
    (message, decode_error), (frames, cut_note) = record_type, _frames(run_file)
    found: dict[str, Any] = {"run": {}, "config": {}, "summary": {}, "rows": [], "exit": None,
                             "notes": [cut_note] if cut_note else []}
    undecodable = 0
    for frame in frames:
        rec = message()
        try:
            rec.ParseFromString(frame)
            _fold(found, rec)
        except (decode_error, ValueError, RecursionError):  # ValueError: a value's JSON is malformed
            undecodable += 1
    found["notes"] += [f"{undecodable} records of {run_file.name} could not be decoded"] if undecodable else []
    if not found["run"]:
        found["notes"].append(f"{run_file.name} holds no run record: project, name and start time are unknown "
                              "(wandb had not written it out)")
    return found


def _fold(found: dict[str, Any], rec: Any) -> None:
    """Fold one decoded record into ``found``."""
    kind = rec.WhichOneof("record_type")
    if kind == "run":
        found["run"].update({f.name: v for f, v in rec.run.ListFields() if f.name not in ("config", "summary")})
        _apply(found["config"], rec.run.config)
        _apply(found["summary"], rec.run.summary)
    elif kind in ("config", "summary"):
        _apply(found[kind], getattr(rec, kind))
    elif kind == "history":
        row: dict[str, Any] = {}
        for item in rec.history.item:
            _put(row, item, _value(item))
        found["rows"].append((_step(row.get("_step"), rec.history.step.num), row))
    elif kind == "exit":
        found["exit"] = rec.exit


def _step(value: Any, default: int) -> int:
    """A history row's ``_step`` as an integer, else ``default`` (its position)."""
    number = to_number(value)
    return int(number) if number is not None and math.isfinite(number) and number == int(number) else default


def _from_run_file(run_dir: Path, run_file: Path, record_type: Any, project: str | None,
                   default_project: str) -> ImportedRun:
    found = _scan(run_file, record_type)
    run, exit_record = found["run"], found["exit"]
    run_id = run.get("run_id") or run_dir.name.rsplit("-", 1)[-1]
    start = run["start_time"].seconds + run["start_time"].nanos / 1e9 if "start_time" in run else None
    record = ImportedRun(source=f"wandb:{run_id}", project=project or run.get("project") or default_project,
                         name=run.get("display_name") or run_id, created_at=start, notes=found["notes"],
                         config={k: v for k, v in found["config"].items() if not k.startswith("_")})
    tags = {"wandb_id": run_id, "notes": run.get("notes"), "group": run.get("run_group"),
            "job_type": run.get("job_type"), "wandb_tags": ",".join(run.get("tags", []))}
    record.tags = {k: str(v) for k, v in tags.items() if v}
    media: set[str] = set()
    runtimes = [float(exit_record.runtime) if exit_record else 0.0]
    for step, row in found["rows"]:
        for key, value in _numbers(row, media).items():
            record.add_point(key, step, value, to_number(row.get("_timestamp")))
        runtimes.append(to_number(row.get("_runtime")) or 0.0)
    record.summary = _numbers(found["summary"], media)
    record.notes += [f"not numbers, left out: {', '.join(sorted(media))}"] if media else []
    record.ended_at = start + max(runtimes) if start is not None else None
    if exit_record is None:
        record.status, record.error = "crashed", "the run file has no exit record: the process ended before wandb.finish()"
    else:
        record.tags["exit_code"] = str(exit_record.exit_code)
        if exit_record.exit_code != 0:
            record.status, record.error = "failed", f"the W&B run exited with code {exit_record.exit_code}"
    return record


def _apply(target: dict[str, Any], message: Any) -> None:
    """Apply a config or summary record's updates and removals to ``target``."""
    for item in message.update:
        _put(target, item, _value(item))
    for item in message.remove:
        _put(target, item, None).pop((list(item.nested_key) or [item.key])[-1])


def _text_files(files: Path) -> dict[str, Any]:
    """What the text files say (None for a missing file): config, numeric summary, history rows, metadata."""
    text: dict[str, Any] = {"config": None, "summary": None, "history": None, "meta": {}}
    if (files / "config.yaml").is_file():
        raw = _mapping(load_yaml(files / "config.yaml") or {}, files / "config.yaml")
        text["config"] = {k: v.get("value") if isinstance(v, dict) and "value" in v else v
                          for k, v in raw.items() if not str(k).startswith("_")}
    if (files / "wandb-summary.json").is_file():
        text["summary"] = _numbers(_mapping(load_json(files / "wandb-summary.json"), files / "wandb-summary.json"),
                                   set())
    if (files / "wandb-history.jsonl").is_file():
        text["history"] = load_json_lines(files / "wandb-history.jsonl")
    if (files / "wandb-metadata.json").is_file():
        text["meta"] = _mapping(load_json(files / "wandb-metadata.json"), files / "wandb-metadata.json")
    return text


def _mapping(value: Any, path: Path) -> dict[str, Any]:
    """``value`` when it is a mapping (what wandb writes), else an error naming the file."""
    if not isinstance(value, dict):
        raise InputError(f"{path}: expected a mapping of keys to values (as wandb writes), found a "
                         f"{type(value).__name__}; restore the file wandb wrote or remove it.")
    return value


def _from_text(run_dir: Path, text: dict[str, Any], project: str | None, default_project: str) -> ImportedRun:
    run_id = run_dir.name.rsplit("-", 1)[-1]
    finished = text["summary"] is not None
    record = ImportedRun(
        source=f"wandb:{run_id}", project=project or str(text["meta"].get("project") or default_project),
        name=run_id, config=text["config"] or {}, created_at=_utc(text["meta"].get("startedAt")),
        tags={"wandb_id": run_id}, summary=text["summary"] or {}, status="finished" if finished else "failed",
        error=None if finished else "W&B run folder has no wandb-summary.json: the run did not finish",
    )
    media: set[str] = set()
    for i, row in enumerate(text["history"] or []):
        for key, value in _numbers(row, media).items():
            record.add_point(key, _step(row.get("_step"), i), value, to_number(row.get("_timestamp")))
    record.notes += [f"not numbers, left out: {', '.join(sorted(media))}"] if media else []
    return record


def _check_text(record: ImportedRun, text: dict[str, Any], project: str | None) -> None:
    """Notes where a synced run's text files disagree with its run file (the run file's values are kept)."""
    if text["config"] is not None:
        differ = sorted(k for k in set(text["config"]) | set(record.config)
                        if text["config"].get(k, ...) != record.config.get(k, ...))
        record.notes += [f"files/config.yaml disagrees with the run file on: {', '.join(differ)}"] if differ else []
    if text["summary"]:  # offline runs of wandb 0.17 write a summary with only _wandb.runtime: nothing to check
        keys = set(text["summary"]) | set(record.summary)
        differ = sorted(k for k in keys if k not in text["summary"] or k not in record.summary
                        or not math.isclose(text["summary"][k], record.summary[k], rel_tol=1e-9, abs_tol=0.0))
        record.notes += [f"files/wandb-summary.json disagrees with the run file on: {', '.join(differ)}"] if differ else []
    started = _utc(text["meta"].get("startedAt"))
    if started is not None and (record.created_at is None or abs(started - record.created_at) > START_TOLERANCE_S):
        run_file = datetime.fromtimestamp(record.created_at, UTC).isoformat() if record.created_at else "unknown"
        record.notes.append(f"files/wandb-metadata.json startedAt {text['meta']['startedAt']} (read as UTC) "
                            f"disagrees with the run file's start time {run_file}")
    if project is None and text["meta"].get("project") and text["meta"]["project"] != record.project:
        record.notes.append(f"files/wandb-metadata.json names project {text['meta']['project']!r}")


def _utc(text: Any) -> float | None:
    """An ISO time as seconds since the epoch; wandb writes UTC, so a time without an offset is UTC."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
