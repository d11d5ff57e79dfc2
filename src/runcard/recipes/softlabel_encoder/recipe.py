"""Soft-label learning: a head (over a frozen or fine-tuned encoder) trained to match human label
distributions, tracked end to end.

Frozen mode encodes every text once (sentence embeddings, L2-normalised; a pair becomes
``[u, v, |u - v|, u * v]``) and caches the matrix under a hash of the encoder, the texts and the
settings, so a sweep of many heads pays for the encoder once. Fine-tune mode trains the encoder
with the head on the pair encoded jointly. Either way the best epoch (by the early-stopping metric)
is logged as a checkpoint, reloaded from the store by hash, and every split is predicted from it
with the human distributions as ``target_<class>`` columns, so the evaluation reports KL, JS and
agreement with the human majority. Needs the `encoders` extra.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from runcard.data.atomic import atomic_path
from runcard.errors import InputError
from runcard.metrics.divergence import js_distance_rows, kl_rows
from runcard.recipes.encoders import EpochLoss, Tokens, load_encoder, modules, resolve_encoder
from runcard.recipes.progress import Reporter
from runcard.recipes.results import RecipeResult, write_card
from runcard.recipes.softlabel_encoder.config import SoftConfig
from runcard.recipes.softlabel_encoder.data import SoftDataset, load_soft
from runcard.runs import load_checkpoint
from runcard.store import Store
from runcard.tracking import ActiveRun, start_run
from runcard.train.early_stopping import EarlyStopping


def _tree_digest(folder: Path) -> str:
    """sha256 over the files of an encoder folder (names and bytes): the cache key's encoder identity."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(folder)).encode())
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def feature_key(folder: Path, config: SoftConfig, dataset: SoftDataset) -> str:
    """Hash of everything the frozen features depend on."""
    digest = hashlib.sha256()
    digest.update(_tree_digest(folder).encode())
    digest.update(json.dumps({"max_length": config.encoder.max_length, "pooling": config.encoder.pooling,
                              "pair": dataset.second is not None, "version": 1}).encode())
    for text in dataset.first + (dataset.second or []):
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def embed(tokenizer: Any, encoder: Any, texts: list[str], *, max_length: int, pooling: str, batch_size: int,
          say: Reporter, label: str) -> np.ndarray:
    """L2-normalised sentence embeddings ``(N, H)``, batched by length."""
    torch, _ = modules()
    from runcard.train.heads import pool

    encoder.eval()
    order = np.argsort([len(t) for t in texts], kind="stable")
    out = np.empty((len(texts), int(encoder.config.hidden_size)), dtype=np.float32)
    with say.progress(label, total=len(texts)) as bar, torch.no_grad():
        for start in range(0, len(texts), batch_size):
            rows = order[start:start + batch_size]
            batch = tokenizer([texts[i] for i in rows], truncation=True, max_length=max_length, padding=True,
                              return_tensors="pt")
            hidden = encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                             output_hidden_states=True).hidden_states
            vectors = pool(hidden, batch["attention_mask"], "cls" if pooling == "cls" else "mean")
            out[rows] = torch.nn.functional.normalize(vectors, dim=1).numpy()
            bar.advance(len(rows))
    return out


def frozen_features(config: SoftConfig, folder: Path, dataset: SoftDataset, say: Reporter) -> tuple[np.ndarray, str]:
    """The feature matrix of every item, from the cache when an identical one was computed before."""
    key = feature_key(folder, config, dataset)
    cache = Path(config.encoder.cache_dir) / f"{key}.npy"
    if cache.is_file():
        say.line(f"frozen features: cached ({cache})")
        return np.load(cache), key
    tokenizer, encoder = load_encoder(folder)
    enc = config.encoder
    u = embed(tokenizer, encoder, dataset.first, max_length=enc.max_length, pooling=enc.pooling,
              batch_size=enc.batch_size, say=say, label="encoding texts")
    if dataset.second is None:
        features = u
    else:
        v = embed(tokenizer, encoder, dataset.second, max_length=enc.max_length, pooling=enc.pooling,
                  batch_size=enc.batch_size, say=say, label="encoding second texts")
        features = np.concatenate([u, v, np.abs(u - v), u * v], axis=1)
    with atomic_path(cache) as tmp, tmp.open("wb") as fh:
        np.save(fh, features)
    say.line(f"frozen features: {features.shape[0]:,} x {features.shape[1]:,}, cached in {cache}")
    return features, key


@dataclass
class Inputs:
    """What the model reads per row: a feature matrix (frozen) or token ids (fine-tune)."""

    features: Any = None  # torch tensor (N, D)
    tokens: Tokens | None = None

    def batch(self, rows: np.ndarray) -> Any:
        return self.features[rows] if self.tokens is None else self.tokens.batch(rows)


def _forward(model: Any, inputs: Inputs, rows: np.ndarray) -> Any:
    if inputs.tokens is None:
        return model(inputs.batch(rows))
    ids, mask = inputs.batch(rows)
    return model(ids, mask)["label"]


def build_model(config: SoftConfig, k: int, in_dim: int | None, encoder: Any = None) -> Any:
    from runcard.train.heads import ClassifierHead, MultiTaskModel

    h = config.head
    if encoder is None:
        return ClassifierHead(int(in_dim or 0), k, depth=h.depth, hidden=h.hidden, dropout=h.dropout)
    return MultiTaskModel(encoder, {"label": k}, pooling=config.encoder.pooling, depth=h.depth, hidden=h.hidden,
                          dropout=h.dropout)


def run_softlabel(config: SoftConfig, base: Path, store: Store, *, reporter: Reporter | None = None) -> RecipeResult:
    """Run the soft-label experiment of ``config`` (paths relative to ``base``) into ``store``."""
    torch, _ = modules()
    say = reporter or Reporter()
    folder = resolve_encoder(config.encoder.path, base)
    exp = config.experiment
    tags = {"recipe": exp.recipe, "seed": str(exp.seed), "encoder": config.encoder.path, "encoder_dir": str(folder),
            "mode": config.encoder.mode, "config_dir": str(base), **exp.tags}
    with start_run(exp.project, exp.name, config=config.model_dump(mode="json"), tags=tags, store=store,
                   evaluation=config.evaluation.settings()) as run:
        with run.stage("data"):
            dataset = load_soft(config.data, config.split, base)
            k = len(dataset.classes)
            say.table("rows per split and majority label", {
                s: dict(zip(dataset.classes, np.bincount(dataset.majority[r], minlength=k).tolist()))
                for s, r in dataset.splits.items()})
        torch.manual_seed(exp.seed)
        torch.set_num_threads(config.train.threads)
        with run.stage("features" if config.encoder.mode == "frozen" else "tokenize"):
            if config.encoder.mode == "frozen":
                matrix, key = frozen_features(config, folder, dataset, say)
                inputs = Inputs(features=torch.from_numpy(matrix))
                model = build_model(config, k, matrix.shape[1])
                tokenizer = None
                run.log_metric("features/dim", matrix.shape[1], step=0)
            else:
                tokenizer, encoder = load_encoder(folder)
                encoded = tokenizer(dataset.first, dataset.second, truncation=True,
                                    max_length=config.encoder.max_length, padding=False)
                inputs = Inputs(tokens=Tokens([list(x) for x in encoded["input_ids"]], int(tokenizer.pad_token_id or 0)))
                model = build_model(config, k, None, encoder)
                key = ""
        with run.stage("train"):
            n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
            run.log_metric("model/n_parameters", n_params, step=0)
            say.line(f"{config.encoder.mode} encoder ({config.encoder.path}); {n_params:,} trainable parameters; "
                     f"{len(dataset.splits['train']):,} training items")
            best = train(config, run, model, inputs, dataset, say)
        with run.stage("checkpoint"):
            sha = save_checkpoint(run, model, tokenizer, config, k, key, step=best)
            del model
        with run.stage("evaluate"):
            predict_from_store(config, run, store, dataset, inputs, sha)
            metrics = soft_scores(run)
    say.line(f"run {run.id} finished: test KL {metrics['test/kl']:.4f}, JS distance {metrics['test/js_distance']:.4f}, "
             f"accuracy (human majority) {metrics['test/accuracy']:.4f}")
    return write_card(store, run.id, out_dir=config.report.out_dir, html=config.report.html, metrics=metrics)


def _val_scores(model: Any, inputs: Inputs, dataset: SoftDataset, config: SoftConfig) -> dict[str, float]:
    torch, _ = modules()
    from runcard.train.losses import soft_label_loss

    rows = dataset.splits["val"]
    logits = predict(model, inputs, rows, config)
    probs = torch.softmax(torch.from_numpy(logits), dim=1).numpy()
    target = dataset.targets[rows]
    fit = soft_label_loss(torch.from_numpy(logits), torch.from_numpy(target))["fit"]
    return {"val/loss": float(fit), "val/kl": float(kl_rows(target, probs).mean()),
            "val/js_distance": float(js_distance_rows(target, probs).mean()),
            "val/accuracy": float(np.mean(probs.argmax(1) == target.argmax(1)))}


def predict(model: Any, inputs: Inputs, rows: np.ndarray, config: SoftConfig, batch_size: int = 128) -> np.ndarray:
    """Logits already divided by the loss temperature (the model's predictive distribution is their softmax)."""
    torch, _ = modules()
    model.eval()
    with torch.no_grad():
        parts = [_forward(model, inputs, rows[start:start + batch_size]).double().numpy()
                 for start in range(0, len(rows), batch_size)]
    return np.concatenate(parts) / config.loss.temperature


def train(config: SoftConfig, run: ActiveRun, model: Any, inputs: Inputs, dataset: SoftDataset, say: Reporter) -> int:
    """Train in place; leave the best epoch's weights in ``model``; return that epoch."""
    torch, _ = modules()
    from runcard.train.losses import soft_label_loss
    from runcard.train.optim import linear_warmup_scheduler

    cfg, loss_cfg = config.train, config.loss
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr,
                                  weight_decay=cfg.weight_decay)
    rows_all = dataset.splits["train"]
    steps = -(-len(rows_all) // cfg.batch_size) * cfg.epochs
    scheduler = linear_warmup_scheduler(optimizer, steps, cfg.warmup_ratio)
    targets = torch.from_numpy(dataset.targets)
    stopper = EarlyStopping(cfg.early_stopping.patience, "min")
    best_state = None
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        order = rows_all[torch.randperm(len(rows_all), generator=torch.Generator().manual_seed(
            config.experiment.seed * 1000 + epoch)).numpy()]
        epoch_loss = EpochLoss()
        with say.progress(f"epoch {epoch}/{cfg.epochs}", total=len(order)) as bar:
            for start in range(0, len(order), cfg.batch_size):
                rows = order[start:start + cfg.batch_size]
                terms = soft_label_loss(_forward(model, inputs, rows), targets[rows],
                                        temperature=loss_cfg.temperature, label_smoothing=loss_cfg.label_smoothing,
                                        entropy_reg=loss_cfg.entropy_reg, max_suppression=loss_cfg.max_suppression,
                                        focal_gamma=loss_cfg.focal_gamma)
                optimizer.zero_grad()
                terms["total"].backward()
                if cfg.grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                optimizer.step()
                scheduler.step()
                bar.advance(len(rows), loss=epoch_loss.add(terms, len(rows)))
        means = epoch_loss.means()
        run.log_loss_terms({n: v for n, v in means.items() if n != "total"}, step=epoch)
        val = _val_scores(model, inputs, dataset, config)
        run.log_metrics({"train/loss": means["total"], **val}, step=epoch)
        improved = stopper.update(val[cfg.early_stopping.metric], epoch)
        if improved:
            best_state = copy.deepcopy(model.state_dict())
        say.line(f"epoch {epoch}: train loss {means['total']:.4f}, val KL {val['val/kl']:.4f}, JS distance "
                 f"{val['val/js_distance']:.4f}, accuracy {val['val/accuracy']:.4f}" + (" best so far" if improved else ""))
        if stopper.should_stop:
            say.line(f"early stopping: {cfg.early_stopping.metric} has not improved for {stopper.bad_epochs} epochs")
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    best = stopper.best_epoch or cfg.epochs
    run.log_metric("train/best_epoch", best, step=best)
    return best


def save_checkpoint(run: ActiveRun, model: Any, tokenizer: Any, config: SoftConfig, k: int, feature_key: str, *,
                    step: int | None = None) -> str:
    torch, _ = modules()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "softlabel_encoder"
        folder.mkdir()
        shape = {"mode": config.encoder.mode, "classes": k, "head": config.head.model_dump(),
                 "temperature": config.loss.temperature, "pooling": config.encoder.pooling,
                 "encoder_source": config.encoder.path, "feature_key": feature_key}
        if config.encoder.mode == "frozen":
            shape["in_dim"] = _in_dim(model)
            torch.save(model.state_dict(), folder / "head.pt")
        else:
            model.encoder.save_pretrained(folder / "encoder")
            tokenizer.save_pretrained(folder / "encoder")
            torch.save(model.heads.state_dict(), folder / "head.pt")
        (folder / "model.json").write_text(json.dumps(shape, indent=2))
        return run.log_checkpoint(folder, step=step)


def _in_dim(head: Any) -> int:
    first = next(m for m in head.modules() if m.__class__.__name__ == "Linear")
    return int(first.in_features)


def load_predictor(path: Path, config: SoftConfig) -> Any:
    """Rebuild the model from a checkpoint folder written by `save_checkpoint`."""
    torch, transformers = modules()
    if not (path / "model.json").is_file() or not (path / "head.pt").is_file():
        raise InputError(f"checkpoint {path} lacks model.json or head.pt; it was not written by this recipe.")
    shape = json.loads((path / "model.json").read_text())
    if shape["mode"] == "frozen":
        model = build_model(config, shape["classes"], shape["in_dim"])
        model.load_state_dict(torch.load(path / "head.pt", weights_only=True))
    else:
        encoder = transformers.AutoModel.from_pretrained(path / "encoder", local_files_only=True)
        model = build_model(config, shape["classes"], None, encoder)
        model.heads.load_state_dict(torch.load(path / "head.pt", weights_only=True))
    model.eval()
    return model


def predict_from_store(config: SoftConfig, run: ActiveRun, store: Store, dataset: SoftDataset, inputs: Inputs,
                       sha: str) -> None:
    """Reload the checkpoint from the store (re-hashed) and log every split's predictions, targets included
    (each evaluated once, with the run's settings, as it is logged)."""
    model = load_predictor(load_checkpoint(run.id, store=store), config)
    for split, rows in dataset.splits.items():
        logits = predict(model, inputs, rows, config)
        target = dataset.targets[rows]
        run.log_predictions(split, target.argmax(1), logits=logits, classes=list(dataset.classes),
                            ids=[dataset.ids[i] for i in rows], texts=dataset.texts(rows), targets=target,
                            checkpoint=sha)


def soft_scores(run: ActiveRun) -> dict[str, float]:
    """Test KL, JS distance and divergence, accuracy against the human majority, NLL and ECE, as the stored
    evaluation has them (reported, not logged again)."""
    ev = run.evaluation("test")
    soft = ev.soft or {}
    return {"test/kl": soft["kl"], "test/js_distance": soft["js_distance"], "test/js_divergence": soft["js_divergence"],
            "test/accuracy": ev.accuracy, "test/nll": ev.nll, "test/ece": ev.ece}
