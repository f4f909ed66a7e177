"""Where ``knowledge/`` is: the installed wheel, an editable install, or a checkout.

The wheel carries the data as ``envdoctor/knowledge`` (hatch ``force-include``); an editable
install or a plain checkout has it beside the package, at the repository root. The
``ENVDOCTOR_KNOWLEDGE`` environment variable overrides both (tests, data development). A leaf
module: every reader of knowledge data may import it.
"""

from __future__ import annotations

import os
from pathlib import Path

from envdoctor.errors import KnowledgeError

__all__ = ["knowledge_root"]


def knowledge_root() -> Path:
    """The directory holding ``entries/`` and ``compat/``."""
    override = os.environ.get("ENVDOCTOR_KNOWLEDGE")
    if override:
        return Path(override)
    package_dir = Path(__file__).resolve().parent.parent
    for candidate in (package_dir / "knowledge", package_dir.parent / "knowledge"):
        if (candidate / "entries").is_dir():
            return candidate
    raise KnowledgeError(f"knowledge/ not found beside {package_dir} (broken install?)")
