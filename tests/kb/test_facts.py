"""Derived facts: driver status, GPU arch support, requirement violations with markers."""

from __future__ import annotations

import pytest

from envdoctor.kb.compat import load_compat
from envdoctor.kb.facts import _arch_supported, build_facts
from envdoctor.model import Distribution, Environment, Gpu, HostFacts, ImportBound, PythonFacts, TorchBuild

COMPAT = load_compat()


def _env(
    *dists: Distribution, torch: TorchBuild | None = None, host: HostFacts | None = None, **python: object
) -> Environment:
    facts = PythonFacts(
        executable="/v/bin/python",
        version="3.11.7",
        implementation="cpython",
        platform="linux-x86_64",
        machine="x86_64",
        prefix="/v",
        base_prefix="/usr",
        in_venv=True,
        markers={"python_version": "3.11", "sys_platform": "linux", "platform_machine": "x86_64"},
        distributions=dists,
        **python,  # type: ignore[arg-type]
    )
    return Environment(python=facts, host=host or HostFacts(), torch=torch)


@pytest.mark.parametrize(
    ("capability", "arch_list", "expected"),
    [
        ("8.0", ("sm_80", "sm_90"), True),
        ("8.6", ("sm_80",), True),  # same-major SASS runs on a newer minor
        ("8.0", ("sm_86",), False),  # but not on an older one
        ("12.0", ("sm_50", "sm_90"), False),
        ("12.0", ("sm_90", "compute_90"), True),  # PTX JIT-compiles for newer GPUs
        ("9.0", ("sm_90a",), True),
        ("10.0", ("sm_90a",), False),  # arch-specific SASS runs only on that exact arch
        ("3.7", ("sm_50", "sm_60"), False),
        (None, ("sm_80",), None),
        ("8.0", None, None),
    ],
)
def test_arch_supported(capability: str | None, arch_list: tuple[str, ...] | None, expected: bool | None) -> None:
    assert _arch_supported(capability, arch_list) is expected


@pytest.mark.parametrize(
    ("driver", "status"),
    [("535.104.05", "ok"), ("525.60.13", "minor-compat"), ("470.182.03", "too-old"), ("450.51.06", "too-old")],
)
def test_driver_status_from_driver_version_alone(driver: str, status: str) -> None:
    # No NVML: only /proc/driver/nvidia/version gave the driver; its CUDA comes from the table.
    env = _env(torch=TorchBuild(version="2.1.0+cu121", cuda="12.1"), host=HostFacts(driver_version=driver))
    assert build_facts(env, COMPAT).scalars["cuda.driver_status"] == status


def test_requirement_markers_are_evaluated_for_the_target_interpreter() -> None:
    env = _env(
        Distribution(
            "pkg", "1.0", "/s", ('tomli>=1; python_version < "3.11"', 'colorama; sys_platform == "win32"', "six>=2")
        ),
        Distribution("six", "1.16.0", "/s"),
    )
    violations = build_facts(env, COMPAT).collections["requirement_violations"]
    assert [(v["dependency"], v["problem"]) for v in violations] == [("six", "version")]


def test_first_distribution_on_sys_path_wins() -> None:
    env = _env(Distribution("numpy", "1.26.4", "/user-site"), Distribution("numpy", "2.0.0", "/venv"))
    assert build_facts(env, COMPAT).scalars["dist.numpy"] == "1.26.4"


def test_import_bounds_only_report_version_violations() -> None:
    env = _env(
        Distribution("transformers", "4.29.1", "/s"),
        Distribution("tokenizers", "0.13.3", "/s"),
        import_bounds=(
            ImportBound(
                "transformers", "tokenizers>=0.11.1,!=0.11.3,<0.14", "/s/transformers/dependency_versions_table.py"
            ),
            ImportBound("transformers", "huggingface-hub>=0.14.1,<1.0", "/s/transformers/dependency_versions_table.py"),
        ),
    )
    # tokenizers satisfies its bound; an absent huggingface-hub is a missing requirement (PY002), not a bound violation.
    assert build_facts(env, COMPAT).collections["import_bound_violations"] == ()


def test_gpu_arch_falls_back_to_the_compat_table() -> None:
    env = _env(
        torch=TorchBuild(version="2.1.0+cu121", cuda="12.1", arch_list=None),
        host=HostFacts(driver_version="570.124.06", gpus=(Gpu(0, "NVIDIA GeForce RTX 5090", 32607, "12.0"),)),
    )
    (gpu,) = build_facts(env, COMPAT).collections["gpus"]
    assert gpu["arch_source"] == "compat table"
    assert gpu["supported"] is False
