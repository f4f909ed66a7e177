"""Read a ``diagnose --json`` report: the one bounded, schema-checked reader.

``triage --env REPORT`` takes its facts from one, ``compare`` and ``fleet`` read many. A
report is at most :data:`MAX_REPORT_BYTES` (gzip-compressed ones, written with ``-o
NAME.json.gz``, are unpacked within the same bound), must be UTF-8 JSON whose nesting
``json`` can parse, and must carry the ``envdoctor.diagnose/1`` schema: a newer major version
is refused (its meaning may have changed), any other schema is not a report. ``bare=True``
also takes a bare environment object (what ``envdoctor.probe()`` returns, serialised).
Every problem is a :class:`~envdoctor.errors.BadInputError` naming the input.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import IO

from envdoctor.errors import BadInputError, require_regular_file
from envdoctor.model import Environment, from_jsonable

__all__ = ["MAX_REPORT_BYTES", "SCHEMA", "environment_of", "read_bounded", "read_report", "read_report_bytes"]

SCHEMA = "envdoctor.diagnose/1"
#: A report of one environment is tens of KB; a thousand times that is not a report.
MAX_REPORT_BYTES = 64 * 1024 * 1024
_EXPECTED = "expected `envdoctor diagnose --json` output"


def read_bounded(stream: IO[bytes], label: str) -> bytes:
    """The bytes of a report from ``stream``, unpacked if gzip, refused past the bound."""
    data = stream.read(MAX_REPORT_BYTES + 1)
    if data[:2] == b"\x1f\x8b":  # a report written with -o NAME.json.gz
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as unpacked:
                data = unpacked.read(MAX_REPORT_BYTES + 1)
        except (OSError, EOFError) as exc:
            raise BadInputError(f"{label}: a corrupt gzip file ({exc})") from None
    if len(data) > MAX_REPORT_BYTES:
        raise BadInputError(f"{label}: larger than {MAX_REPORT_BYTES // (1024 * 1024)} MB; not a diagnose report")
    return data


def environment_of(data: bytes, label: str, *, bare: bool = False) -> Environment:
    """The :class:`Environment` of a report's bytes (``bare``: or of a bare environment object)."""
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadInputError(f"{label}: not UTF-8 text; {_EXPECTED}") from None
    except json.JSONDecodeError as exc:
        raise BadInputError(f"{label}: not JSON (line {exc.lineno}: {exc.msg}); {_EXPECTED}") from None
    except RecursionError:
        raise BadInputError(f"{label}: not JSON a report can be (nested too deeply); {_EXPECTED}") from None
    if not isinstance(document, dict):
        raise BadInputError(f"{label}: not a diagnose report (a JSON object with a schema); {_EXPECTED}")
    schema = document.get("schema")
    if schema is None and bare:
        environment: object = document if "python" in document and "host" in document else None
    else:
        if not isinstance(schema, str) or not schema.startswith("envdoctor.diagnose/"):
            raise BadInputError(f"{label}: not a diagnose report (schema {schema!r}, expected {SCHEMA})")
        if schema.rpartition("/")[2] != SCHEMA.rpartition("/")[2]:
            raise BadInputError(f"{label}: report schema {schema} is newer than this envdoctor reads ({SCHEMA})")
        environment = document.get("environment")
    if not isinstance(environment, dict):
        raise BadInputError(f'{label}: no "environment" object; write it with `envdoctor diagnose --json`')
    try:
        return from_jsonable(Environment, environment)
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as exc:
        raise BadInputError(f"{label}: malformed environment ({exc})") from None


def read_report_bytes(path: str | Path, label: str | None = None) -> bytes:
    """The bytes of the report file at ``path`` (gzip unpacked), within the bound."""
    label = label or str(path)
    file = Path(path)
    require_regular_file(file, label, kind="a report", not_regular="a report is a file")
    try:
        with file.open("rb") as handle:
            return read_bounded(handle, label)
    except OSError as exc:
        raise BadInputError(f"{label}: cannot read ({exc.strerror or exc})") from None


def read_report(path: str | Path, label: str | None = None, *, bare: bool = False) -> Environment:
    """The environment of the report file at ``path`` (``label`` names it in errors)."""
    label = label or str(path)
    return environment_of(read_report_bytes(path, label), label, bare=bare)
