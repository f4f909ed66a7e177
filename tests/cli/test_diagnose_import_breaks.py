"""``diagnose`` reports environments that break at import, before anything is imported.

Issue 10/11: sentence-transformers 2.2.2 with huggingface-hub 0.26 (``cannot import name
'cached_download'``) and googleapis-common-protos 1.53 with protobuf 4 (``Descriptors cannot
be created directly``). The venvs are simulated: real ``METADATA`` of those releases
(``tests/cli/data/metadata/``), no package code at all, so the findings can only come from
the installed versions, never from importing anything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_diagnose_simulated import diagnose
from tests.envbuilder import Dist, make_env

METADATA = Path(__file__).resolve().parent / "data" / "metadata"


def _dists(*releases: str) -> dict[str, Dist]:
    dists = {}
    for release in releases:
        name, _, version = release.rpartition("-")
        dists[name] = Dist(version, metadata=(METADATA / f"{release}.METADATA").read_text(encoding="utf-8"))
    return dists


def _ids(document: dict[str, object]) -> list[str]:
    findings = document["findings"]
    assert isinstance(findings, list)
    return [f["id"] for f in findings]


@pytest.mark.slow
def test_sentence_transformers_222_with_hub_026_is_an_error(tmp_path: Path) -> None:
    python = make_env(tmp_path, dists=_dists("sentence-transformers-2.2.2", "huggingface-hub-0.26.0"))
    code, document = diagnose(python)
    assert code == 1
    finding = next(f for f in document["findings"] if f["id"] == "VR112")
    assert finding["severity"] == "error"
    assert "huggingface-hub<0.26" in finding["fix"]["constraints"]


@pytest.mark.slow
def test_sentence_transformers_230_with_hub_026_is_not_reported(tmp_path: Path) -> None:
    python = make_env(tmp_path, dists=_dists("sentence-transformers-2.3.0", "huggingface-hub-0.26.0"))
    _code, document = diagnose(python)
    assert "VR112" not in _ids(document)


@pytest.mark.slow
def test_googleapis_common_protos_153_with_protobuf_4_is_an_error(tmp_path: Path) -> None:
    python = make_env(tmp_path, dists=_dists("googleapis-common-protos-1.53.0", "protobuf-4.21.12"))
    code, document = diagnose(python)
    assert code == 1
    assert "VR113" in _ids(document)


@pytest.mark.slow
def test_regenerated_googleapis_common_protos_with_protobuf_4_is_not_reported(tmp_path: Path) -> None:
    python = make_env(tmp_path, dists=_dists("googleapis-common-protos-1.56.1", "protobuf-4.21.12"))
    _code, document = diagnose(python)
    assert "VR113" not in _ids(document)
