"""Fact conditions: PEP 440 specifiers, fact-to-fact comparisons, unknown facts, templates."""

from __future__ import annotations

import pytest

from envdoctor.kb.conditions import fill, holds
from envdoctor.kb.entry import Condition

FACTS = {
    "dist.transformers": "4.46.3",
    "torch.version": "2.1.0+cu121",
    "torch.cuda": "12.1",
    "host.driver_max_cuda": "11.4",
    "torch.arch_list": ("sm_80", "sm_90"),
    "flag": False,
    "unknown": None,
}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (Condition("dist.transformers", "spec", ">=4.31"), True),
        (Condition("dist.transformers", "spec", "<4.31"), False),
        (Condition("torch.version", "spec", "==2.1.0"), True),  # local +cu121 matches the public version
        (Condition("torch.version", "spec", ">=2.1,<2.2"), True),
        (Condition("dist.missing", "spec", ">=0"), False),  # unknown never satisfies a specifier
        (Condition("torch.cuda", "gt_fact", "host.driver_max_cuda"), True),
        (Condition("torch.cuda", "le_fact", "host.driver_max_cuda"), False),
        (Condition("torch.cuda", "gt_fact", "unknown"), False),
        (Condition("torch.arch_list", "contains", "sm_90"), True),
        (Condition("torch.arch_list", "contains", "sm_86"), False),
        (Condition("flag", "equals", False), True),
        (Condition("flag", "present", False), True),
        (Condition("unknown", "present", False), True),
        (Condition("torch.cuda", "present", True), True),
        (Condition("torch.cuda", "one_of", ["11.8", "12.1"]), True),
        (Condition("unknown", "equals", None), False),
    ],
)
def test_condition(condition: Condition, expected: bool) -> None:
    assert holds(condition, FACTS) is expected


def test_version_comparison_is_numeric_not_textual() -> None:
    # "12.10" > "12.9" numerically; a string comparison would say the opposite.
    assert holds(Condition("a", "gt_fact", "b"), {"a": "12.10", "b": "12.9"})


def test_fill_templates() -> None:
    text = fill("torch {torch.version} on CUDA {torch.cuda}, arch {torch.arch_list}, {unknown}, {nope}", FACTS)
    assert text == "torch 2.1.0+cu121 on CUDA 12.1, arch sm_80, sm_90, unknown, unknown"
