"""Record runs from other libraries' training loops.

Each integration is a module of its own, imported only by the code that uses it, so ``import runcard``
never imports the library it hooks into:

- `runcard.integrations.transformers`: `RuncardCallback`, a Hugging Face ``TrainerCallback``.
"""
