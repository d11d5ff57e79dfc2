"""A real `transformers.Trainer` run on a random-init tiny BERT (hidden 32, 2 layers, 2 heads) and ~200 short
texts made here; the vocabulary is the texts' own words, written to a vocab file for `BertTokenizerFast`. Nothing
is downloaded. Used by the Trainer importer's and the Trainer callback's tests."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLASSES = ("neg", "pos")
WORDS = {"neg": ["bad", "awful", "sad", "poor", "dull"], "pos": ["good", "great", "fine", "nice", "happy"]}
FILLER = ["the", "movie", "was", "very", "a", "day", "really", "plot", "cast", "so"]


@dataclass
class Splits:
    train: Any
    val: Any
    test: Any
    texts: list[str]
    labels: list[int]


def make_splits(folder: Path, n: int = 200, seed: int = 0) -> tuple[Splits, Any]:
    """n texts of two classes (each holds two words of its class among filler words), split 70/15/15 %; and the
    tokenizer built from their vocabulary."""
    import torch
    from transformers import BertTokenizerFast

    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        words = [rng.choice(FILLER) for _ in range(2)] + [rng.choice(WORDS[CLASSES[label]]) for _ in range(2)]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(label)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted({w for t in texts for w in t.split()})]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast.from_pretrained(str(folder))  # reads folder/vocab.txt (transformers 4 and 5)
    if tokenizer.vocab_size != len(vocab):
        raise RuntimeError(f"the tokenizer read {tokenizer.vocab_size} of the {len(vocab)} vocabulary entries")
    encoded = tokenizer(texts, padding="max_length", max_length=12, truncation=True)

    class Texts(torch.utils.data.Dataset):
        def __init__(self, rows: list[int]) -> None:
            self.rows = rows

        def __len__(self) -> int:
            return len(self.rows)

        def __getitem__(self, i: int) -> dict[str, Any]:
            j = self.rows[i]
            return {"input_ids": torch.tensor(encoded["input_ids"][j]),
                    "attention_mask": torch.tensor(encoded["attention_mask"][j]), "labels": torch.tensor(labels[j])}

    cut1, cut2 = int(n * 0.7), int(n * 0.85)
    return Splits(Texts(list(range(cut1))), Texts(list(range(cut1, cut2))), Texts(list(range(cut2, n))),
                  texts, labels), tokenizer


def tiny_model(vocab_size: int, seed: int = 0) -> Any:
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    config = BertConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=32, num_labels=2,
                        id2label=dict(enumerate(CLASSES)), label2id={c: i for i, c in enumerate(CLASSES)})
    return BertForSequenceClassification(config)


def training_args(output_dir: Path, **overrides: Any) -> Any:
    """2 epochs, evaluated and saved each epoch, the best checkpoint (by eval_loss) reloaded at the end."""
    from transformers import TrainingArguments

    settings: dict[str, Any] = {
        "output_dir": str(output_dir), "num_train_epochs": 2, "per_device_train_batch_size": 8,
        "per_device_eval_batch_size": 32, "learning_rate": 5e-3, "eval_strategy": "epoch", "save_strategy": "epoch",
        "load_best_model_at_end": True, "metric_for_best_model": "eval_loss", "logging_steps": 2,
        "report_to": "none", "use_cpu": True, "seed": 0, "disable_tqdm": True, "dataloader_num_workers": 0}
    settings.update(overrides)
    return TrainingArguments(**settings)


def spoil_second_epoch() -> Any:
    """A callback that makes the weights worse at the end of the second epoch (a large bias towards one
    class), so its evaluation is worse than the first one's and the best checkpoint is the first."""
    import torch
    from transformers import TrainerCallback

    class Spoil(TrainerCallback):
        def on_epoch_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
            if state.epoch is not None and state.epoch >= 2 - 1e-9:
                with torch.no_grad():
                    model.classifier.bias.copy_(torch.tensor([6.0, -6.0]))

    return Spoil()
