"""transformers imported for local folders only: the hub never asked, its progress bars off (runcard draws its own).

Every model runcard loads (the packaged encoder, a recipe's language model) comes from a folder on disk; a test or
the demo must never reach a hub. The recipes and the semantic-diversity metric import transformers through here.
"""

from __future__ import annotations

import os
from typing import Any

from runcard.errors import InputError


def import_transformers(missing: str) -> Any:
    """The transformers module, offline; ``missing`` is the `InputError` message (naming the extra to install)
    when it is not installed."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before the import: huggingface_hub reads it when imported
    try:
        import transformers
    except ImportError:
        raise InputError(missing) from None
    transformers.utils.logging.disable_progress_bar()
    return transformers
