"""The parse cache: content-addressed, never stale, never needed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from envdoctor.kb import cache
from envdoctor.kb.loader import knowledge_root, lint_knowledge

DOC = 'id = "X"\n[match]\npatterns = ["a+b"]\nlimit = 3\nratio = 0.5\nflag = true\n'


@pytest.fixture()
def cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("ENVDOCTOR_CACHE_DIR", str(folder))
    monkeypatch.delenv("ENVDOCTOR_NO_CACHE", raising=False)
    return folder


def _written(folder: Path, name: str = "toml") -> dict[str, object]:
    cache.flush()
    data = json.loads((folder / f"{name}.json").read_text())
    assert isinstance(data["items"], dict)
    return data["items"]


def test_a_parsed_document_is_stored_and_served_equal(cache_folder: Path) -> None:
    first = cache.toml_document(DOC)
    assert first == tomllib.loads(DOC)
    items = _written(cache_folder)
    assert items == {cache.digest(DOC.encode()): first}
    # Served from the file by a fresh process: the same document.
    code = "from envdoctor.kb import cache; import json, sys; print(json.dumps(cache.toml_document(sys.argv[1])))"
    out = subprocess.run([sys.executable, "-c", code, DOC], capture_output=True, text=True, check=True, env=os.environ)
    assert json.loads(out.stdout) == first


def test_the_key_is_the_content_so_an_edit_is_never_served_stale(cache_folder: Path) -> None:
    cache.toml_document(DOC)
    edited = DOC.replace("limit = 3", "limit = 4")  # same length, as a quick edit in place would be
    assert cache.toml_document(edited)["match"]["limit"] == 4
    assert cache.toml_document(DOC)["match"]["limit"] == 3


def test_a_planted_entry_under_another_key_is_not_served(cache_folder: Path) -> None:
    cache_folder.mkdir()
    stamp = cache._STAMP
    poisoned = {"stamp": stamp, "items": {cache.digest(b"something else"): {"id": "EVIL"}}}
    (cache_folder / "toml.json").write_text(json.dumps(poisoned))
    cache._TOML.loaded_from = None  # as a new process would
    assert cache.toml_document(DOC)["id"] == "X"


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"[]",
        json.dumps({"stamp": "envdoctor 0.0.1; python 2.7; format 0", "items": {}}).encode(),
        b"\xff",
    ],
)
def test_a_corrupt_or_foreign_cache_file_is_ignored_and_replaced(cache_folder: Path, content: bytes) -> None:
    cache_folder.mkdir()
    (cache_folder / "toml.json").write_bytes(content)
    cache._TOML.loaded_from = None
    assert cache.toml_document(DOC) == tomllib.loads(DOC)
    assert cache.digest(DOC.encode()) in _written(cache_folder)


def test_dates_are_parsed_but_not_cached(cache_folder: Path) -> None:
    text = "when = 2024-01-02\n"
    assert str(cache.toml_document(text)["when"]) == "2024-01-02"
    cache.flush()
    assert not (cache_folder / "toml.json").exists()


def test_a_syntax_error_raises_as_tomllib_does(cache_folder: Path) -> None:
    with pytest.raises(tomllib.TOMLDecodeError):
        cache.toml_document("id = \n")


def test_no_cache_writes_nothing(cache_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVDOCTOR_NO_CACHE", "1")
    assert cache.cache_dir() is None
    assert cache.toml_document(DOC) == tomllib.loads(DOC)
    assert cache.memo("x", "k", lambda: [1]) == [1]
    cache.flush()
    assert not cache_folder.exists()


def test_an_unwritable_cache_folder_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ENVDOCTOR_CACHE_DIR", str(blocker / "cache"))
    assert cache.toml_document(DOC) == tomllib.loads(DOC)
    cache.flush()  # cannot create the folder: ignored
    assert blocker.read_text() == "not a folder"


def test_memo_computes_once_per_key(cache_folder: Path) -> None:
    calls: list[int] = []

    def compute() -> list[int]:
        calls.append(1)
        return [len(calls)]

    assert cache.memo("test", "key-1", compute) == [1]
    assert cache.memo("test", "key-1", compute) == [1]
    assert cache.memo("test", "key-2", compute) == [2]
    assert _written(cache_folder, "memo-test") == {"key-1": [1], "key-2": [2]}


def test_the_knowledge_loads_the_same_with_and_without_the_cache(
    cache_folder: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = tmp_path / "knowledge"
    shutil.copytree(knowledge_root(), root)
    cold, cold_problems = lint_knowledge(root)
    cache.flush()
    cache._TOML.loaded_from = None
    warm, warm_problems = lint_knowledge(root)
    monkeypatch.setenv("ENVDOCTOR_NO_CACHE", "1")
    plain, plain_problems = lint_knowledge(root)
    assert cold_problems == warm_problems == plain_problems == []
    assert [repr(e) for e in cold] == [repr(e) for e in warm] == [repr(e) for e in plain]
    assert len(_written(cache_folder)) >= len(plain)
    # An entry edited after it was cached is read as edited.
    path = root / "entries" / f"{plain[0].id}.toml"
    path.write_text(path.read_text().replace(f'id = "{plain[0].id}"', 'id = "ZZ999"'))
    monkeypatch.delenv("ENVDOCTOR_NO_CACHE")
    _, problems = lint_knowledge(root)
    assert any("file name must be the id (ZZ999.toml)" in p for p in problems)


def test_the_import_conflict_memo_gives_what_the_history_gives(
    cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envdoctor.kb import api_history

    installed = {"jinja2": "2.11.3", "markupsafe": "2.1.1"}  # soft_unicode left markupsafe in 2.1
    monkeypatch.setenv("ENVDOCTOR_NO_CACHE", "1")
    plain = api_history.import_conflicts(installed)
    assert [c["symbol"] for c in plain] == ["markupsafe.soft_unicode"]
    monkeypatch.delenv("ENVDOCTOR_NO_CACHE")
    assert api_history.import_conflicts(installed) == plain  # computed, stored
    assert api_history.import_conflicts(installed) == plain  # served
    (stored,) = _written(cache_folder, "memo-api-import-conflicts").values()
    assert stored == plain
    # Another version is another key: judged afresh, not served the stored answer.
    assert api_history.import_conflicts({"jinja2": "2.11.3", "markupsafe": "2.0.1"}) == []
