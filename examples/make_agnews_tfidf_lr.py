"""Make the example prediction files: TF-IDF + logistic regression on the AG News rows we carry.

    python examples/make_agnews_tfidf_lr.py [--out examples/agnews_tfidf_lr]

Trains on `data/ag_news/train_known.csv` (2,505 labelled train rows), holding out a stratified
500-row validation split (seed 0), and predicts the full 7,600-row test set
`data/ag_news/test.csv`. Writes `val.csv` and `test.csv` in runcard's prediction format
(docs/formats.md): id, label, one prob_<class> column per class, and the text. Needs
scikit-learn (`pip install -e '.[examples]'`). Deterministic: rerunning reproduces the
committed files (a test checks this).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "ag_news"
SEED = 0
VAL_ROWS = 500


def read_split(path: Path, classes: list[str]) -> tuple[list[str], list[str]]:
    """Texts (title + description, backslash line breaks made spaces) and class names."""
    texts, labels = [], []
    with path.open(newline="", encoding="utf-8") as handle:
        for class_index, title, description in csv.reader(handle):
            texts.append(f"{title} {description}".replace("\\", " "))
            labels.append(classes[int(class_index) - 1])
    return texts, labels


def write_predictions(path: Path, ids: list[str], labels: list[str], probs: np.ndarray,
                      classes: list[str], texts: list[str]) -> None:
    """Write one row per example: id, label, prob_<class>..., text."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "label", *[f"prob_{c}" for c in classes], "text"])
        for row_id, label, row, text in zip(ids, labels, probs, texts):
            writer.writerow([row_id, label, *[repr(float(p)) for p in row], text])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "examples" / "agnews_tfidf_lr")
    args = parser.parse_args()

    classes = (DATA / "classes.txt").read_text(encoding="utf-8").split()
    known_texts, known_labels = read_split(DATA / "train_known.csv", classes)
    test_texts, test_labels = read_split(DATA / "test.csv", classes)
    known_ids = [f"train-{i + 1:05d}" for i in range(len(known_texts))]
    test_ids = [f"test-{i + 1:05d}" for i in range(len(test_texts))]

    train_idx, val_idx = train_test_split(
        np.arange(len(known_texts)), test_size=VAL_ROWS, stratify=known_labels, random_state=SEED
    )
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    features = vectorizer.fit_transform([known_texts[i] for i in train_idx])
    model = LogisticRegression(C=10.0, max_iter=2000)
    model.fit(features, [known_labels[i] for i in train_idx])
    order = [list(model.classes_).index(c) for c in classes]  # columns in classes.txt order

    args.out.mkdir(parents=True, exist_ok=True)
    val_probs = model.predict_proba(vectorizer.transform([known_texts[i] for i in val_idx]))[:, order]
    write_predictions(args.out / "val.csv", [known_ids[i] for i in val_idx], [known_labels[i] for i in val_idx],
                      val_probs, classes, [known_texts[i] for i in val_idx])
    test_probs = model.predict_proba(vectorizer.transform(test_texts))[:, order]
    write_predictions(args.out / "test.csv", test_ids, test_labels, test_probs, classes, test_texts)
    print(f"trained on {len(train_idx)} rows; wrote {len(val_idx)} validation and {len(test_ids)} test "
          f"predictions to {args.out}")


if __name__ == "__main__":
    main()
