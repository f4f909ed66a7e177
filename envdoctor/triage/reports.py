"""Find state-dict load reports in a normalised log and turn each into a :class:`KeyReport`.

Each recogniser encodes one library's message template, at the releases people run:

* torch ``Module.load_state_dict`` (``Error(s) in loading state_dict for X:`` then tab-indented
  ``Missing key(s) in state_dict: "a", "b". ``, ``Unexpected key(s) ...``, ``size mismatch for K:
  copying a param with shape torch.Size([..]) from checkpoint, the shape in current model is
  torch.Size([..]).``, and torch < 1.0's ``While copying the parameter named ...``), and the
  ``_IncompatibleKeys(missing_keys=[...], unexpected_keys=[...])`` that ``strict=False`` returns:
  https://github.com/pytorch/pytorch/blob/v2.1.0/torch/nn/modules/module.py (``load_state_dict``);
* mmengine and mmcv 1.x ``load_state_dict`` (``The model and loaded state dict do not match
  exactly``, ``unexpected key in source state_dict: a, b``, ``missing keys in source state_dict:
  ...``, plus torch's ``size mismatch`` lines):
  https://github.com/open-mmlab/mmengine/blob/v0.10.7/mmengine/runner/checkpoint.py and
  https://github.com/open-mmlab/mmcv/blob/v1.7.2/mmcv/runner/checkpoint.py;
* transformers 4.x ``_load_pretrained_model`` warnings (``Some weights of the model checkpoint at
  C were not used when initializing M: [...]``, ``Some weights of M were not initialized from the
  model checkpoint at C and are newly initialized: [...]`` and its ``because the shapes did not
  match:`` variant with ``- k: found shape ... in the checkpoint and ... in the model
  instantiated`` lines):
  https://github.com/huggingface/transformers/blob/v4.29.1/src/transformers/modeling_utils.py;
* transformers 5.x ``M LOAD REPORT from: C`` tables, whose collapsed index sets
  (``layer.{0, 1}.x``, ``layer.{0...11}.x``) are expanded back into keys:
  https://github.com/huggingface/transformers/blob/main/src/transformers/utils/loading_report.py;
* timm ``load_pretrained`` (``Missing keys (a, b) discovered while loading pretrained weights.``,
  ``Unexpected keys (...) found while loading pretrained weights.``):
  https://github.com/huggingface/pytorch-image-models/blob/v0.9.16/timm/models/_builder.py;
* Lightning ``_load_state`` with ``strict=False`` (``Found keys that are in the model state dict
  but not in the checkpoint: [...]`` and ``... not in the model state dict but in the checkpoint:
  [...]``); its strict errors are torch's:
  https://github.com/Lightning-AI/pytorch-lightning/blob/2.2.0/src/lightning/pytorch/core/saving.py.

A key list may be wrapped by the terminal (mid-key or after a comma) or split over lines; the
continuation lines are joined back without separators (keys hold no whitespace). ``...`` in a
list, or a list cut off by the end of the paste, marks the report ``truncated``; a key whose
closing quote is missing is dropped rather than guessed. Sections that follow each other
closely (a torch header and its lines; transformers 4's "not used" and "newly initialized"
warnings of one ``from_pretrained`` call) form one report; a repeated section starts the next.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from envdoctor.model import KeyReport, ShapeMismatch
from envdoctor.triage.logs import LogLine, LogText

__all__ = ["ParsedReport", "extract_reports", "expand_collapsed", "parse_shape"]

#: Sections farther apart than this many lines belong to different load attempts.
_MAX_GAP = 12
#: How many physical lines one wrapped key list may span.
_MAX_CONTINUATION = 2000
_SHAPE = r"(?:torch\.Size\(\[[\d,\s]*\]\)|\([\d,\s]*\)|\[[\d,\s]*\])"


@dataclass(frozen=True)
class ParsedReport:
    """One load attempt found in a log: the report, the message format, whether lists were cut."""

    report: KeyReport
    format: str
    truncated: bool = False
    raised: bool = False
    """Whether the load raised (a strict ``load_state_dict``): the run stopped there."""


@dataclass
class _Section:
    kind: str  # header, unexpected, missing, mismatch
    format: str
    first: int  # index of its first line in LogText.lines
    last: int  # index of its last consumed line
    keys: list[tuple[str, int]] = field(default_factory=list)
    mismatches: list[tuple[ShapeMismatch, int]] = field(default_factory=list)
    model_name: str | None = None
    checkpoint_name: str | None = None
    truncated: bool = False
    raised: bool = False


def parse_shape(text: str) -> tuple[int, ...] | None:
    """``torch.Size([3, 32])``, ``(3, 32)`` or ``[3, 32]`` as a tuple; ``None`` if unreadable."""
    if not re.fullmatch(_SHAPE, text.strip()):
        return None
    digits = re.findall(r"\d+", text)
    if any(len(d) > 30 for d in digits):
        return None  # no tensor is that big; int() would refuse past 4,300 digits anyway
    return tuple(int(d) for d in digits)


_BRACES = re.compile(r"\{([^{}]*)\}")


#: Keys one report may expand its collapsed index sets into (a 61-layer, 256-expert model
#: prints ``layers.{3...60}.mlp.experts.{0...255}.w``: 14,848 keys); past it, keys stay collapsed.
MAX_EXPANDED_KEYS = 200_000
_RANGE = re.compile(r"(\d{1,9})\s*\.\.\.\s*(\d{1,9})")


def expand_collapsed(key: str, limit: int = MAX_EXPANDED_KEYS) -> list[str]:
    """Expand transformers 5's collapsed index sets into concrete keys.

    ``layer.{0, 1}.attn`` gives two keys; ``layer.{0...11}.attn`` (transformers prints only the
    ends of more than ten indices) is read as the inclusive range; several sets expand to
    their product. A key without sets, or one that would expand to more than ``limit`` keys
    (or holds an index of more than nine digits), is returned as is.
    """
    groups = _BRACES.findall(key)
    if not groups:
        return [key]
    choices: list[range | list[str]] = []
    count = 1
    for group in groups:
        ends = _RANGE.fullmatch(group.strip())
        if ends is not None:
            low, high = int(ends.group(1)), int(ends.group(2))
            if high < low:
                choices.append([group])
                continue
            choices.append(range(low, high + 1))
        else:
            parts = [p.strip() for p in group.split(",")]
            if not all(p.isdigit() for p in parts):
                return [key]
            choices.append(parts)
        count *= len(choices[-1])
        if count > limit:
            return [key]
    pieces = _BRACES.split(key)  # literal, group, literal, group, ..., literal
    literals = pieces[0::2]
    expanded = []
    for combo in itertools.product(*choices):
        out = literals[0]
        for value, literal in zip(combo, literals[1:], strict=True):
            out += str(value) + literal
        expanded.append(out)
    return expanded


# --------------------------------------------------------------------------- joining wrapped lists

#: A physical line that can continue a key list: key characters, separators and quotes only.
_CONTINUATION = re.compile(r"^\s*(?:,\s*)?[\w.\-:/'\"\[\](){}#@+*~=…]+(?:,\s*[\w.\-:/'\"\[\](){}#@+*~=…]*)*[,.]?\s*$")
_KEY = re.compile(r"^[^\s,'\"]+$")


@dataclass
class _Joined:
    text: str
    starts: list[int]  # offset in text where each fragment starts
    numbers: list[int]  # physical line number of each fragment
    last: int  # index of the last consumed LogLine
    at_eof: bool

    def line_at(self, offset: int) -> int:
        return self.numbers[max(0, bisect_right(self.starts, offset) - 1)]


def _join(
    lines: tuple[LogLine, ...],
    index: int,
    first_text: str,
    complete: Callable[[str], bool],
    *,
    open_ended: bool = False,
) -> _Joined:
    """Join ``first_text`` (the list part of line ``index``) with the lines that continue it.

    A list is continued while it is not ``complete`` and the next non-noise line looks like
    list text and starts no other section. ``open_ended`` lists (mmengine's, with no closing
    mark) only continue from a line that looks wrapped: ending in a comma, or long.
    """
    text = first_text.strip()
    starts, numbers = [0], [lines[index].number]
    last = index
    cursor = index + 1
    while not complete(text) and cursor < len(lines) and cursor - index <= _MAX_CONTINUATION:
        line = lines[cursor]
        if line.noise:
            cursor += 1
            continue
        fragment = line.text
        if not fragment.strip() or not _CONTINUATION.match(fragment) or _starts_section(fragment):
            break
        if line.prefixed:  # a new log record begins
            break
        if open_ended:
            previous = lines[last].raw.rstrip()
            if not (previous.endswith(",") or len(previous) >= 60):
                break
        starts.append(len(text))
        numbers.append(line.number)
        text += fragment.strip()
        last = cursor
        cursor += 1
    at_eof = all(line.noise for line in lines[last + 1 :])
    return _Joined(text, starts, numbers, last, at_eof)


def _split_plain(joined: _Joined, upto: int | None = None) -> tuple[list[tuple[str, int]], bool]:
    """``a, b, c`` (mmengine, timm): keys with their line numbers, and whether the list was cut."""
    text = joined.text if upto is None else joined.text[:upto]
    keys: list[tuple[str, int]] = []
    truncated = False
    for match in re.finditer(r"[^,]+", text):
        token = match.group().strip()
        if not token:
            continue
        if token in ("...", "…") or "..." in token or "…" in token or not _KEY.match(token):
            truncated = True
            continue
        keys.append((token, joined.line_at(match.start())))
    return keys, truncated


_QUOTED = re.compile(r"'((?:[^'\\\n]|\\.)*)'|\"((?:[^\"\\\n]|\\.)*)\"")


def _split_quoted(joined: _Joined, start: int = 0, end: int | None = None) -> tuple[list[tuple[str, int]], bool]:
    """``"a", "b"`` (torch) or ``['a', 'b']`` (Python lists): keys, lines, whether cut."""
    text = joined.text[start:end]
    keys: list[tuple[str, int]] = []
    for match in _QUOTED.finditer(text):
        key = match.group(1) if match.group(1) is not None else match.group(2)
        if not key.strip():
            continue  # a doubled quote typed into a paste (''key'), not a key
        keys.append((key, joined.line_at(start + match.start())))
    rest = _QUOTED.sub("", text)
    truncated = "..." in rest or "…" in rest or "'" in rest or '"' in rest
    return keys, truncated


# --------------------------------------------------------------------------- recognisers

_TORCH_HEADER = re.compile(r"Error\(s\) in loading state_dict for (?P<model>[\w.<>]+):")
_TORCH_MISSING = re.compile(r"Missing key\(s\) in state_dict(?:: | (?=[\"']))")
_TORCH_UNEXPECTED = re.compile(r"Unexpected key\(s\) in state_dict(?:: | (?=[\"']))")
_SIZE_MISMATCH = re.compile(
    rf"size mismatch for (?P<key>\S+): copying a param with shape (?P<ckpt>{_SHAPE}) from checkpoint, "
    rf"the shape in current model is (?P<model>{_SHAPE})"
)
_OLD_TORCH_MISMATCH = re.compile(
    rf'While copying the parameter named "?(?P<key>[^",]+)"?, whose dimensions in the model are (?P<model>{_SHAPE}) '
    rf"and whose dimensions in the checkpoint are (?P<ckpt>{_SHAPE})"
)
#: torch 0.3 (strict=True, raised as KeyError; in the log as its repr, inner quotes escaped):
#: https://github.com/pytorch/pytorch/blob/v0.3.1/torch/nn/modules/module.py (load_state_dict)
_OLD_TORCH_UNEXPECTED = re.compile(r"""unexpected key\s+\\?"(?P<key>[^"\\]+)\\?" in state_dict""")
_OLD_TORCH_MISSING = re.compile(r"""missing keys in state_dict: \\?"?(?=\{|set\()""")
_INCOMPATIBLE = re.compile(r"_IncompatibleKeys\(missing_keys=\[")
_CALLED_AN_ERROR = re.compile(r"\berror\b", re.IGNORECASE)
_MM_HEADER = re.compile(r"The model and loaded state dict do not match exactly")
_MM_UNEXPECTED = re.compile(r"unexpected key in source state_dict: ?")
_MM_MISSING = re.compile(r"missing keys in source state_dict: ?")
_TF4_UNUSED = re.compile(
    r"Some weights of the (?:model checkpoint at (?P<ckpt>.+?)|PyTorch model|TF 2\.0 model) were not used when "
    r"initializing (?:the (?:PyTorch|TF 2\.0) model )?(?P<model>[\w.]+): (?=\[)"
)
_TF4_NEW = re.compile(
    r"Some weights (?:or buffers )?of (?:the (?:PyTorch|TF 2\.0) model )?(?P<model>[\w.]+) "
    r"were not initialized from the (?:model checkpoint at (?P<ckpt>.+?)|PyTorch model|TF 2\.0 model) "
    r"and are newly initialized: (?=\[)"
)
#: transformers 2.x-3.0 (and pytorch-transformers 1.x), logged at INFO:
#: https://github.com/huggingface/transformers/blob/v2.11.0/src/transformers/modeling_utils.py
_TF2_NEW = re.compile(r"Weights of (?P<model>[\w.]+) not initialized from pretrained model: (?=\[)")
_TF2_UNUSED = re.compile(r"Weights from pretrained model not used in (?P<model>[\w.]+): (?=\[)")
#: fvcore's Checkpointer (detectron2 and friends), every wording since 2019:
#: https://github.com/facebookresearch/fvcore/blob/main/fvcore/common/checkpoint.py (commits
#: 865697d 2019-10-10, a184816 2020-04-20, b8df74c 2020-05-19 "Unable to load", 21f503b 2020-07-14
#: "Skip loading parameter").
_FV_SKIP = re.compile(
    rf"(?:Skip loading parameter|Unable to load) '(?P<key>[^']+)' to the model due to incompatible shapes: "
    rf"(?P<ckpt>{_SHAPE}) "
    rf"in the checkpoint but (?P<model>{_SHAPE}) in the model"
)
_FV_OLD_SKIP = re.compile(
    rf"'(?P<key>[^']+)' has shape (?P<ckpt>{_SHAPE}) in the checkpoint but (?P<model>{_SHAPE}) in the model! Skipped"
)
_FV_MISSING = re.compile(r"Some model parameters (?:or buffers )?are not (?:found )?in the checkpoint:\s*")
_FV_UNEXPECTED = re.compile(
    r"The checkpoint (?:state_dict )?contains (?:keys|parameters) (?:that are )?not used by the model:\s*"
)
_FV_KEY_LINE = re.compile(r"^\s*(?P<key>[\w\-]+(?:\.[\w\-]+)*(?:\.\{[\w, \-]+\})?)\s*$")
_TF4_SHAPES = re.compile(
    r"Some weights of (?P<model>[\w.]+) were not initialized from the model checkpoint at (?P<ckpt>.+?) "
    r"and are newly initialized because the shapes did not match:"
)
_TF4_SHAPE_LINE = re.compile(
    rf"^\s*- (?P<key>\S+): found shape (?P<ckpt>{_SHAPE}) in the checkpoint and "
    rf"(?P<model>{_SHAPE}) in the model instantiated"
)
# (?<![\w.]) starts a name only where a run of name characters starts: a search stays linear
# on a long run that is not followed by the literal (leftmost matches start there anyway).
_TF5_HEADER = re.compile(r"(?<![\w.])(?P<model>[\w.]+) LOAD REPORT from: (?P<ckpt>.*)$")
_TF5_ROW = re.compile(
    r"^\s*(?P<key>[^\s|](?:[^|]*?[^\s|])?)\s*\|\s*(?P<status>UNEXPECTED|MISSING|MISMATCH|CONVERSION|OWNED|SKIPPED)\s*(?:\|(?P<details>.*))?$"
)
_TF5_MISMATCH = re.compile(rf"ckpt:\s*(?P<ckpt>{_SHAPE})\s*vs\s*model:\s*(?P<model>{_SHAPE})")
_TIMM_MISSING = re.compile(r"Missing keys \(")
_TIMM_UNEXPECTED = re.compile(r"Unexpected keys \(")
_TIMM_END = re.compile(r"\) (?:discovered|found) while loading pretrained weights")
_LIGHTNING_MISSING = re.compile(r"Found keys that are in the model state dict but not in the checkpoint: (?=\[)")
_LIGHTNING_UNEXPECTED = re.compile(r"Found keys that are not in the model state dict but in the checkpoint: (?=\[)")

_SECTION_STARTS = (
    _TORCH_HEADER, _TORCH_MISSING, _TORCH_UNEXPECTED, _SIZE_MISMATCH, _INCOMPATIBLE, _MM_HEADER,
    _MM_UNEXPECTED, _MM_MISSING, _TF4_UNUSED, _TF4_NEW, _TF4_SHAPES, _TF5_HEADER, _LIGHTNING_MISSING,
    _LIGHTNING_UNEXPECTED, _OLD_TORCH_UNEXPECTED, _OLD_TORCH_MISSING, _TF2_NEW, _TF2_UNUSED, _FV_SKIP,
    _FV_OLD_SKIP, _FV_MISSING, _FV_UNEXPECTED,
)  # fmt: skip
#: Cheap substrings: a line holding none of them starts no section.
_KEYWORDS = (
    "state_dict", "do not match exactly", "size mismatch", "Some weights", "LOAD REPORT", "_IncompatibleKeys",
    "while loading pretrained weights", "Found keys that are", "While copying the parameter",
    "Missing keys (", "Unexpected keys (", "in state_dict", "from pretrained model", "in the checkpoint",
    "not used by the model",
)  # fmt: skip


_KEYWORD_GATE = re.compile("|".join(re.escape(k) for k in _KEYWORDS))


def _starts_section(text: str) -> bool:
    return _KEYWORD_GATE.search(text) is not None and any(p.search(text) for p in _SECTION_STARTS)


def _mask_quoted(text: str) -> str:
    """``text`` with every quoted key blanked to ``x`` of its length (brackets inside keys hide)."""
    return _QUOTED.sub(lambda m: "x" * len(m.group()), text)


def _bracket_closed(text: str) -> bool:
    return "]" in _QUOTED.sub("", text)


def _torch_list_closed(text: str) -> bool:
    stripped = text.rstrip()
    return stripped.endswith(('".', "'."))


def _shape_mismatch(match: re.Match[str]) -> ShapeMismatch:
    return ShapeMismatch(match.group("key"), parse_shape(match.group("ckpt")), parse_shape(match.group("model")))


def _list_section(lines: tuple[LogLine, ...], index: int, kind: str, fmt: str, rest: str, style: str) -> _Section:
    """A key-list section whose list starts at ``rest`` on line ``index``."""
    if style == "plain":
        joined = _join(lines, index, rest, lambda _t: False, open_ended=True)
        keys, truncated = _split_plain(joined)
        if joined.at_eof and not keys:
            truncated = True
    elif style == "torch":
        joined = _join(lines, index, rest, _torch_list_closed)
        keys, truncated = _split_quoted(joined)
        truncated = truncated or not _torch_list_closed(joined.text)
    elif style == "paren":
        joined = _join(lines, index, rest, lambda t: _TIMM_END.search(t) is not None)
        end = _TIMM_END.search(joined.text)
        keys, truncated = _split_plain(joined, end.start() if end else None)
        truncated = truncated or end is None
    else:  # pylist
        joined = _join(lines, index, rest, _bracket_closed)
        close = _mask_quoted(joined.text).find("]")
        keys, truncated = _split_quoted(joined, 0, close if close >= 0 else None)
        truncated = truncated or close < 0
    return _Section(kind, fmt, index, joined.last, keys=keys, truncated=truncated)


def _incompatible(lines: tuple[LogLine, ...], index: int, text: str) -> list[_Section]:
    start = text.index("_IncompatibleKeys(")
    joined = _join(lines, index, text[start:], lambda t: "])" in _QUOTED.sub("", t) and "unexpected_keys=[" in t)
    masked = _mask_quoted(joined.text)
    sections = []
    for kind, name in (("missing", "missing_keys=["), ("unexpected", "unexpected_keys=[")):
        begin = joined.text.find(name)
        if begin < 0:
            continue
        begin += len(name)
        close = masked.find("]", begin)
        keys, truncated = _split_quoted(joined, begin, close if close >= 0 else None)
        sections.append(
            _Section(kind, "torch-incompatible-keys", index, joined.last, keys=keys, truncated=truncated or close < 0)
        )
    if len(sections) < 2:
        for section in sections:
            section.truncated = True
    return sections


def _tf4_shapes(lines: tuple[LogLine, ...], index: int, match: re.Match[str]) -> _Section:
    section = _Section(
        "mismatch", "transformers4", index, index, model_name=match.group("model"), checkpoint_name=match.group("ckpt")
    )
    cursor = index + 1
    while cursor < len(lines):
        line = lines[cursor]
        shape = _TF4_SHAPE_LINE.match(line.text)
        if shape is None:
            if line.noise:
                cursor += 1
                continue
            break
        section.mismatches.append((_shape_mismatch(shape), line.number))
        section.last = cursor
        cursor += 1
    if cursor >= len(lines):
        section.truncated = True
    return section


def _tf5_table(lines: tuple[LogLine, ...], index: int, match: re.Match[str]) -> list[_Section]:
    """The rows of one LOAD REPORT table, as one section per status."""
    by_kind: dict[str, _Section] = {}
    buffer, buffer_line, pending = "", 0, 0
    cursor = index + 1
    last = index
    finished = False
    while cursor < len(lines):
        line = lines[cursor]
        text = line.text
        cursor += 1
        if line.noise:
            continue
        if text.strip() == "Notes:" or text.startswith("Traceback") or _TF5_HEADER.search(text):
            finished = True
            break
        if not buffer and (re.match(r"^\s*Key\s*\|\s*Status", text) or re.match(r"^-+\+", text)):
            last = cursor - 1
            continue
        if not text.strip() and not buffer:
            continue
        candidate = buffer + text.strip() if buffer else text
        row = _TF5_ROW.match(candidate)
        if (
            row is not None
            and row.group("status") == "MISMATCH"
            and not _TF5_MISMATCH.search(row.group("details") or "")
        ):
            row = None  # details wrapped onto the next line
        if row is None:
            if not buffer:
                buffer_line = line.number
            buffer, pending = candidate.strip(), pending + 1
            if pending > 4:  # not a wrapped row (CONVERSION details): skip it
                buffer, pending = "", 0
            continue
        number = buffer_line if buffer else line.number
        buffer, pending = "", 0
        last = cursor - 1
        status = row.group("status")
        kind = {"UNEXPECTED": "unexpected", "MISSING": "missing", "MISMATCH": "mismatch"}.get(status)
        if kind is None:
            continue
        section = by_kind.setdefault(
            kind,
            _Section(kind, "transformers5", index, index, model_name=match.group("model"),
                     checkpoint_name=match.group("ckpt").strip() or None),
        )  # fmt: skip
        section.last = cursor - 1
        if kind == "mismatch":
            shapes = _TF5_MISMATCH.search(row.group("details") or "")
            for key in expand_collapsed(row.group("key"), _budget(section)):
                ckpt = parse_shape(shapes.group("ckpt")) if shapes else None
                model = parse_shape(shapes.group("model")) if shapes else None
                section.mismatches.append((ShapeMismatch(key, ckpt, model), number))
        else:
            section.keys.extend((key, number) for key in expand_collapsed(row.group("key"), _budget(section)))
    sections = list(by_kind.values())
    header = _Section("header", "transformers5", index, last, model_name=match.group("model"),
                      checkpoint_name=match.group("ckpt").strip() or None)  # fmt: skip
    if not finished and buffer:
        header.truncated = True
    return [header, *sections]


def _budget(section: _Section) -> int:
    """How many more keys a collapsed row of ``section`` may expand into."""
    return max(1, MAX_EXPANDED_KEYS - len(section.keys) - len(section.mismatches))


_TORCH_INLINE = (("missing", _TORCH_MISSING), ("unexpected", _TORCH_UNEXPECTED))


_MISMATCH_OPENERS = ("size mismatch for ", "While copying the parameter named")
#: How many following lines a size-mismatch sentence cut by a browser or terminal may take.
_MISMATCH_CONTINUATION = 3


def _complete_mismatch(lines: tuple[LogLine, ...], index: int, text: str) -> tuple[str, int]:
    """``text`` with the lines that finish its last size-mismatch sentence, if it was cut
    (``size mismatch for k:`` / ``copying a param ...`` on the next line, or a shape split
    after a comma), and the index of the last line used; joined with spaces."""
    opener = max(text.rfind(o) for o in _MISMATCH_OPENERS)
    if opener < 0:
        return text, index
    tail = text[opener:]
    if _SIZE_MISMATCH.search(tail) or _OLD_TORCH_MISMATCH.search(tail):
        return text, index
    joined, last, cursor = text, index, index + 1
    while cursor < len(lines) and cursor - index <= _MISMATCH_CONTINUATION:
        line = lines[cursor]
        cursor += 1
        if line.noise:
            continue
        if not line.text.strip() or _starts_section(line.text):
            break
        joined, last = joined.rstrip() + " " + line.text.strip(), cursor - 1
        tail = joined[opener:]
        if _SIZE_MISMATCH.search(tail) or _OLD_TORCH_MISMATCH.search(tail):
            return joined, last
    return text, index


def _torch_sections(lines: tuple[LogLine, ...], index: int, text: str, start: int) -> list[_Section]:
    """torch's sections from offset ``start`` of line ``index``: its lines may be flattened
    into one (a paste inside a sentence or a markdown table cell), so each section runs up to
    the next one on the same line and only the last continues onto the following lines."""
    text, last = _complete_mismatch(lines, index, text)
    starts: list[tuple[int, int, str, re.Match[str]]] = []
    for kind, pattern in _TORCH_INLINE:
        starts.extend((m.start(), m.end(), kind, m) for m in pattern.finditer(text, start))
    for pattern in (_SIZE_MISMATCH, _OLD_TORCH_MISMATCH):
        starts.extend((m.start(), m.end(), "mismatch", m) for m in pattern.finditer(text, start))
    starts.sort(key=lambda item: item[0])
    sections: list[_Section] = []
    number = lines[index].number
    for position, (_begin, end, kind, match) in enumerate(starts):
        if kind == "mismatch":
            sections.append(_Section("mismatch", "torch", index, last, mismatches=[(_shape_mismatch(match), number)]))
            continue
        following = starts[position + 1][0] if position + 1 < len(starts) else None
        if following is None:
            sections.append(_list_section(lines, index, kind, "torch", text[end:], "torch"))
        else:
            joined = _Joined(text[end:following].strip(), [0], [number], index, False)
            keys, truncated = _split_quoted(joined)
            sections.append(_Section(kind, "torch", index, index, keys=keys, truncated=truncated))
    for section in sections:
        section.raised = True  # torch prints these lines only inside its RuntimeError
    return sections


_OLD_TORCH_KEY = re.compile(r"""\\?'((?:[^'\\\n])+)\\?'""")


def _old_torch_missing(lines: tuple[LogLine, ...], index: int, rest: str) -> _Section:
    """torch 0.3's ``missing keys in state_dict: "{'a', 'b'}"`` (a Python set, maybe escaped)."""
    joined = _join(lines, index, rest, lambda t: "}" in t or ")" in t)
    close = joined.text.find("}")
    body = joined.text if close < 0 else joined.text[:close]
    keys = [(m.group(1), joined.line_at(m.start())) for m in _OLD_TORCH_KEY.finditer(body)]
    section = _Section("missing", "torch-0.3", index, joined.last, keys=keys, truncated=close < 0)
    section.raised = True
    return section


def _fvcore_list(lines: tuple[LogLine, ...], index: int, kind: str, rest: str) -> _Section:
    """fvcore's key groups, one per line (``head.{bias, weight}``) after the message line."""
    section = _Section(kind, "fvcore", index, index)
    candidates = [rest] if rest.strip() else []
    cursor = index + 1
    numbers = [lines[index].number] if candidates else []
    while cursor < len(lines) and cursor - index <= _MAX_CONTINUATION:
        line = lines[cursor]
        if line.noise:
            cursor += 1
            continue
        if not _FV_KEY_LINE.match(line.text) or _starts_section(line.text) or (line.prefixed and candidates):
            break
        candidates.append(line.text)
        numbers.append(line.number)
        section.last = cursor
        cursor += 1
    for text, number in zip(candidates, numbers, strict=True):
        match = _FV_KEY_LINE.match(text)
        if match is None:
            continue
        section.keys.extend((key, number) for key in _expand_names(match.group("key")))
    return section  # one complete group per line: the end of the paste cuts nothing


def _expand_names(key: str) -> list[str]:
    """``head.{bias, weight}`` (fvcore's grouping of keys by module) as its keys."""
    head, brace, rest = key.partition(".{")
    if not brace:
        return [key]
    return [f"{head}.{leaf.strip()}" for leaf in rest.rstrip("}").split(",") if leaf.strip()]


def _sections_at(lines: tuple[LogLine, ...], index: int) -> list[_Section]:
    """Every section that starts on line ``index``."""
    text = lines[index].text
    if _KEYWORD_GATE.search(text) is None:
        return []
    if (m := _TORCH_HEADER.search(text)) is not None:
        header = _Section("header", "torch", index, index, model_name=m.group("model"))
        header.raised = True
        return [header, *_torch_sections(lines, index, text, m.end())]
    if _TORCH_MISSING.search(text) or _TORCH_UNEXPECTED.search(text):
        return _torch_sections(lines, index, text, 0)
    for pattern in (_SIZE_MISMATCH, _OLD_TORCH_MISMATCH):
        if pattern.search(text) is not None:
            return _torch_sections(lines, index, text, 0)
    if any(opener in text for opener in _MISMATCH_OPENERS):
        sections = _torch_sections(lines, index, text, 0)  # a size-mismatch sentence cut over lines
        if sections:
            return sections
    if (m := _OLD_TORCH_UNEXPECTED.search(text)) is not None:
        section = _Section("unexpected", "torch-0.3", index, index, keys=[(m.group("key"), lines[index].number)])
        section.raised = True
        return [section]
    if (m := _OLD_TORCH_MISSING.search(text)) is not None:
        return [_old_torch_missing(lines, index, text[m.end() :])]
    if (m := _INCOMPATIBLE.search(text)) is not None:
        sections = _incompatible(lines, index, text)
        # strict=False returns this value, so the run went on; but a paste that introduces it
        # as the error it got ("run time error: _IncompatibleKeys(...)") reports a run that
        # stopped, as the mmengine header above is read when "Error" precedes it
        if _CALLED_AN_ERROR.search(text[: m.start()]):
            for section in sections:
                section.raised = True
        return sections
    if (m := _MM_HEADER.search(text)) is not None:
        header = _Section("header", "mmengine", index, index)
        header.raised = "Error" in text[: m.start()]  # strict=True: RuntimeError: The model and ...
        return [header]
    if (m := _MM_UNEXPECTED.search(text)) is not None:
        return [_list_section(lines, index, "unexpected", "mmengine", text[m.end() :], "plain")]
    if (m := _MM_MISSING.search(text)) is not None:
        return [_list_section(lines, index, "missing", "mmengine", text[m.end() :], "plain")]
    if (m := _TF4_SHAPES.search(text)) is not None:
        return [_tf4_shapes(lines, index, m)]
    for pattern, kind in ((_TF4_UNUSED, "unexpected"), (_TF4_NEW, "missing")):
        if (m := pattern.search(text)) is not None:
            section = _list_section(lines, index, kind, "transformers4", text[m.end() :], "pylist")
            section.model_name, section.checkpoint_name = m.group("model"), m.group("ckpt")
            return [section]
    for pattern, kind in ((_TF2_UNUSED, "unexpected"), (_TF2_NEW, "missing")):
        if (m := pattern.search(text)) is not None:
            section = _list_section(lines, index, kind, "transformers2", text[m.end() :], "pylist")
            section.model_name = m.group("model")
            return [section]
    if (m := _TF5_HEADER.search(text)) is not None:
        return _tf5_table(lines, index, m)
    for pattern in (_FV_SKIP, _FV_OLD_SKIP):
        if (m := pattern.search(text)) is not None:
            return [
                _Section("mismatch", "fvcore", index, index, mismatches=[(_shape_mismatch(m), lines[index].number)])
            ]
    if (m := _FV_MISSING.search(text)) is not None:
        return [_fvcore_list(lines, index, "missing", text[m.end() :])]
    if (m := _FV_UNEXPECTED.search(text)) is not None:
        return [_fvcore_list(lines, index, "unexpected", text[m.end() :])]
    if "while loading pretrained weights" in text or "(" in text:
        for pattern, kind in ((_TIMM_MISSING, "missing"), (_TIMM_UNEXPECTED, "unexpected")):
            if (m := pattern.search(text)) is not None:
                return [_list_section(lines, index, kind, "timm", text[m.end() :], "paren")]
    for pattern, kind in ((_LIGHTNING_MISSING, "missing"), (_LIGHTNING_UNEXPECTED, "unexpected")):
        if (m := pattern.search(text)) is not None:
            return [_list_section(lines, index, kind, "lightning", text[m.end() :], "pylist")]
    return []


def _scan(log: LogText) -> Iterator[_Section]:
    lines = log.lines
    index = 0
    while index < len(lines):
        sections = _sections_at(lines, index)
        if not sections:
            index += 1
            continue
        yield from sections
        index = max(index, *(s.last for s in sections)) + 1


# --------------------------------------------------------------------------- grouping


@dataclass
class _Group:
    """A load attempt being gathered: its sections, and their kinds and format families so
    far (kept as the sections arrive: a report of 20,000 size-mismatch lines stays linear)."""

    sections: list[_Section]
    kinds: set[str] = field(default_factory=set)
    families: set[str] = field(default_factory=set)

    def add(self, section: _Section) -> None:
        self.sections.append(section)
        self.kinds.add(section.kind)
        self.families.add(section.format.split("-")[0])


def _compatible(group: _Group, section: _Section, content: list[int]) -> bool:
    """Whether ``section`` belongs to the load attempt ``group`` (``content[i]`` counts the
    non-noise lines before line ``i``, so progress bars do not widen the gap)."""
    if not group.sections:
        return True
    previous = group.sections[-1]
    if content[section.first] - content[previous.last] > _MAX_GAP:
        return False
    if section.kind == "header":
        return False
    kinds = group.kinds
    if section.kind in ("unexpected", "missing") and section.kind in kinds:
        # one attempt lists each side once; a second list is the next attempt
        return section.first == previous.first  # except _IncompatibleKeys, parsed together
    if section.kind == "mismatch" and "mismatch" in kinds and previous.kind != "mismatch":
        return False
    families = group.families
    family = section.format.split("-")[0]
    # torch's lines appear under mmengine's header (size mismatch) and under transformers' errors
    return family in families or family == "torch" or families <= {"torch"}


#: The checkpoint a load report is about, named by the loader before it: mmengine's
#: ``Loads checkpoint by local backend from path: X`` and mmcv 1.x's ``load checkpoint from
#: local path: X`` (mmengine/runner/checkpoint.py v0.10.7, mmcv/runner/checkpoint.py v1.7.2).
_CHECKPOINT_LINE = re.compile(
    r"(?:Loads checkpoint by \w+ backend from path|load checkpoint from \w+ path): (?P<path>\S+)"
)
_CHECKPOINT_LOOKBACK = 40


def _checkpoint_before(lines: tuple[LogLine, ...], index: int) -> str | None:
    for cursor in range(index - 1, max(-1, index - _CHECKPOINT_LOOKBACK), -1):
        text = lines[cursor].text
        if "checkpoint" in text and (match := _CHECKPOINT_LINE.search(text)) is not None:
            return match.group("path")
    return None


def _build(group: list[_Section], log: LogText) -> ParsedReport:
    lines = log.lines
    header = next((s for s in group if s.kind == "header"), None)
    first = group[0]
    fmt = header.format if header is not None else first.format
    # dicts keep the first occurrence of each key, in log order
    keys: dict[str, dict[str, None]] = {"unexpected": {}, "missing": {}}
    mismatched: dict[str, ShapeMismatch] = {}
    where: dict[str, int] = {}
    for section in group:
        side = keys["unexpected" if section.kind == "unexpected" else "missing"]
        for key, number in section.keys:
            side.setdefault(key, None)
            where.setdefault(key, number)
        for mismatch, number in section.mismatches:
            mismatched.setdefault(mismatch.key, mismatch)
            where.setdefault(mismatch.key, number)
    for key in mismatched:  # fvcore lists a skipped (shape-mismatched) key as missing too
        keys["missing"].pop(key, None)
    model_name = next((s.model_name for s in group if s.model_name), None)
    checkpoint_name = next((s.checkpoint_name for s in group if s.checkpoint_name), None)
    if checkpoint_name is None:
        checkpoint_name = _checkpoint_before(lines, (header or first).first)
    header_line = lines[(header or first).first]
    where.setdefault("header", header_line.number)
    report = KeyReport(
        source=fmt,
        unexpected=tuple(keys["unexpected"]),
        missing=tuple(keys["missing"]),
        mismatched=tuple(mismatched.values()),
        model_name=model_name,
        checkpoint_name=checkpoint_name,
        lines=where,
        header_line=header_line.number,
        header_text=header_line.text.strip(),
    )
    return ParsedReport(report, fmt, any(s.truncated for s in group), any(s.raised for s in group))


def extract_reports(log: LogText) -> list[ParsedReport]:
    """Every state-dict load report in ``log``, in log order; empty ones (a lone header) are dropped."""
    groups: list[_Group] = []
    content = [0]
    for line in log.lines:
        content.append(content[-1] + (not line.noise))
    for section in _scan(log):
        if not groups or not _compatible(groups[-1], section, content):
            groups.append(_Group([]))
        groups[-1].add(section)
    reports = []
    for group in groups:
        parsed = _build(group.sections, log)
        if parsed.report.unexpected or parsed.report.missing or parsed.report.mismatched:
            reports.append(parsed)
    return reports
