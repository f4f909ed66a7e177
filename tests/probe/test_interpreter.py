"""The interpreter script and PythonFacts, on real throwaway venvs with written metadata."""

from __future__ import annotations

import os
import shutil
import stat
import sys
import time
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.tags import sys_tags

from envdoctor.errors import InterpreterError
from envdoctor.model import PythonFacts
from envdoctor.probe.interpreter import probe_python, resolve_interpreter
from envdoctor.probe.runner import SubprocessRunner
from tests.envbuilder import MMDET_330_INIT, Dist, make_env, site_packages, user_site_env

DATA = Path(__file__).parent / "data"
RUNNER = SubprocessRunner()


MMSEG_122_INIT = """\
import mmcv
import mmengine
from packaging.version import parse

from .version import __version__, version_info

MMCV_MIN = '2.0.0rc4'
MMCV_MAX = '2.2.0'
MMENGINE_MIN = '0.5.0'
MMENGINE_MAX = '1.0.0'


def digit_version(version_str: str, length: int = 4):
    return version_str


mmcv_min_version = digit_version(MMCV_MIN)
mmcv_max_version = digit_version(MMCV_MAX)
mmcv_version = digit_version(mmcv.__version__)

mmengine_min_version = digit_version(MMENGINE_MIN)
mmengine_max_version = digit_version(MMENGINE_MAX)
mmengine_version = digit_version(mmengine.__version__)

assert (mmcv_min_version <= mmcv_version < mmcv_max_version), \\
    f'MMCV=={mmcv.__version__} is used but incompatible. ' \\
    f'Please install mmcv>={mmcv_min_version}, <{mmcv_max_version}.'

assert (mmengine_min_version <= mmengine_version < mmengine_max_version), \\
    f'MMEngine=={mmengine.__version__} is used but incompatible. ' \\
    f'Please install mmengine>={mmengine_min_version}, ' \\
    f'<{mmengine_max_version}.'
"""

# mmdet 2.x kept an inclusive maximum (open-mmlab/mmdetection v2.7.0 mmdet/__init__.py).
MMDET_2X_INIT = """\
import mmcv

mmcv_minimum_version = '1.1.5'
mmcv_maximum_version = '1.3'
mmcv_version = digit_version(mmcv.__version__)

assert (mmcv_version >= digit_version(mmcv_minimum_version)
        and mmcv_version <= digit_version(mmcv_maximum_version)), \\
    f'MMCV=={mmcv.__version__} is used but incompatible.'
"""


def probe(python: Path | str, env: dict[str, str] | None = None) -> PythonFacts:
    facts, _ = probe_python(
        resolve_interpreter(str(python)),
        runner=RUNNER,
        timeout=30,
        environ=env if env is not None else dict(os.environ),
    )
    return facts


def bounds(facts: PythonFacts, package: str) -> list[str]:
    return [b.requirement for b in facts.import_bounds if b.package == package]


def test_transformers_4_29_1_runtime_bounds_with_tokenizers_0_15_2(tmp_path: Path) -> None:
    files = {
        f"transformers/{name}": (DATA / "transformers-4.29.1" / f"{name}.txt").read_text()
        for name in ("dependency_versions_table.py", "dependency_versions_check.py")
    }
    files["transformers/__init__.py"] = "raise RuntimeError('never imported')\n"
    python = make_env(
        tmp_path,
        dists={
            "transformers": Dist("4.29.1", requires=["tokenizers!=0.11.3,<0.14,>=0.11.1"]),
            "tokenizers": "0.15.2",
        },
        files=files,
    )
    facts = probe(python)
    required = bounds(facts, "transformers")
    # "python tqdm regex requests packaging filelock numpy tokenizers".split(); the
    # `sys.version_info < (3, 7)/(3, 8)` appends do not apply to this interpreter.
    assert required == [
        "python>=3.7.0",
        "tqdm>=4.27",
        "regex!=2019.12.17",
        "requests",
        "packaging>=20.0",
        "filelock",
        "numpy>=1.17",
        "tokenizers>=0.11.1,!=0.11.3,<0.14",
    ]
    source = next(b.source for b in facts.import_bounds if "tokenizers" in b.requirement)
    assert source.endswith("transformers/dependency_versions_table.py")
    tokenizers = facts.distribution("tokenizers")
    assert tokenizers is not None and tokenizers.version == "0.15.2"


def test_transformers_check_list_follows_target_python_version(tmp_path: Path) -> None:
    from envdoctor.probe.bounds import dependency_table_bounds

    package = tmp_path / "transformers"
    package.mkdir()
    for name in ("dependency_versions_table.py", "dependency_versions_check.py"):
        shutil.copy(DATA / "transformers-4.29.1" / f"{name}.txt", package / name)
    old = [b.requirement for b in dependency_table_bounds(package, "transformers", (3, 6, 15))]
    assert "dataclasses" in old and "importlib_metadata" in old
    new = [b.requirement for b in dependency_table_bounds(package, "transformers", (3, 11, 7))]
    assert "dataclasses" not in new and "importlib_metadata" not in new


def test_openmmlab_bounds_read_from_installed_sources(tmp_path: Path) -> None:
    python = make_env(
        tmp_path,
        dists={
            "mmdet": "3.3.0",
            "mmcv": "2.2.0",
            "mmengine": "0.10.7",
            "mmsegmentation": Dist("1.2.2", top_level=["mmseg"]),
        },
        files={"mmdet/__init__.py": MMDET_330_INIT, "mmseg/__init__.py": MMSEG_122_INIT},
    )
    facts = probe(python)
    assert bounds(facts, "mmdet") == ["mmcv>=2.0.0rc4,<2.2.0", "mmengine>=0.7.1,<1.0.0"]
    assert bounds(facts, "mmseg") == ["mmcv>=2.0.0rc4,<2.2.0", "mmengine>=0.5.0,<1.0.0"]
    mmcv = facts.distribution("mmcv")
    assert mmcv is not None and mmcv.version == "2.2.0"


def test_openmmlab_2x_inclusive_maximum(tmp_path: Path) -> None:
    from envdoctor.probe.bounds import openmmlab_bounds

    init = tmp_path / "__init__.py"
    init.write_text(MMDET_2X_INIT)
    assert [b.requirement for b in openmmlab_bounds(init, "mmdet")] == ["mmcv>=1.1.5,<=1.3"]


def test_two_distributions_providing_cv2(tmp_path: Path) -> None:
    python = make_env(
        tmp_path,
        dists={
            "opencv-python": Dist("4.8.0.74", top_level=["cv2"]),
            "opencv-python-headless": Dist("4.8.0.74", top_level=["cv2"]),
        },
        files={"cv2/__init__.py": ""},
    )
    facts = probe(python)
    (dup,) = [d for d in facts.duplicates if d.kind == "same-module"]
    assert dup.name == "cv2"
    assert sorted(Path(p).name for p in dup.installs) == [
        "opencv_python-4.8.0.74.dist-info",
        "opencv_python_headless-4.8.0.74.dist-info",
    ]


def test_user_site_copy_is_seen_beside_the_venv_copy(tmp_path: Path) -> None:
    # site.py adds a venv's own site-packages before the user site (the user site
    # shadows only the base interpreter's, e.g. a conda env): both copies are listed,
    # the venv's is active.
    python = make_env(tmp_path, dists={"shadowed-pkg": "2.0.0"}, system_site_packages=True)
    env = user_site_env(tmp_path / "userbase", {"shadowed-pkg": "1.26.4"})
    facts = probe(python, env)
    assert facts.user_site is not None and facts.user_site.startswith(str(tmp_path / "userbase"))
    assert any(p.startswith(str(tmp_path / "userbase")) for p in facts.sys_path)
    active = facts.distribution("shadowed-pkg")
    assert active is not None and active.version == "2.0.0"
    (dup,) = [d for d in facts.duplicates if d.kind == "same-distribution" and d.name == "shadowed-pkg"]
    assert [Path(p).name for p in dup.installs] == ["shadowed_pkg-2.0.0.dist-info", "shadowed_pkg-1.26.4.dist-info"]
    assert dup.active is not None and dup.active.startswith(str(python.parent.parent))
    assert [d.version for d in facts.distributions if d.key == "shadowed-pkg"] == ["2.0.0", "1.26.4"]


def test_pythonpath_copy_shadows_the_venv(tmp_path: Path) -> None:
    python = make_env(tmp_path, dists={"numpy": "2.0.0"})
    from tests.envbuilder import write_dist

    shadow = tmp_path / "shadow"
    write_dist(shadow, "numpy", "1.26.4")
    facts = probe(python, {**os.environ, "PYTHONPATH": str(shadow)})
    active = facts.distribution("numpy")
    assert active is not None and active.version == "1.26.4" and active.location == str(shadow)
    (dup,) = [d for d in facts.duplicates if d.name == "numpy"]
    assert dup.active is not None and dup.active.startswith(str(shadow))


def test_two_versions_in_one_site_packages_have_no_active(tmp_path: Path) -> None:
    python = make_env(tmp_path, dists={"numpy": "1.26.4"})
    from tests.envbuilder import write_dist

    write_dist(site_packages(python.parent.parent), "numpy", "2.0.0")
    facts = probe(python)
    (dup,) = [d for d in facts.duplicates if d.name == "numpy"]
    assert dup.kind == "same-distribution" and dup.active is None


def test_corrupt_metadata_is_recorded_and_the_rest_survives(tmp_path: Path) -> None:
    python = make_env(tmp_path, dists={"good": "1.0", "bad": Dist("0.1", metadata="\x00garbage with no headers")})
    info = site_packages(python.parent.parent) / "undecodable-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_bytes(b"Name: undecodable\nVersion: \xff\xfe\n")
    facts = probe(python)
    bad = facts.distribution("bad")
    assert bad is not None and bad.metadata_error and bad.version == "0.1"
    broken = facts.distribution("undecodable")
    assert broken is not None and "METADATA" in (broken.metadata_error or "")
    good = facts.distribution("good")
    assert good is not None and good.metadata_error is None


def test_top_level_from_record_when_top_level_txt_is_missing(tmp_path: Path) -> None:
    python = make_env(
        tmp_path,
        dists={"flatpkg": Dist("1.0", top_level=[], files={"flat_mod.py": "", "pkgdir/__init__.py": ""})},
    )
    facts = probe(python)
    dist = facts.distribution("flatpkg")
    assert dist is not None and set(dist.top_level) == {"flat_mod", "pkgdir"}


def test_module_files_list_extensions_without_importing(tmp_path: Path) -> None:
    python = make_env(
        tmp_path,
        dists={"mmcv": "2.1.0", "torchvision": "0.16.0"},
        files={
            "mmcv/__init__.py": "raise SystemExit('imported!')\n",
            "mmcv/_ext.cpython-38-x86_64-linux-gnu.so": "",
            "torchvision/__init__.py": "",
        },
    )
    facts = probe(python)
    assert [Path(p).name for p in facts.module_files["mmcv._ext"]] == ["_ext.cpython-38-x86_64-linux-gnu.so"]
    assert facts.module_files["torchvision._C"] == ()
    assert "detectron2._C" not in facts.module_files


def test_interpreter_facts_match_packaging(tmp_path: Path) -> None:
    facts = probe(sys.executable)
    ours = list(facts.tags)
    theirs = [str(t) for t in sys_tags()]
    assert ours[0] == theirs[0]
    assert set(ours) <= set(theirs)
    assert dict(facts.markers) == default_environment()
    assert facts.version == ".".join(map(str, sys.version_info[:3]))
    assert facts.in_venv == (sys.prefix != sys.base_prefix)
    assert os.path.dirname(os.path.abspath(__file__)) not in facts.sys_path


def test_venv_directory_resolves_to_its_python(tmp_path: Path) -> None:
    python = make_env(tmp_path, dists={"six": "1.16.0"})
    facts = probe(python.parent.parent)
    assert facts.prefix == str(python.parent.parent)
    assert facts.in_venv
    assert facts.distribution("six") is not None


def test_nothing_is_written_into_the_environment(tmp_path: Path) -> None:
    python = make_env(tmp_path, dists={"mmdet": "3.3.0"}, files={"mmdet/__init__.py": MMDET_330_INIT})
    before = sorted(p for p in python.parent.parent.rglob("*"))
    probe(python)
    assert sorted(p for p in python.parent.parent.rglob("*")) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any directory")
def test_unreadable_site_directory_is_unknown(tmp_path: Path) -> None:
    python = make_env(tmp_path, dists={"six": "1.16.0"})
    locked = tmp_path / "locked"
    locked.mkdir()
    (site_packages(python.parent.parent) / "extra.pth").write_text(str(locked) + "\n")
    locked.chmod(0)
    try:
        facts = probe(python)
    finally:
        locked.chmod(stat.S_IRWXU)
    assert any(str(locked) in key for key in facts.unknown)
    assert facts.distribution("six") is not None


# --------------------------------------------------------------------------- bad input


def _script(tmp_path: Path, name: str, body: str, *, executable: bool = True) -> Path:
    path = tmp_path / name
    path.write_text(body)
    if executable:
        path.chmod(0o755)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda t: t / "missing", "no such file"),
        (lambda t: _script(t, "notes.txt", "hello\n", executable=False), "not executable"),
        (lambda t: (t / "emptydir").mkdir() or t / "emptydir", "no bin/python"),
        (lambda t: Path("/bin/true"), "printed nothing"),
        (lambda t: Path("/bin/echo"), "not a Python interpreter"),
        (lambda t: _script(t, "fails", "#!/bin/sh\necho boom >&2\nexit 3\n"), "status 3: boom"),
        (lambda t: _script(t, "garbage", "#!/bin/sh\necho '@@ENVDOCTOR-JSON@@'\necho '{not json'\n"), "malformed"),
        (lambda t: _script(t, "noshebang", "just text, executable\n"), "cannot run it"),
        (lambda t: _script(t, "segv", "#!/bin/sh\nkill -SEGV $$\n"), "SIGSEGV"),
    ],
    ids=[
        "missing",
        "text-file",
        "dir-without-python",
        "bin-true",
        "bin-echo",
        "exits-nonzero",
        "garbage",
        "no-shebang",
        "segfault",
    ],
)
def test_bad_interpreter_is_a_clear_error(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    target = make(tmp_path)
    start = time.monotonic()
    with pytest.raises(InterpreterError) as info:
        probe_python(resolve_interpreter(str(target)), runner=RUNNER, timeout=10, environ=dict(os.environ))
    assert time.monotonic() - start < 5
    text = str(info.value)
    assert message in text
    assert str(target) in text
    assert "\n" not in text


def test_hanging_interpreter_times_out(tmp_path: Path) -> None:
    target = _script(tmp_path, "hangs", "#!/bin/sh\nsleep 30 &\nsleep 30\n")
    start = time.monotonic()
    with pytest.raises(InterpreterError, match="did not answer within"):
        probe_python(resolve_interpreter(str(target)), runner=RUNNER, timeout=1, environ=dict(os.environ))
    assert time.monotonic() - start < 5


def _python38() -> str | None:
    for candidate in ("/root/.pyenv/versions/3.8.18/bin/python3.8", "/usr/bin/python3.8"):
        if Path(candidate).is_file():
            return candidate
    return None


@pytest.mark.skipif(_python38() is None, reason="needs a Python 3.8 interpreter")
def test_script_runs_on_python_3_8(tmp_path: Path) -> None:
    python = make_env(tmp_path, dists={"six": "1.16.0"}, base_python=_python38())
    facts = probe(python)
    assert facts.version.startswith("3.8.")
    assert facts.tags[0].startswith("cp38-cp38-")
    assert facts.distribution("six") is not None
