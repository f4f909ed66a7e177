"""Compare environments across machines: what differs that matters, and which side is wrong.

:func:`envdoctor.compare.engine.compare_environments` takes environments (from
``diagnose --json`` reports, standard input or a live interpreter, see
:mod:`envdoctor.compare.reports`) and returns a :class:`~envdoctor.compare.engine.Comparison`;
``knowledge/compare.toml`` says what each difference means.
"""

from __future__ import annotations

__all__: list[str] = []
