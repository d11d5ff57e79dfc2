"""The small language model: a byte-level BPE tokenizer trained here, a randomly initialised GPT-2,
sampling with a seeded generator, sequence log-probabilities, KL to a reference model, mean-pooled
embeddings, a hash of the weights, and saving/loading a checkpoint folder.

Every dropout is 0, so a forward pass in training computes the same distribution that sampled the
tokens (the policy-gradient estimator needs the sampling policy's log-probabilities).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import platform
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from runcard.errors import InputError
from runcard.hf_offline import import_transformers
from runcard.recipes.polychromic.corpus import prompt_text

PAD, EOS, SEP = "<pad>", "<eos>", "<sep>"
#: Attention implementation: eager is faster than SDPA for this model size on the CPU (and as exact).
ATTENTION = "eager"


def modules() -> tuple[Any, Any, Any]:
    """torch, transformers and tokenizers, or an error naming the extra to install."""
    missing = ("the polychromic recipe needs PyTorch, transformers and tokenizers: "
               "pip install -e '.[polychromic]' (torch==2.13.0 CPU build, transformers, tokenizers).")
    transformers, torch, tokenizers = import_transformers(missing, "torch", "tokenizers")
    return torch, transformers, tokenizers


#: Distributions whose versions decide this recipe's numbers (tokenizer training, initialisation, sampling,
#: the checker's classifiers): a run made with other versions may differ, so every run records them.
DISTRIBUTIONS = ("numpy", "torch", "transformers", "tokenizers", "scikit-learn", "sacrebleu")


def library_versions() -> dict[str, str]:
    """Python's and each of `DISTRIBUTIONS`' installed version ("not installed" where absent)."""
    out = {"python": platform.python_version()}
    for name in DISTRIBUTIONS:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def special_tokens(classes: tuple[str, ...]) -> list[str]:
    """Padding, end of tweet, separator, then one token per sentiment class."""
    return [PAD, EOS, SEP, *(f"<{c}>" for c in classes)]


def train_tokenizer(texts: list[str], classes: tuple[str, ...], *, vocab_size: int, min_frequency: int) -> Any:
    """A byte-level BPE `tokenizers.Tokenizer` trained on ``texts`` (each with a leading space, as it
    follows the prompt), with the special tokens of `special_tokens`."""
    _, _, tokenizers = modules()
    tokenizer = tokenizers.Tokenizer(tokenizers.models.BPE())
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=special_tokens(classes),
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator((" " + t for t in texts), trainer=trainer, length=len(texts))
    return tokenizer


@dataclass(frozen=True, eq=False)
class Codec:
    """Text <-> ids around a trained tokenizer: prompts, tweets and decoded samples."""

    tokenizer: Any

    @property
    def pad(self) -> int:
        return int(self.tokenizer.token_to_id(PAD))

    @property
    def eos(self) -> int:
        return int(self.tokenizer.token_to_id(EOS))

    @property
    def vocab_size(self) -> int:
        return int(self.tokenizer.get_vocab_size())

    def prompt(self, sentiment: str, topic: str) -> list[int]:
        return list(self.tokenizer.encode(prompt_text(sentiment, topic)).ids)

    def topic(self, topic: str) -> tuple[int, ...]:
        """The topic's ids as they appear inside a tweet (after a space); () for no topic."""
        return tuple(self.tokenizer.encode(" " + topic).ids) if topic else ()

    def tweet(self, text: str) -> list[int]:
        """The tweet's ids and the end-of-tweet id."""
        return [*self.tokenizer.encode(" " + text).ids, self.eos]

    def decode(self, ids: list[int]) -> str:
        """Text of generated ids up to (without) the first end-of-tweet."""
        if self.eos in ids:
            ids = ids[: ids.index(self.eos)]
        return str(self.tokenizer.decode([i for i in ids if i != self.pad])).strip()


def build_model(vocab_size: int, *, n_layer: int, n_embd: int, n_head: int, n_positions: int, pad: int, eos: int,
                seed: int) -> Any:
    """A GPT-2 language model with random weights (seeded) and no dropout.

    GPT-2's activation (GELU, tanh approximation) runs as PyTorch's fused ``gelu_pytorch_tanh`` rather than
    transformers' ``gelu_new`` written out in Python, and attention is the eager implementation: the same
    functions, 20 % faster for training and 15 % for sampling at this size on the CPU."""
    torch, transformers, _ = modules()
    config = transformers.GPT2Config(vocab_size=vocab_size, n_positions=n_positions, n_embd=n_embd, n_layer=n_layer,
                                     n_head=n_head, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                                     activation_function="gelu_pytorch_tanh", bos_token_id=eos, eos_token_id=eos,
                                     pad_token_id=pad)
    torch.manual_seed(seed)
    return transformers.AutoModelForCausalLM.from_config(config, attn_implementation=ATTENTION)


def _positions(mask: Any) -> Any:
    return (mask.long().cumsum(dim=1) - 1).clamp(min=0)


def left_pad(rows: list[list[int]], pad: int) -> tuple[Any, Any]:
    """(ids, mask) ``(B, L)`` with each row right-aligned."""
    torch, _, _ = modules()
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r):] = torch.tensor(r, dtype=torch.long)
        mask[i, width - len(r):] = 1
    return ids, mask


def right_pad(rows: list[list[int]], pad: int) -> tuple[Any, Any]:
    """(ids, mask) ``(B, T)`` with each row left-aligned."""
    torch, _, _ = modules()
    width = max(1, max(len(r) for r in rows))
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, : len(r)] = 1
    return ids, mask


@dataclass(frozen=True, eq=False)
class Samples:
    """Sampled continuations of left-padded prompts: ``prompt``/``prompt_mask`` ``(B, L)``, ``tokens``
    ``(B, T)`` (padding after the end-of-tweet) and ``mask`` ``(B, T)`` (1 up to and including it)."""

    prompt: Any
    prompt_mask: Any
    tokens: Any
    mask: Any

    def rows(self) -> list[list[int]]:
        """Each sample's generated ids (the end-of-tweet included when it was reached)."""
        return [row[: int(m.sum())].tolist() for row, m in zip(self.tokens, self.mask)]


def _cache_keyword(model: Any) -> str:
    """The key-value cache's name in the model's forward and output: ``cache`` from transformers 5.x (where
    ``past_key_values`` is deprecated), ``past_key_values`` before."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def sample(model: Any, prompts: list[list[int]], *, max_new_tokens: int, temperature: float, generator: Any,
           pad: int, eos: int) -> Samples:
    """Draw one continuation per prompt (ancestral sampling at ``temperature``, key-value cache)."""
    torch, _, _ = modules()
    ids, prompt_mask = left_pad(prompts, pad)
    batch = len(prompts)
    tokens = torch.full((batch, max_new_tokens), pad, dtype=torch.long)
    done = torch.zeros(batch, dtype=torch.bool)
    mask = prompt_mask
    current, positions, past = ids, _positions(prompt_mask), None
    steps = 0
    cache_key = _cache_keyword(model)
    with torch.no_grad():
        for step in range(max_new_tokens):
            out = model(input_ids=current, attention_mask=mask, position_ids=positions, use_cache=True,
                        **{cache_key: past})
            past = getattr(out, cache_key)
            probs = torch.softmax(out.logits[:, -1].float() / temperature, dim=-1)
            drawn = torch.multinomial(probs, 1, generator=generator).squeeze(1)
            drawn = torch.where(done, torch.full_like(drawn, pad), drawn)
            tokens[:, step] = drawn
            done |= drawn == eos
            steps = step + 1
            if bool(done.all()):
                break
            positions = positions[:, -1:] + 1
            mask = torch.cat([mask, torch.ones((batch, 1), dtype=torch.long)], dim=1)
            current = drawn[:, None]
    tokens = tokens[:, :steps]
    ended = (tokens == eos).long()
    after_eos = ended.cumsum(dim=1) - ended  # 1 strictly after the first end-of-tweet
    gen_mask = ((after_eos == 0) & (tokens != pad)).long()
    return Samples(ids, prompt_mask, tokens, gen_mask)


def token_logits(model: Any, samples: Samples) -> Any:
    """Logits predicting each generated token, ``(B, T, V)`` (with gradient when ``model`` trains)."""
    torch, _, _ = modules()
    ids = torch.cat([samples.prompt, samples.tokens], dim=1)
    mask = torch.cat([samples.prompt_mask, samples.mask], dim=1)
    logits = model(input_ids=ids, attention_mask=mask, position_ids=_positions(mask)).logits
    width = samples.prompt.shape[1]
    return logits[:, width - 1: width - 1 + samples.tokens.shape[1]]


def sequence_logprob(logits: Any, samples: Samples) -> Any:
    """Sum of the generated tokens' log-probabilities per sample, ``(B,)``."""
    logp = logits.log_softmax(dim=-1).gather(2, samples.tokens[..., None]).squeeze(2)
    return (logp * samples.mask).sum(dim=1)


def kl_per_sample(policy_logits: Any, reference_logits: Any, mask: Any) -> Any:
    """Exact KL(policy || reference) over the vocabulary at each generated position, averaged over the
    sample's positions, ``(B,)``."""
    logp = policy_logits.log_softmax(dim=-1)
    logq = reference_logits.log_softmax(dim=-1)
    per_position = (logp.exp() * (logp - logq)).sum(dim=-1)
    return (per_position * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)


def pooled_states(model: Any, rows: list[list[int]], pad: int) -> np.ndarray:
    """Mean of the last hidden states over each row's tokens, read alone (no prompt): ``(B, H)``."""
    torch, _, _ = modules()
    ids, mask = right_pad([r if r else [pad] for r in rows], pad)
    with torch.no_grad():
        hidden = model.transformer(input_ids=ids, attention_mask=mask).last_hidden_state
        weights = mask[..., None].to(hidden.dtype)
        return ((hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)).double().numpy()


def embed_ids(model: Any, rows: list[list[int]], pad: int, centre: np.ndarray) -> np.ndarray:
    """`pooled_states` minus ``centre`` (their mean over reference tweets: the raw states of a small LM
    all point one way, so raw cosines are all near 1), L2-normalised: ``(B, H)``."""
    pooled = pooled_states(model, rows, pad) - centre[None, :]
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return np.divide(pooled, norms, out=np.zeros_like(pooled), where=norms > 0)


def weights_sha256(model: Any) -> str:
    """sha256 over the state dict (names, dtypes, shapes and bytes, in name order): equal hashes mean
    identical weights."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        array = tensor.detach().cpu().contiguous().numpy()
        digest.update(f"{name}|{array.dtype}|{tuple(array.shape)}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def save_lm(folder: Path, model: Any, codec: Codec, meta: dict[str, Any], centre: np.ndarray) -> None:
    """Write model (safetensors), tokenizer, the embedding centre and ``meta`` (JSON) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder / "model")
    codec.tokenizer.save(str(folder / "tokenizer.json"))
    np.save(folder / "centre.npy", centre)
    (folder / "lm.json").write_text(json.dumps(meta, indent=2, sort_keys=True))


def load_lm(folder: Path) -> tuple[Any, Codec, dict[str, Any], np.ndarray]:
    """(model, codec, meta, centre) from a folder written by `save_lm`."""
    _, transformers, tokenizers = modules()
    needed = [folder / "model", folder / "tokenizer.json", folder / "lm.json", folder / "centre.npy"]
    missing = [p.name for p in needed if not p.exists()]
    if missing:
        raise InputError(f"checkpoint {folder} lacks {missing}; it was not written by the polychromic recipe.")
    model = transformers.GPT2LMHeadModel.from_pretrained(folder / "model", local_files_only=True,
                                                         attn_implementation=ATTENTION)
    model.eval()
    codec = Codec(tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json")))
    return model, codec, json.loads((folder / "lm.json").read_text()), np.load(folder / "centre.npy")
