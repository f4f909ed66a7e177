# Excerpt of transformers 4.29.1 `src/transformers/dependency_versions_check.py`
# (https://github.com/huggingface/transformers/blob/v4.29.1/src/transformers/dependency_versions_check.py):
# the statements that build the runtime-check list, verbatim; the loop that calls
# require_version_core() on them is left out. Copyright 2020 The HuggingFace Team,
# Apache License 2.0.
import sys

from .dependency_versions_table import deps
from .utils.versions import require_version, require_version_core


# define which module versions we always want to check at run time
# (usually the ones defined in `install_requires` in setup.py)
#
# order specific notes:
# - tqdm must be checked before tokenizers

pkgs_to_check_at_runtime = "python tqdm regex requests packaging filelock numpy tokenizers".split()
if sys.version_info < (3, 7):
    pkgs_to_check_at_runtime.append("dataclasses")
if sys.version_info < (3, 8):
    pkgs_to_check_at_runtime.append("importlib_metadata")
