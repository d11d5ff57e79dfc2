"""transformers imported for local folders only: the hub never asked, its progress bars off (runcard draws its own).

Every model runcard loads (the packaged encoder, a recipe's language model) comes from a folder on disk; a test or
the demo must never reach a hub. The recipes and the semantic-diversity metric import transformers through here.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from runcard.errors import InputError


def import_transformers(missing: str, *others: str) -> tuple[Any, ...]:
    """The transformers module, offline, then each module named in ``others`` (``"torch"``...), in order;
    ``missing`` is the `InputError` message (naming the extra to install) when any of them is not installed."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before the import: huggingface_hub reads it when imported
    try:
        import transformers

        modules = [importlib.import_module(name) for name in others]
    except ImportError:
        raise InputError(missing) from None
    transformers.utils.logging.disable_progress_bar()
    return (transformers, *modules)
