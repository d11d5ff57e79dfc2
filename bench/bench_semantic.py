"""Benchmark: semantic diversity of 100,000 short samples with the real all-MiniLM-L6-v2, in bounded memory.

    python bench/bench_semantic.py [--samples 100000] [--per-prompt 10] [--batch-size 128]

Synthetic short samples (6 to 14 words from a 400-word vocabulary, 10 per prompt) are embedded in
batches by the packaged all-MiniLM-L6-v2 (`runcard.generation.embedding`), ordered by length as
`runcard eval-gen` does, and reduced to per-prompt running sums (`runcard.generation.semantic`).
Before timing, the running sums are checked against the brute-force mean pairwise cosine distance
on the first prompts. Prints wall time, throughput and the process's peak resident memory
(``resource.getrusage``: model, torch and everything else included), and fails if the peak reaches
2 GiB. Goal: memory that does not grow with the number of samples beyond the texts themselves.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np

from runcard.generation.embedding import MODEL_NAME, load_embedder
from runcard.generation.semantic import BATCH_SIZE, Embedder, semantic_diversity

LIMIT_BYTES = 2 * 2**30


def make_samples(n_samples: int, per_prompt: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Short sentences, prompt by prompt: each prompt has a topic word pool, so samples of a prompt are related."""
    rng = np.random.default_rng(seed)
    vocab = np.array([f"{stem}{suffix}" for stem in ("river", "stone", "light", "model", "market", "garden", "storm",
                                                     "paper", "engine", "forest") for suffix in
                      ("", "s", "ing", "ed", "er", "ly", "ness", "ful", "less", "al", "ic", "ive", "ous", "ion",
                       "ity", "ment", "ure", "ant", "ent", "ism", "ist", "ize", "ish", "ward", "wise", "like",
                       "ship", "hood", "dom", "some", "able", "ible", "age", "ary", "ery", "ory", "ate", "fy",
                       "en", "y")])
    common = np.array(["the", "a", "of", "to", "and", "in", "on", "with", "for", "over", "under", "by", "from"])
    texts, prompt = [], np.arange(n_samples) // per_prompt
    for p in range(int(prompt[-1]) + 1 if n_samples else 0):
        topic = rng.choice(vocab, 12, replace=False)
        for _ in range(min(per_prompt, n_samples - p * per_prompt)):
            length = int(rng.integers(6, 15))
            words = np.where(rng.random(length) < 0.4, rng.choice(common, length), rng.choice(topic, length))
            texts.append(" ".join(words))
    return texts, prompt


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def check_against_all_pairs(embed: Embedder, texts: list[str], prompt: np.ndarray, prompts: int) -> float:
    """Largest difference between the running sums and the brute-force mean over pairs, on the first prompts."""
    rows = np.flatnonzero(prompt < prompts)
    fast = semantic_diversity([texts[i] for i in rows], prompt[rows], prompts, embed).values
    vectors = embed([texts[i] for i in rows]).astype(np.float64)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    worst = 0.0
    for p in range(prompts):
        v = vectors[prompt[rows] == p]
        slow = np.mean([1 - v[i] @ v[j] for i in range(len(v)) for j in range(len(v)) if i != j])
        worst = max(worst, abs(slow - fast[p]))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--per-prompt", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--check-prompts", type=int, default=20, help="prompts checked against all pairs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    texts, prompt = make_samples(args.samples, args.per_prompt, args.seed)
    n_prompts = int(prompt.max()) + 1
    t0 = time.perf_counter()
    embed = load_embedder()
    load_s = time.perf_counter() - t0
    worst = check_against_all_pairs(embed, texts, prompt, min(args.check_prompts, n_prompts))
    assert worst < 1e-6, f"running sums disagree with all pairs by {worst:.2e}"
    rss_before = peak_rss_bytes()

    done = [0]
    step = max(args.samples // 10, 1)

    def progress(n: int) -> None:
        done[0] += n
        if done[0] // step != (done[0] - n) // step:
            print(f"  {done[0]:,} / {args.samples:,} embedded, {time.perf_counter() - t1:.0f} s", file=sys.stderr)

    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    t1 = time.perf_counter()
    result = semantic_diversity(texts, prompt, n_prompts, embed, batch_size=args.batch_size,
                                order=np.argsort(lengths, kind="stable"), progress=progress)
    wall = time.perf_counter() - t1
    peak = peak_rss_bytes()

    mean = float(result.values[result.valid].mean())
    print(f"model={MODEL_NAME} samples={args.samples:,} prompts={n_prompts:,} batch={args.batch_size} "
          f"mean words={np.mean([len(t.split()) for t in texts]):.1f}")
    print(f"semantic diversity (mean over prompts): {mean:.4f}; running sums vs all pairs on "
          f"{min(args.check_prompts, n_prompts)} prompts: max |diff| {worst:.1e}")
    print(f"model load: {load_s:.1f} s; embedding + sums: {wall:.1f} s ({args.samples / wall:,.0f} samples/s)")
    print(f"peak RSS: {peak / 2**20:,.0f} MiB (after model load and the check: {rss_before / 2**20:,.0f} MiB); "
          f"per-prompt sums {n_prompts * result.dim * 8 / 2**20:.1f} MiB; all embeddings at once would be "
          f"{args.samples * result.dim * 4 / 2**20:,.0f} MiB (float32)")
    assert peak < LIMIT_BYTES, f"peak RSS {peak / 2**30:.2f} GiB is over the 2 GiB bound"
    print("peak RSS under 2 GiB: yes")


if __name__ == "__main__":
    main()
