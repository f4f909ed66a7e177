"""The API history: the static reader, the generated tables and the ``api-history`` lookup.

The reader is tested on real sources (the installed huggingface_hub, markupsafe and torch
of the test venv, read as text, never imported through the reader); the lookup on the
committed ``knowledge/api/`` tables, whose figures are checked against the packages' own
release notes (cited beside each assertion); triage on real logs.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import zipfile
from pathlib import Path

import pytest
from packaging.version import Version

from envdoctor.kb import api_history
from envdoctor.kb.api_scan import (
    PackageSpec,
    build_history,
    choose_releases,
    intervals,
    read_module,
    read_release,
)
from envdoctor.kb.lookups import known_lookups, run_lookup
from envdoctor.triage import triage_text


def _source(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    return Path(spec.origin)


# --- the reader ------------------------------------------------------------------------------


def test_reader_sees_the_lazy_init_of_huggingface_hub() -> None:
    path = _source("huggingface_hub")
    reading = read_module(path.read_text(encoding="utf-8"), "huggingface_hub", True)
    # the names live only in the _SUBMOD_ATTRS string lists of the lazy __init__
    assert {"hf_hub_download", "snapshot_download", "HfApi"} <= reading.names
    assert "cached_download" not in reading.names  # removed in 0.26 (the venv has a newer hub)


def test_reader_follows_definitions_imports_and_parameters() -> None:
    source = """
import warnings
from .sub import exported as renamed
from torch import nn
if True:
    CONSTANT = 1
def old(a, b=1, *, c, **kwargs):
    warnings.warn("old is deprecated, use new instead", FutureWarning)
class Model:
    def __init__(self, x, y=2):
        pass
    def forward(self, z):
        pass
    def _private(self, w):
        pass
"""
    reading = read_module(source, "pkg.mod", False, foreign=("torch",))
    assert {"renamed", "nn", "CONSTANT", "old", "Model"} <= reading.names
    assert "warnings" not in reading.names  # module aliases and stdlib helpers are no API of pkg.mod
    assert reading.params["old"] == frozenset({"a", "b", "c", "**"})
    assert reading.params["Model.__init__"] == frozenset({"x", "y"})
    assert reading.params["Model.forward"] == frozenset({"z"})
    assert "Model._private" not in reading.params
    assert reading.deprecated["old"].startswith("old is deprecated")
    assert reading.imports == {"torch:nn"}


def test_module_getattr_tables_literal_and_opaque() -> None:
    pillow_like = """
def __getattr__(name):
    old_resampling = {"ANTIALIAS": "LANCZOS"}
    if name in old_resampling:
        deprecate(name, 10, old_resampling[name])
        return Resampling[old_resampling[name]]
    raise AttributeError(name)
"""
    reading = read_module(pillow_like, "PIL.Image", False)
    assert "ANTIALIAS" in reading.names and not reading.opaque
    assert reading.deprecated["ANTIALIAS"] == "ANTIALIAS is deprecated; use LANCZOS instead"
    numpy_like = """
__former_attrs__ = {n: msg for n, msg in _type_info}
def __getattr__(attr):
    if attr in __former_attrs__:
        raise AttributeError(__former_attrs__[attr])
"""
    assert read_module(numpy_like, "numpy", True).opaque


def test_a_namespace_built_from_files_at_import_time_is_opaque() -> None:
    # transformers >= 4.52: _LazyModule's table comes from define_import_structure (every
    # submodule's __all__), so the top-level names are not in __init__.py itself.
    import transformers

    path = Path(transformers.__file__)
    reading = read_module(path.read_text(encoding="utf-8"), "transformers", True)
    assert reading.opaque
    bert = path.parent / "models" / "bert" / "__init__.py"
    assert read_module(bert.read_text(encoding="utf-8"), "transformers.models.bert", True).opaque
    assert not read_module("_import_structure = {'a': ['B']}\n", "pkg", True).opaque


def test_transformers_top_level_names_are_not_removed_where_the_reading_cannot_see_them() -> None:
    # The history read 4.52+ as opaque: AutoTokenizer is not "gone from 4.52 on".
    assert api_history.explain_name("transformers", "AutoTokenizer", {"dist.transformers": "5.24.0"}) is None
    assert api_history.import_conflicts({"accelerate": "1.15.0", "transformers": "5.24.0"}) == []


def test_reader_raises_on_source_it_cannot_parse() -> None:
    with pytest.raises(SyntaxError):
        read_module("print 'python 2'\n", "pkg", True)


def _wheel(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_release_reading_follows_star_imports_and_carries_unreadable_modules() -> None:
    markupsafe = _source("markupsafe").read_text(encoding="utf-8")
    spec = PackageSpec(name="demo", imports=("demo",))
    old = read_release(
        _wheel(
            {
                "demo/__init__.py": "from .core import *\n",
                "demo/core.py": "def kept(): pass\ndef dropped(a, b): pass\n",
                "demo/gone.py": "X = 1\n",
                "demo/broken.py": "Y = 1\n",
                "demo/tests/test_x.py": "Z = 1\n",
                "demo-1.0.dist-info/METADATA": "Name: demo\n",
            }
        ),
        "demo-1.0-py3-none-any.whl",
        spec,
        (),
    )
    new = read_release(
        _wheel(
            {
                "demo/__init__.py": "from .core import *\n",
                "demo/core.py": "def kept(): pass\ndef dropped(a): pass\n",
                "demo/broken.py": "def f[T](x: T) -> T: ...\n" if False else "print 'no'\n",
                "demo/real.py": markupsafe,
                "demo/native.pyi": "def compiled(x: int) -> int: ...\n",
                "demo/core.pyi": "def from_binary() -> None: ...\n",
            }
        ),
        "demo-2.0-py3-none-any.whl",
        spec,
        (),
    )
    assert old.names["demo"] == {"kept", "dropped"}
    assert "demo.tests.test_x" not in old.modules
    assert new.unreadable == {"demo.broken"}
    document = build_history(spec, [(Version("1.0"), old), (Version("2.0"), new)], index="test", skipped=[])
    assert document["modules"]["demo.gone"] == "0"
    assert document["modules"]["demo.real"] == "1"
    assert "demo.broken" not in document["modules"]  # in both releases
    assert "demo.broken" not in document["names"]  # unreadable in 2.0: its 1.0 names carried forward
    assert document["params"]["demo.core:dropped"] == {"@": "0-1", "b": "0"}
    assert "Markup" in document["names"]["demo.real"]
    # a compiled module known from its stub, and a loader's names completed by its stub (cv2)
    assert document["modules"]["demo.native"] == "1"
    assert document["names"]["demo.core"]["from_binary"] == "1"


def test_intervals_and_release_lines() -> None:
    assert intervals([0, 1, 2, 5, 7, 8]) == "0-2,5,7-8"
    assert api_history.parse_intervals("0-2,5,7-8") == {0, 1, 2, 5, 7, 8}
    versions = [Version(v) for v in ("0.9.0", "1.0.0", "1.0.3", "1.1.0rc1", "1.1.0", "1.1.2", "2.0.0.dev1")]
    assert choose_releases(versions, since="1.0") == [Version("1.0.3"), Version("1.1.2")]
    assert choose_releases(versions, group="major") == [Version("0.9.0"), Version("1.1.2")]


# --- the committed history -----------------------------------------------------------------------


def test_shipped_histories_state_their_reach_and_stay_small() -> None:
    from envdoctor.kb.paths import knowledge_root

    folder = Path(knowledge_root()) / "api"
    total = 0
    for path in folder.glob("*.json.gz"):
        document = json.loads(gzip.decompress(path.read_bytes()))
        assert document["releases"], path
        assert document["generated"] and document["index"], path
        total += path.stat().st_size
    assert 0 < total < 3 * 1024 * 1024  # compressed


@pytest.mark.parametrize(
    ("module", "name", "pin"),
    [
        # https://markupsafe.palletsprojects.com/en/stable/changes/#version-2-1-0 (soft_unicode removed)
        ("markupsafe", "soft_unicode", "markupsafe<2.1"),
        # https://github.com/huggingface/huggingface_hub/releases/tag/v0.26.0 (cached_download removed)
        ("huggingface_hub", "cached_download", "huggingface-hub<0.26"),
        # https://pillow.readthedocs.io/en/stable/releasenotes/10.0.0.html#constants (ANTIALIAS removed;
        # 9.1-9.5 answered it from a module __getattr__ with a deprecation warning)
        ("PIL.Image", "ANTIALIAS", "pillow<10.0"),
        # removed in 7.0.0, re-added (deprecated) in 7.1.0, removed again in 9.0.0:
        # https://pillow.readthedocs.io/en/stable/releasenotes/7.1.0.html#reinstate-pillow-version
        ("PIL", "PILLOW_VERSION", "pillow<9.0,!=7.0.*"),
    ],
)
def test_removed_names_get_the_pin_of_their_release_notes(module: str, name: str, pin: str) -> None:
    explained = api_history.explain_name(module, name)
    assert explained is not None and explained.direction == "removed"
    assert explained.pin == pin


def test_a_name_added_later_pins_the_first_release_line_with_it() -> None:
    # accelerate imports it from huggingface-hub>=0.21 (accelerate's setup.py requirement)
    explained = api_history.explain_name("huggingface_hub", "split_torch_state_dict_into_shards")
    assert explained is not None and explained.direction == "added"
    assert explained.pin == "huggingface-hub>=0.21"


def test_installed_version_decides_and_an_installed_release_with_the_name_is_not_explained() -> None:
    assert api_history.explain_name("huggingface_hub", "cached_download", {"dist.huggingface-hub": "0.25.2"}) is None
    explained = api_history.explain_name("huggingface_hub", "cached_download", {"dist.huggingface-hub": "0.30.1"})
    assert explained is not None and explained.installed == "0.30.1" and explained.pin == "huggingface-hub<0.26"


def test_a_name_is_not_mistaken_for_a_submodule_of_the_same_spelling() -> None:
    # hub's huggingface_hub.snapshot_download module existed up to 0.10; the function of that name
    # is exported by every release
    assert api_history.explain_name("huggingface_hub", "snapshot_download") is None
    assert api_history.explain_module("huggingface_hub.snapshot_download") is not None


def test_unknown_names_packages_and_top_level_modules_are_not_explained() -> None:
    assert api_history.explain_name("markupsafe", "soft_unicod") is None
    assert api_history.explain_name("not_a_tracked_package", "x") is None
    assert api_history.explain_module("huggingface_hub") is None
    assert api_history.explain_module("huggingface_hub.no_such_module") is None


def test_removed_module_and_removed_keyword() -> None:
    module = api_history.explain_module("huggingface_hub.commands.user")
    assert module is not None and module.pin == "huggingface-hub<1.0"  # the CLI moved to `hf` in 1.0
    keyword = api_history.explain_keyword("hf_hub_download", "legacy_cache_layout")
    # legacy_cache_layout came with the new cache (0.8) and went with the old one (0.26)
    assert keyword is not None and keyword.pin == "huggingface-hub>=0.8,<0.26"
    assert api_history.explain_keyword("forward", "past") is None  # too common a name to say who raised


def test_frames_name_the_caller() -> None:
    lines = [
        "Traceback (most recent call last):",
        '  File "/srv/app.py", line 1, in <module>',
        "    import jinja2",
        '  File "/venv/lib/python3.11/site-packages/jinja2/filters.py", line 13, in <module>',
        "    from markupsafe import soft_unicode",
        '  File "<frozen importlib._bootstrap>", line 1, in _handle_fromlist',
    ]
    assert api_history.callers_in(lines) == ("jinja2", "/venv/lib/python3.11/site-packages/jinja2/filters.py")
    assert api_history.callers_in(lines[:3]) == (None, "/srv/app.py")
    assert api_history.callers_in([]) == (None, None)
    jupyter = [
        "/tmp/ipykernel_35/1295698976.py in <module>",
        "---> 13 from scnn import StreamingCNN",
        "",
        "/kaggle/working/scnn.py in <module>",
    ]
    assert api_history.callers_in(jupyter) == (None, "/kaggle/working/scnn.py")


def test_lookup_is_registered_and_fills_declared_facts() -> None:
    lookup = known_lookups()["api-history"]
    facts = run_lookup("api-history", {"match.module": "markupsafe", "match.name": "soft_unicode"})
    assert facts is not None
    assert set(facts) <= set(lookup.facts)
    assert facts["api.pin"] == "markupsafe<2.1"
    assert "API history of markupsafe" in facts["api.history"]
    assert run_lookup("api-history", {"match.module": "markupsafe", "match.name": "escape"}) is None


# --- triage ---------------------------------------------------------------------------------------

_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "knowledge"


def test_triage_names_both_sides_of_the_conflict() -> None:
    log = (_FIXTURES / "VR200" / "hit-jinja211-markupsafe21.log").read_text(encoding="utf-8")
    result = triage_text(log, facts={})
    top = result.findings[0]
    assert top.id == "VR200"
    assert "markupsafe<2.1" in top.fix.constraints
    assert "jinja2" in top.cause
    # jinja2 3.0 stopped importing soft_unicode (https://jinja.palletsprojects.com/en/stable/changes/#version-3-0-0)
    assert "jinja2>=3.0" in top.fix.constraints


def test_hand_written_entry_takes_the_generic_reading_in() -> None:
    log = (
        "ImportError: cannot import name 'cached_download' from 'huggingface_hub' "
        "(/x/site-packages/huggingface_hub/__init__.py)\n"
    )
    findings = triage_text(log, facts={}).findings
    assert [f.id for f in findings] == ["VR112"]  # one finding for one cause
    assert findings[0].details["api_history"]["id"] == "VR200"


def test_refresh_writes_to_the_user_data_dir_and_the_newer_copy_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = api_history.load_history("markupsafe")
    assert shipped is not None
    document = json.loads(gzip.decompress(shipped.path.read_bytes()))
    document["generated"] = "9999-01-01T00:00:00+00:00"
    document["names"]["markupsafe"]["soft_unicode"] = "0"
    folder = tmp_path / "api"
    folder.mkdir()
    api_history.write_history(document, folder / "markupsafe.json.gz")
    monkeypatch.setenv("ENVDOCTOR_DATA_DIR", str(tmp_path))
    api_history.clear_cache()
    try:
        explained = api_history.explain_name("markupsafe", "soft_unicode")
        assert explained is not None and explained.history.path == folder / "markupsafe.json.gz"
    finally:
        monkeypatch.delenv("ENVDOCTOR_DATA_DIR")
        api_history.clear_cache()


@pytest.mark.network
def test_refresh_one_package_from_the_index(tmp_path: Path) -> None:
    written = api_history.refresh_packages(["markupsafe"], tmp_path)
    document = json.loads(gzip.decompress(written[0][0].read_bytes()))
    assert "2.0.1" in document["releases"]
    assert document["names"]["markupsafe"]["soft_unicode"]
    api_history.clear_cache()


def test_installed_files_have_the_last_word_on_a_claimed_absence(tmp_path: Path) -> None:
    import torch

    site = Path(torch.__file__).parent.parent
    # a submodule is importable by name whatever the package's __init__ binds
    assert api_history.installed_has(site, "torch.onnx", "symbolic_opset11") is True
    # a standard-library re-export (the history leaves those out) is still there
    assert api_history.installed_has(site, "torch.hub", "urlparse") is True
    assert api_history.installed_has(site, "torch.hub", "no_such_name_anywhere") is False
    # a module answering names at run time, or one whose source is not there: unknown
    lazy = tmp_path / "lazy"
    lazy.mkdir()
    (lazy / "__init__.py").write_text("def __getattr__(name):\n    raise AttributeError(name)\n")
    assert api_history.installed_has(tmp_path, "lazy", "anything") is None
    (lazy / "tables.py").write_text("__all__ = ['Listed']\ndef f():\n    local = 1\n")
    assert api_history.installed_has(tmp_path, "lazy.tables", "Listed") is None
    assert api_history.installed_has(tmp_path, "lazy.tables", "local") is False  # a function's local
    assert api_history.installed_has(tmp_path, "absent", "x") is None


@pytest.mark.parametrize(
    ("pins", "joined"),
    [
        (["huggingface-hub>=0.31", "huggingface-hub>=1.0", "huggingface-hub>=1.32"], "huggingface-hub>=1.32"),
        (["a>=1.0", "a<3", "a>=1.2", "a<=3"], "a>=1.2,<3"),
        (["a<2", "a<1.5,!=1.2"], "a<1.5,!=1.2"),
        (["a>=2", "a<1.5"], None),  # added in 2, gone in 1.5: no release has every name
        (["a>=2", "b<3"], None),
        (["not a pin ("], None),
    ],
)
def test_one_pin_for_every_name_a_package_lacks(pins: list[str], joined: str | None) -> None:
    from envdoctor.kb.facts import _joined_pin

    assert _joined_pin(pins) == joined


def test_names_one_package_lacks_from_one_dependency_are_one_item() -> None:
    from envdoctor.kb.facts import _one_item_per_pair

    def conflict(symbol: str, pin: str) -> dict[str, str]:
        return {"package": "p", "dependency": "d", "symbol": symbol, "present_in": "1.0 - 2.0", "pin": pin,
                "caller_pin": "p<2", "package_version": "2.1", "installed": "3.0"}  # fmt: skip

    items = _one_item_per_pair(
        [conflict("d.b", "d<3"), conflict("d.a", "d<2.5"), {**conflict("e.x", "e<1"), "dependency": "e"}]
    )
    assert len(items) == 2
    first = items[0]
    assert first["symbol"] == "d.a (and 1 more name)" and first["symbols"] == "d.a, d.b"
    assert first["pin"] == "d<2.5" and first["caller_pin"] == "p<2"
    assert items[1]["symbols"] == "e.x" and items[1]["symbol"] == "e.x"
