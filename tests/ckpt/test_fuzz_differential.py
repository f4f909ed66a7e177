"""A bounded differential-fuzzing run in CI: no miss and no exit 3 (see :mod:`tests.ckpt.fuzz`).

``python scripts/fuzz_ckpt.py -n 10000`` runs the long campaign and prints its figures.
"""

from __future__ import annotations

import sys

import pytest

from tests.ckpt.fuzz import run_campaign

pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the oracle forks (Linux)")

ITERATIONS = 200


def test_seeds_are_judged_like_the_real_loaders() -> None:
    # The unmutated seeds come first: the attack files must be unsafe for both sides,
    # the clean checkpoints clean for both.
    outcome = run_campaign(19, seed=1)
    assert outcome.iterations == 19
    assert outcome.agreed_unsafe >= 4, outcome
    assert outcome.exits.get(0, 0) >= 10, outcome
    assert not outcome.misses and not outcome.bugs


def test_bounded_campaign_finds_no_miss_and_no_bug() -> None:
    outcome = run_campaign(ITERATIONS, seed=20260)
    assert outcome.iterations == ITERATIONS
    assert outcome.oracle_errors < ITERATIONS // 10
    assert outcome.oracle_unsafe > 0  # the mutations do reach payloads
    assert not outcome.misses, outcome.misses[:3]
    assert not outcome.bugs, outcome.bugs[:3]
