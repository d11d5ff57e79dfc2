"""transformers imported offline: the hub switched off before the import, a missing module named by the caller."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from runcard.errors import InputError
from runcard.hf_offline import import_transformers


def test_a_missing_module_is_the_callers_message() -> None:
    with pytest.raises(InputError, match=r"^install the extra$"):
        import_transformers("install the extra", "torch", "no_such_module_for_runcard")


def test_the_hub_is_off_before_transformers_is_imported() -> None:
    code = ("import sys\nfrom runcard.hf_offline import import_transformers\n"
            "assert 'transformers' not in sys.modules\n"
            "transformers, torch = import_transformers('x', 'torch')\n"
            "import huggingface_hub.constants as c\n"
            "print(c.HF_HUB_OFFLINE, transformers.utils.logging.is_progress_bar_enabled(), torch.__name__)")
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.split() == ["True", "False", "torch"]
