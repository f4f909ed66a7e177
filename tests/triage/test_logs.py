"""Reading and normalising logs: prefixes, colours, progress bars, encodings, bad input."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from envdoctor.errors import BadInputError
from envdoctor.triage import normalize, read_log
from envdoctor.triage.logs import normalize_line


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("11/22 05:39:37 - mmengine - WARNING - The model and loaded state dict", "The model and loaded state dict"),
        ("WARNING:root:message", "message"),
        ("WARNING:transformers.modeling_utils:Some weights", "Some weights"),
        ("[2024-03-01 12:00:00,123] WARNING mmengine: message", "message"),
        ("[2024-03-01 12:00:00,123] [WARNING] [mmdet] message", "message"),
        ("2024-03-01 12:00:00,123 - mmdet - WARNING - message", "message"),
        ("2024-03-01T12:00:00.123Z INFO message", "message"),
        ("2024-03-01 12:00:00.123 | WARNING  | mod:fn:12 - message", "message"),
        ("[rank0]: 11/22 05:39:37 - mmengine - INFO - message", "message"),
        ("[transformers] \x1b[1mBertModel LOAD REPORT\x1b[0m from: x", "BertModel LOAD REPORT from: x"),
        ("\x1b[31mred\x1b[0m text", "red text"),
        ("[33mcopied without ESC[0m", "copied without ESC"),
        (
            "ERROR: pip's dependency resolver does not currently take into account",
            "ERROR: pip's dependency resolver does not currently take into account",
        ),
        ("Epoch 1:  45%|████▌     | 45/100 [00:10<00:12,  4.50it/s]\rSome weights of", "Some weights of"),
        ("a | b | c", "a | b | c"),
    ],
)
def test_normalize_line(raw: str, text: str) -> None:
    assert normalize_line(raw)[0] == text


@pytest.mark.parametrize(
    "bar",
    [
        " 45%|████▌     | 45/100 [00:10<00:12,  4.50it/s]",
        "Loading checkpoint shards: 100%|██████████| 2/2 [00:01<00:00,  1.50it/s]",
        "\rLoading weights:   0%|          | 0/39 [00:00<?, ?it/s]"
        "\rLoading weights: 100%|██████████| 39/39 [00:00<00:00, 15488.86it/s]",
        "Downloading: 100%|██████████| 440M/440M [00:05<00:00, 80.1MB/s]",
    ],
)
def test_progress_bars_are_noise(bar: str) -> None:
    text, noise, _prefixed = normalize_line(bar)
    assert noise and text == ""


def test_line_numbers_are_physical_and_crlf_is_removed() -> None:
    log = normalize("first\r\n\r 10%|#   | 1/10 [00:00<00:01, 9.9it/s]\r\nthird\r\n")
    assert [(line.number, line.text, line.noise) for line in log.lines] == [
        (1, "first", False),
        (2, "", True),
        (3, "third", False),
    ]
    assert log.physical_lines == 3


def test_read_log_from_stdin_bytes_and_text() -> None:
    class Stream(io.StringIO):
        buffer = io.BytesIO(b"WARNING:root:hello\n")

    assert read_log("-", Stream()).lines[0].text == "hello"
    assert read_log(None, io.StringIO("plain text\n")).source == "<stdin>"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the log is empty"),
        (b"  \n\n", "the log is empty"),
        (b"PK\x03\x04\x00\x00binary", "binary file"),
    ],
)
def test_unusable_logs_are_bad_input(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "log.txt"
    path.write_bytes(content)
    with pytest.raises(BadInputError, match=message):
        read_log(str(path))


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such file"):
        read_log(str(tmp_path / "absent.log"))
    with pytest.raises(BadInputError, match="is a directory"):
        read_log(str(tmp_path))


def test_non_utf8_is_decoded_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "latin1.log"
    path.write_bytes('Missing key(s) in state_dict: "caf\xe9.weight". \n'.encode("latin-1"))
    log = read_log(str(path))
    assert log.notes and "not valid UTF-8" in log.notes[0] and "1 undecodable" in log.notes[0]
    assert "\ufffd" in log.lines[0].text


def test_utf16_with_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "powershell.log"
    path.write_bytes("WARNING:root:hello\r\n".encode("utf-16"))
    log = read_log(str(path))
    assert log.lines[0].text == "hello" and not log.notes
