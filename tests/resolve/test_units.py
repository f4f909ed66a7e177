"""The pieces under the command: pip configuration, platform names, uv's output, knowledge rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from packaging.version import Version

from envdoctor.errors import BadInputError
from envdoctor.model import ImportBound
from envdoctor.resolve.engine import CONSTRAINED, REQUESTED, parse_compiled
from envdoctor.resolve.indexes import read_index_config
from envdoctor.resolve.rules import load_knowledge, rules_for, violated
from envdoctor.resolve.target import TargetPlatform, pip_platforms, uv_platform

# ---------------------------------------------------------------------- pip / uv configuration


def _home(tmp_path: Path, text: str) -> dict[str, str]:
    config = tmp_path / "config" / "pip"
    config.mkdir(parents=True)
    (config / "pip.conf").write_text(text)
    return {
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CONFIG_DIRS": str(tmp_path / "none"),
    }


def test_pip_conf_is_passed_to_uv_with_pips_index_semantics(tmp_path: Path) -> None:
    env = _home(
        tmp_path,
        "[global]\nindex-url = https://mirror.example/simple\nextra-index-url = file:///a/simple file:///b/simple\n"
        "find-links = /opt/wheels\nconstraint = /etc/caps.txt\n",
    )
    config = read_index_config(env, prefix=str(tmp_path / "prefix"))
    assert config.origin == "pip configuration"
    assert config.uv_args() == [
        "--index-url",
        "https://mirror.example/simple",
        "--extra-index-url",
        "file:///a/simple",
        "--extra-index-url",
        "file:///b/simple",
        "--find-links",
        "/opt/wheels",
        "--index-strategy",
        "unsafe-best-match",
    ]
    assert config.constraints == ("/etc/caps.txt",)
    assert config.pip_args() == []  # pip reads its own configuration


def test_environment_variables_win_over_pip_conf(tmp_path: Path) -> None:
    env = _home(tmp_path, "[global]\nindex-url = https://mirror.example/simple\n")
    env["PIP_INDEX_URL"] = "https://other.example/simple"
    assert read_index_config(env, prefix=str(tmp_path)).index_url == "https://other.example/simple"


def test_pip_config_file_devnull_switches_files_off(tmp_path: Path) -> None:
    env = _home(tmp_path, "[global]\nindex-url = https://mirror.example/simple\n")
    env["PIP_CONFIG_FILE"] = os.devnull
    config = read_index_config(env, prefix=str(tmp_path))
    assert config.origin == "default" and config.uv_args() == []


def test_uvs_own_configuration_wins(tmp_path: Path) -> None:
    env = _home(tmp_path, "[global]\nindex-url = https://mirror.example/simple\n")
    env["UV_INDEX_URL"] = "https://uv.example/simple"
    config = read_index_config(env, prefix=str(tmp_path))
    assert config.origin == "uv" and config.uv_args() == []


def test_flags_win_over_everything(tmp_path: Path) -> None:
    env = _home(tmp_path, "[global]\nindex-url = https://mirror.example/simple\n")
    config = read_index_config(env, index_url="https://flag.example/simple", prefix=str(tmp_path))
    assert config.origin == "flags"
    assert config.pip_args() == ["--index-url", "https://flag.example/simple"]


# ---------------------------------------------------------------------- platforms


@pytest.mark.parametrize(
    ("tag", "triple", "macos"),
    [
        ("manylinux_2_28_x86_64", "x86_64-manylinux_2_28", None),
        ("manylinux2014_aarch64", "aarch64-manylinux_2_17", None),
        ("manylinux_2_5_x86_64", "x86_64-manylinux_2_17", None),
        ("musllinux_1_2_x86_64", "x86_64-unknown-linux-musl", None),
        ("macosx_11_0_arm64", "aarch64-apple-darwin", "11.0"),
        ("macosx_10_15_x86_64", "x86_64-apple-darwin", "10.15"),
        ("win_amd64", "x86_64-pc-windows-msvc", None),
    ],
)
def test_uv_platform_names(tag: str, triple: str, macos: str | None) -> None:
    assert uv_platform(tag) == (triple, macos)


def test_unknown_platform_is_bad_input() -> None:
    with pytest.raises(BadInputError, match="--platform 'solaris_sparc'"):
        uv_platform("solaris_sparc")


def test_pip_platforms_spell_out_older_glibc_and_macos() -> None:
    linux = pip_platforms("manylinux_2_28_x86_64")
    assert linux[0] == "manylinux_2_28_x86_64"
    assert {"manylinux_2_24_x86_64", "manylinux_2_18_x86_64", "manylinux2014_x86_64", "manylinux1_x86_64"} - set(
        linux
    ) == {"manylinux1_x86_64"}
    assert "macosx_11_0_arm64" in pip_platforms("macosx_14_0_arm64")
    assert "macosx_10_9_x86_64" in pip_platforms("macosx_11_0_x86_64")


def test_target_arguments() -> None:
    fresh = TargetPlatform.fresh("3.12", "macosx_11_0_arm64")
    assert fresh.uv_args() == (
        ["--python-version", "3.12", "--python-platform", "aarch64-apple-darwin"],
        {"MACOSX_DEPLOYMENT_TARGET": "11.0"},
    )
    real = TargetPlatform((3, 11), interpreter="/venv/bin/python", python_full_version="3.11.7")
    assert real.uv_args() == (["--python", "/venv/bin/python"], {})
    assert real.label == "CPython 3.11.7 (/venv/bin/python)"
    with pytest.raises(BadInputError, match=r"expected X\.Y"):
        TargetPlatform.fresh("3", None)


# ---------------------------------------------------------------------- uv's output


# `uv pip compile --no-header --annotation-style split` (uv 0.13.9), trimmed.
COMPILED = """\
huggingface-hub==0.25.2
    # via
    #   -c /tmp/envdoctor-uv-x/envdoctor.txt
    #   sentence-transformers
    #   transformers
sentence-transformers==2.2.2
    # via -r /tmp/envdoctor-uv-x/requirements.in
torch==2.9.0
    # via transformers[torch]
"""


def test_parse_compiled_reads_pins_and_parents() -> None:
    pins, via = parse_compiled(COMPILED)
    assert pins == {"huggingface-hub": "0.25.2", "sentence-transformers": "2.2.2", "torch": "2.9.0"}
    assert via["huggingface-hub"] == (CONSTRAINED, "sentence-transformers", "transformers")
    assert via["sentence-transformers"] == (REQUESTED,)
    assert via["torch"] == ("transformers",)


# ---------------------------------------------------------------------- knowledge rules


def test_rules_on_a_proposed_set() -> None:
    knowledge = load_knowledge()
    versions = {
        "torch": Version("2.1.0"),
        "torchvision": Version("0.17.0"),
        "numpy": Version("2.1.3"),
        "sentence-transformers": Version("2.2.2"),
        "huggingface-hub": Version("0.36.0"),
        "mmdet": Version("3.3.0"),
    }
    rules = rules_for(versions, knowledge)
    broken = {r.requirement: r for r in violated(rules, versions)}
    assert set(broken) >= {"torchvision==0.16.*", "numpy<2", "huggingface-hub<0.26", "mmcv<2.2.0,>=2.0.0rc4"}
    assert broken["mmcv<2.2.0,>=2.0.0rc4"].adds  # mmdet never declares mmcv: the rule adds it
    assert "cached_download" in broken["huggingface-hub<0.26"].reason
    # sentence-transformers 2.3.0 no longer imports it.
    fixed = {**versions, "sentence-transformers": Version("2.3.0")}
    assert not [r for r in rules_for(fixed, knowledge) if r.name == "huggingface-hub"]


def test_import_bounds_apply_only_to_the_installed_release() -> None:
    bound = ImportBound(
        "transformers", "tokenizers>=0.11.1,!=0.11.3,<0.14", "transformers/dependency_versions_table.py"
    )
    versions = {"transformers": Version("4.29.1"), "tokenizers": Version("0.15.2")}
    kept = rules_for(versions, load_knowledge(), import_bounds=[bound], installed=versions)
    assert [r.requirement for r in violated(kept, versions)] == ["tokenizers!=0.11.3,<0.14,>=0.11.1"]
    moved = {**versions, "transformers": Version("4.40.0")}
    assert not rules_for(moved, load_knowledge(), import_bounds=[bound], installed=versions)


def test_diagnose_checks_run_on_the_proposed_versions(tmp_path: Path) -> None:
    from envdoctor.probe import collect
    from envdoctor.resolve.solve import _check_rules
    from tests.envbuilder import make_env

    python = make_env(tmp_path, dists={"filelock": "3.13.1"})
    environment = collect(str(python))
    notes: list[str] = []
    proposed = {"torch": "2.1.0", "torchvision": "0.17.0", "numpy": "2.1.3", "filelock": "3.13.1"}
    rules = _check_rules(environment, proposed, load_knowledge(), notes)
    assert notes == []
    found = {(r.requirement, r.reason.split()[0]) for r in rules}
    assert ("numpy<2", "PY006") in found
    assert any(req.startswith("torchvision==0.16") and entry == "TH002" for req, entry in found)
    assert all(r.kind == "check" for r in rules)
