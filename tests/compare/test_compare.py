"""``envdoctor compare``: real reports of throwaway environments, bad input, many nodes, formats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.envbuilder import Dist, make_env

# Requires-Dist as the real releases declare them (trimmed to what applies without extras).
TRANSFORMERS_4_29_1 = [
    "filelock",
    "huggingface-hub<1.0,>=0.14.1",
    "numpy>=1.17",
    "packaging>=20.0",
    "pyyaml>=5.1",
    "regex!=2019.12.17",
    "requests",
    "tokenizers!=0.11.3,<0.14,>=0.11.1",
    "tqdm>=4.27",
]
TRANSFORMERS_5_0_0 = [
    "filelock",
    "huggingface-hub<2.0,>=1.0.0",
    "numpy>=1.17",
    "packaging>=20.0",
    "pyyaml>=5.1",
    "regex!=2019.12.17",
    "tokenizers<=0.23.0,>=0.22.0",
    "typer-slim",
    "safetensors>=0.4.3",
    "tqdm>=4.27",
]
HUB_COMMON = ["filelock", "fsspec>=2023.5.0", "packaging>=20.9", "pyyaml>=5.1", "tqdm>=4.42.1"]
COMMON = {
    "filelock": "3.16.1",
    "numpy": "1.26.4",
    "packaging": "24.2",
    "pyyaml": "6.0.2",
    "regex": "2024.11.6",
    "requests": "2.32.3",
    "tqdm": "4.67.1",
    "safetensors": "0.4.5",
    "typer-slim": "0.15.1",
}


def _envdoctor(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envdoctor", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def _report(python: Path, path: Path) -> Path:
    result = _envdoctor("diagnose", "--python", str(python), "--json", "-o", str(path))
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(path.read_text())["schema"] == "envdoctor.diagnose/1"
    return path


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("compare")
    old = make_env(
        root,
        name="old",
        dists={
            **COMMON,
            "transformers": Dist("4.29.1", requires=TRANSFORMERS_4_29_1),
            "tokenizers": "0.13.3",
            "huggingface-hub": Dist(
                "0.26.0",
                requires=[
                    "filelock",
                    "fsspec>=2023.5.0",
                    "packaging>=20.9",
                    "pyyaml>=5.1",
                    "requests",
                    "tqdm>=4.42.1",
                    "typing-extensions>=3.7.4.3",
                ],
            ),
            "fsspec": "2024.10.0",
            "typing-extensions": "4.12.2",
        },
    )
    new = make_env(
        root,
        name="new",
        dists={
            **COMMON,
            "transformers": Dist("5.0.0", requires=TRANSFORMERS_5_0_0),
            "tokenizers": "0.22.1",
            "huggingface-hub": Dist(
                "1.1.0",
                requires=[
                    "filelock",
                    "fsspec>=2023.5.0",
                    "packaging>=20.9",
                    "pyyaml>=5.1",
                    "tqdm>=4.42.1",
                    "typing-extensions>=3.7.4.3",
                ],
            ),
            "fsspec": "2024.10.0",
            "typing-extensions": "4.12.2",
        },
    )
    return {"old": _report(old, root / "old.json"), "new": _report(new, root / "new.json"), "root": root}


def test_two_environments_that_differ_in_transformers(reports: dict[str, Path]) -> None:
    result = _envdoctor("compare", str(reports["new"]), str(reports["old"]), "--json")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["schema"] == "envdoctor.compare/1"
    assert document["matters"] is True
    by_name = {d["dimension"]: d for d in document["differences"]}
    assert by_name["transformers"]["level"] == "error"
    assert by_name["transformers"]["values"] == {"new": "5.0.0", "old": "4.29.1"}
    assert "Hugging Face stack" in by_name["transformers"]["why"]
    assert {"tokenizers", "huggingface-hub"} <= set(by_name)
    text = _envdoctor("compare", str(reports["new"]), str(reports["old"])).stdout
    assert "[✗] transformers: new: 5.0.0, old: 4.29.1" in text


def test_a_report_compared_with_itself_is_clean(reports: dict[str, Path]) -> None:
    result = _envdoctor("compare", str(reports["old"]), str(reports["old"]))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No difference that matters" in result.stdout


def test_standard_input_and_markdown(reports: dict[str, Path]) -> None:
    result = _envdoctor("compare", "-", str(reports["old"]), "--format", "markdown", stdin=reports["new"].read_text())
    assert result.returncode == 1
    assert result.stdout.startswith("### envdoctor compare: 2 environments")
    assert "| [✗] | transformers | stdin: 5.0.0, old: 4.29.1" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not JSON"),
        ('{"schema": "envdoctor.triage/1", "findings": []}', "not a diagnose report"),
        ('{"schema": "envdoctor.diagnose/2", "environment": {}}', "newer than this envdoctor reads"),
        ('{"schema": "envdoctor.diagnose/1", "environment": {"python": 3}}', "malformed environment"),
        ("[" * 100_000, "not JSON"),
    ],
)
def test_bad_reports_exit_2(reports: dict[str, Path], tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = _envdoctor("compare", str(reports["old"]), str(bad))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_fifo_and_a_single_report_are_refused(reports: dict[str, Path], tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    result = _envdoctor("compare", str(reports["old"]), str(fifo))
    assert result.returncode == 2 and "not a regular file" in result.stderr
    result = _envdoctor("compare", str(reports["old"]))
    assert result.returncode == 2 and "at least two" in result.stderr


def _with_driver(document: dict[str, Any], driver: str, max_cuda: str) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(document))
    copy["environment"]["host"]["driver_version"] = driver
    copy["environment"]["host"]["driver_max_cuda"] = max_cuda
    return copy


def test_many_nodes_single_out_the_odd_one(reports: dict[str, Path], tmp_path: Path) -> None:
    document = json.loads(reports["old"].read_text())
    folder = tmp_path / "reports"
    folder.mkdir()
    for index in range(12):
        node = _with_driver(document, "535.54.03" if index == 7 else "550.90.07", "12.2" if index == 7 else "12.4")
        (folder / f"node-{index:02d}.json").write_text(json.dumps(node))
    result = _envdoctor("compare", *sorted(str(p) for p in folder.iterdir()), "--json")
    document = json.loads(result.stdout)
    assert document["groups"][0] == [f"node-{i:02d}" for i in range(12) if i != 7]
    assert document["groups"][1] == ["node-07"]
    driver = next(d for d in document["differences"] if d["dimension"] == "NVIDIA driver")
    assert driver["odd"] == ["node-07"] and driver["majority"] == "550.90.07"
    text = _envdoctor("compare", *sorted(str(p) for p in folder.iterdir())).stdout
    assert "node-07: 535.54.03 where 11 environments have 550.90.07" in text


def test_output_file_placeholders_and_no_clobber(reports: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "out" / "%N.md"
    (tmp_path / "out").mkdir()
    args = ("compare", str(reports["old"]), str(reports["old"]), "--format", "markdown", "-o", str(target))
    result = _envdoctor(*args, env={"SLURMD_NODENAME": "gpu-node-3"})
    assert result.returncode == 0, result.stderr
    written = tmp_path / "out" / "gpu-node-3.md"
    assert written.read_text().startswith("### envdoctor compare")
    written.write_text("keep me")
    result = _envdoctor(*args, env={"SLURMD_NODENAME": "gpu-node-3"})
    assert result.returncode == 2 and "--force" in result.stderr
    assert written.read_text() == "keep me"
    assert _envdoctor(*args, "--force", env={"SLURMD_NODENAME": "gpu-node-3"}).returncode == 0
    assert written.read_text() != "keep me"


def test_gzip_reports_are_written_and_read(reports: dict[str, Path], tmp_path: Path) -> None:
    import gzip

    for name in ("a", "b"):
        path = tmp_path / f"{name}.json.gz"
        path.write_bytes(gzip.compress(reports["old"].read_bytes()))
    result = _envdoctor("compare", str(tmp_path / "a.json.gz"), str(tmp_path / "b.json.gz"), "--json")
    assert result.returncode == 0, result.stderr
    assert [e["name"] for e in json.loads(result.stdout)["environments"]] == ["a", "b"]
    written = tmp_path / "again.json.gz"
    _envdoctor("compare", str(tmp_path / "a.json.gz"), str(tmp_path / "b.json.gz"), "--json", "-o", str(written))
    assert json.loads(gzip.decompress(written.read_bytes()))["schema"] == "envdoctor.compare/1"
    assert written.stat().st_mode & 0o644 == 0o644
