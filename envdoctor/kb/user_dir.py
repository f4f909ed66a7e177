"""Where a user's refreshed knowledge lives: written by ``python -m envdoctor.kb.refresh``.

``$ENVDOCTOR_DATA_DIR``, else ``$XDG_DATA_HOME/envdoctor``, else ``~/.local/share/envdoctor``:
a per-user directory, never site-packages. :func:`envdoctor.kb.compat.load_compat` reads
``compat/torch.toml`` there when it was generated later than the shipped table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["user_knowledge_dir"]


def user_knowledge_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where ``refresh`` writes and the loader looks for a newer table."""
    env = os.environ if environ is None else environ
    if env.get("ENVDOCTOR_DATA_DIR"):
        return Path(env["ENVDOCTOR_DATA_DIR"])
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "envdoctor"
