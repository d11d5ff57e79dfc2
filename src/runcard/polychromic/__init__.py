"""Pieces of the polychromic recipe (`runcard.recipes.polychromic`): the tweet corpus and its prompts,
the checker, set scoring, the small language model, the RL objectives and the evaluation.

`sets` and the checker's rules are pure functions over arrays; `lm`, `train` and `evaluate` need
PyTorch, transformers and tokenizers.
"""
