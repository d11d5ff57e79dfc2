"""Generation evaluation: diversity (distinct-n, Self-BLEU, semantic), pass@k, paired comparisons.

The metrics are pure functions over samples grouped by prompt; `evaluate_generations` runs them
all per system with bootstrap CIs over prompts and findings. Files and stored artifacts are read by
`runcard.generation.files` and `runcard.generation.stored`. docs/generation.md has the exact definitions.
"""

from __future__ import annotations

from runcard.generation.evaluate_generations import GenerationEvaluation, evaluate_generations
from runcard.generation.files import load_generations
from runcard.generation.stored import load_run_generations
from runcard.generation.table import GenerationTable, table_from_rows

__all__ = ["GenerationEvaluation", "GenerationTable", "evaluate_generations", "load_generations",
           "load_run_generations", "table_from_rows"]
