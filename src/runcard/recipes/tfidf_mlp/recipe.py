"""TF-IDF features -> MLP (or, with no hidden layer, logistic regression), end to end and tracked.

Reads like the experiment: data and audit, features, training with a progress bar, a checkpoint
logged and reloaded from the store, evaluation of every split from the reloaded weights,
temperature scaling fitted on validation, derived metrics, and the run card. Needs the `train`
extra (torch, scikit-learn).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from runcard.calibration import TemperatureScaling, VectorScaling
from runcard.derived import evaluate as evaluate_derived
from runcard.derived import validate as validate_derived
from runcard.errors import InputError
from runcard.logits import softmax
from runcard.metrics.classification import indistinguishable_ceiling, summary_scores
from runcard.recipes.progress import Reporter
from runcard.recipes.results import RecipeResult, log_json, write_card
from runcard.recipes.tfidf_mlp.config import TfidfConfig
from runcard.recipes.tfidf_mlp.data import Dataset, audit, load_dataset
from runcard.report.card import run_calibration
from runcard.report.views import load_run
from runcard.runs import get_run, load_checkpoint
from runcard.store import Store
from runcard.tracking import ActiveRun, start_run


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise InputError("this recipe needs PyTorch: pip install -e '.[train]' (torch==2.13.0, CPU build).") from None
    return torch


def _vectorizer(config: TfidfConfig, vocabulary: dict[str, int] | None = None) -> Any:
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
    except ImportError:
        raise InputError("this recipe needs scikit-learn: pip install -e '.[train]'.") from None
    f = config.features
    return TfidfVectorizer(max_features=None if vocabulary else f.max_features, ngram_range=tuple(f.ngram_range),
                           min_df=1 if vocabulary else f.min_df, sublinear_tf=f.sublinear_tf, lowercase=f.lowercase,
                           vocabulary=vocabulary, dtype=np.float32)


def build_model(n_features: int, n_classes: int, hidden: list[int], dropout: float) -> Any:
    """Linear layers with ReLU and dropout between them; no hidden layer is logistic regression."""
    nn = _torch().nn
    layers: list[Any] = []
    width = n_features
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
        width = size
    layers.append(nn.Linear(width, n_classes))
    return nn.Sequential(*layers)


def run_recipe(config: TfidfConfig, base: Path, store: Store, *, reporter: Reporter | None = None) -> RecipeResult:
    """Run the experiment of ``config`` (paths relative to ``base``) into ``store``."""
    _torch()  # fail before reading any data if the train extra is missing
    say = reporter or Reporter()
    validate_derived(config.derived, config.data.labels.classes)
    exp = config.experiment
    with start_run(exp.project, exp.name, config=config.model_dump(mode="json"),
                   tags={"recipe": exp.recipe, "seed": str(exp.seed), "config_dir": str(base), **exp.tags},
                   store=store, evaluation=config.evaluation.settings()) as run:
        with run.stage("data"):
            dataset = load_dataset(config.data, config.split, base)
            say.table("split sizes", dataset.distribution())
        with run.stage("audit"):
            findings = audit(dataset, run.id)
            say.findings(findings)
            log_json(run, "audit.json", {"provenance": dataset.provenance, "distribution": dataset.distribution(),
                                         "findings": [f.to_dict() for f in findings]})
        with run.stage("features"):
            vectorizer = _vectorizer(config)
            train_texts, y_train, _ = dataset.split("train")
            x_train = vectorizer.fit_transform(train_texts)
        with run.stage("train"):
            model = _train(config, run, dataset, vectorizer, x_train, y_train, say)
        with run.stage("checkpoint"):
            sha = _save_checkpoint(run, model, vectorizer, config)
        with run.stage("evaluate"):
            _predict_from_store(config, run, store, dataset, sha)
            metrics = _scores(config, run)
        with run.stage("calibrate"):
            metrics.update(_calibrate_and_derive(config, run, store))
    say.line(f"run {run.id} finished: test accuracy {metrics['test/accuracy']:.4f}, "
             f"macro-F1 {metrics['test/macro_f1']:.4f}")
    return write_card(store, run.id, out_dir=config.report.out_dir, html=config.report.html, metrics=metrics)


def _train(config: TfidfConfig, run: ActiveRun, dataset: Dataset, vectorizer: Any, x_train: Any,
           y_train: np.ndarray, say: Reporter) -> Any:
    torch = _torch()
    torch.manual_seed(config.experiment.seed)
    torch.set_num_threads(config.train.threads)
    val_texts, y_val, _ = dataset.split("val")
    xt = torch.from_numpy(x_train.toarray())
    yt = torch.from_numpy(y_train)
    xv = torch.from_numpy(vectorizer.transform(val_texts).toarray())
    yv = torch.from_numpy(y_val)
    model = build_model(xt.shape[1], len(dataset.classes), list(config.model.hidden), config.model.dropout)
    n_params = sum(p.numel() for p in model.parameters())
    run.log_metric("model/n_parameters", n_params, step=0)
    say.line(f"model: {n_params:,} parameters; {len(yt):,} training rows")
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.train.lr, weight_decay=config.train.weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(config.experiment.seed)
    batch = config.train.batch_size
    for epoch in range(config.train.epochs):
        model.train()
        order = torch.randperm(len(yt), generator=generator)
        total, seen = 0.0, 0
        with say.progress(f"epoch {epoch + 1}/{config.train.epochs}", total=len(yt)) as bar:
            for start in range(0, len(yt), batch):
                idx = order[start:start + batch]
                optimizer.zero_grad()
                loss = loss_fn(model(xt[idx]), yt[idx])
                loss.backward()
                optimizer.step()
                total += loss.item() * len(idx)
                seen += len(idx)
                bar.advance(len(idx), loss=total / seen)
        model.eval()
        with torch.no_grad():
            val_loss = float(loss_fn(model(xv), yv))
        run.log_metrics({"train/loss": total / seen, "val/loss": val_loss}, step=epoch + 1)
    return model


def _save_checkpoint(run: ActiveRun, model: Any, vectorizer: Any, config: TfidfConfig) -> str:
    """Weights plus the fitted TF-IDF vocabulary and idf, so the checkpoint alone reproduces predictions."""
    torch = _torch()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "tfidf_mlp"
        folder.mkdir()
        torch.save(model.state_dict(), folder / "model.pt")
        vocabulary = {term: int(i) for term, i in vectorizer.vocabulary_.items()}
        (folder / "tfidf.json").write_text(json.dumps({"vocabulary": vocabulary, "idf": vectorizer.idf_.tolist()}))
        (folder / "model.json").write_text(json.dumps({"hidden": list(config.model.hidden),
                                                       "dropout": config.model.dropout,
                                                       "n_features": len(vocabulary)}))
        return run.log_checkpoint(folder, step=config.train.epochs)  # the last epoch's weights


def load_predictor(path: Path, config: TfidfConfig, n_classes: int) -> Any:
    """Rebuild vectorizer and model from a stored checkpoint folder; return texts -> probabilities."""
    torch = _torch()
    tfidf = json.loads((path / "tfidf.json").read_text())
    shape = json.loads((path / "model.json").read_text())
    vectorizer = _vectorizer(config, tfidf["vocabulary"])
    vectorizer.idf_ = np.asarray(tfidf["idf"])
    model = build_model(shape["n_features"], n_classes, shape["hidden"], shape["dropout"])
    model.load_state_dict(torch.load(path / "model.pt", weights_only=True))
    model.eval()

    def predict(texts: list[str]) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(vectorizer.transform(texts).toarray())).double().numpy()

    return predict


def _predict_from_store(config: TfidfConfig, run: ActiveRun, store: Store, dataset: Dataset, sha: str) -> None:
    """Reload the checkpoint from the store (re-hashed) and log every split's predictions made with it (each
    is evaluated once, with the run's settings, as it is logged)."""
    path = load_checkpoint(run.id, store=store)
    predict = load_predictor(path, config, len(dataset.classes))
    for split in dataset.splits:
        texts, y, ids = dataset.split(split)
        run.log_predictions(split, y, logits=predict(texts), classes=list(dataset.classes), ids=ids, texts=texts,
                            checkpoint=sha)


def hash_split_groups(config: TfidfConfig) -> list[list[int]]:
    """Class indices of each hash-split pair (labels the text cannot determine)."""
    classes = config.data.labels.classes
    return [[classes.index(c) for c in h.into] for h in config.data.labels.hash_split]


def _scores(config: TfidfConfig, run: ActiveRun) -> dict[str, float]:
    """The stored evaluations' headline scores (reported, not logged again: documents read the evaluations),
    and what the hash-split pairs imply, from their confusion matrices (logged)."""
    reported: dict[str, float] = {}
    logged: dict[str, float] = {}
    groups = hash_split_groups(config)
    for split in ("val", "test"):
        ev = run.evaluation(split)
        reported.update({f"{split}/accuracy": ev.accuracy, f"{split}/macro_f1": ev.macro_f1, f"{split}/ece": ev.ece})
        if groups:
            merged = _merge_groups(ev.confusion, groups)
            ceiling = summary_scores(indistinguishable_ceiling(ev.confusion, groups))
            logged[f"{split}/topic_accuracy"] = float(np.trace(merged) / merged.sum())
            logged[f"{split}/ceiling_accuracy"] = float(ceiling["accuracy"])
            logged[f"{split}/ceiling_macro_f1"] = float(ceiling["macro_f1"])
    if logged:
        run.log_metrics(logged, step=config.train.epochs)
    return {**reported, **logged}


def _merge_groups(cm: np.ndarray, groups: list[list[int]]) -> np.ndarray:
    """The confusion matrix with each group of classes merged into one (the topic level)."""
    k = cm.shape[0]
    target = np.arange(k)
    for group in groups:
        target[group] = group[0]
    keep = np.unique(target)
    merge = (target[None, :] == keep[:, None]).astype(np.int64)  # (merged, K) membership
    return merge @ cm @ merge.T


def _calibrate_and_derive(config: TfidfConfig, run: ActiveRun, store: Store) -> dict[str, float]:
    """The calibration fitted on val (the one the card shows, stored with the run), and the derived metrics
    of the raw and calibrated test probabilities (logged)."""
    loaded = load_run(store, get_run(run.id, store), series=False)
    cal = run_calibration(store, loaded, list(loaded.evaluations))
    assert cal is not None  # the recipe always has val and test
    test = loaded.tables["test"]
    scaler = (TemperatureScaling(cal["temperature"]) if cal["method"] == "temperature"
              else VectorScaling(np.asarray(cal["weights"]), np.asarray(cal["bias"])))
    calibrated = softmax(scaler.transform(test.log_scores()))
    reported = {"calibration/argmax_changed": float(sum(s["argmax_changed"] for s in cal["splits"].values()))}
    if cal["method"] == "temperature":
        reported["calibration/temperature"] = cal["temperature"]
    for split, entry in cal["splits"].items():
        reported.update({f"{split}/{k}_after": v for k, v in entry["after"].items()})
    derived: dict[str, float] = {}
    classes = [str(c) for c in test.classes]
    for label, probs in (("test", test.probs), ("test_calibrated", calibrated)):
        for name, values in evaluate_derived(config.derived, probs, classes).items():
            derived[f"derived/{label}/{name}"] = float(values.mean())
    if derived:
        run.log_metrics(derived, step=config.train.epochs)
    return {**reported, **derived}
