"""Checking media files: Ogg/Opus audio must decode (with ffmpeg, run as a subprocess) and SVG
pictures must be well-formed XML whose root is ``<svg>``.

Decoding every audio file of a bank takes ffmpeg about 0.1 s a file, so files are decoded in
batches (one ffmpeg process for up to :data:`BATCH` inputs, falling back to one process per file
only for a batch that fails, to name the bad file) and the sha256 of every file that decoded is
remembered in a small cache (``$XDG_CACHE_HOME/placement/itembank-audio-ok.txt``): a file whose
content has not changed is not decoded again. Failures are never cached.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from defusedxml import ElementTree as SafeET  # type: ignore[import-untyped]  # no stubs
from tqdm import tqdm

BATCH = 32
AUDIO_SUFFIXES = frozenset({".ogg", ".opus"})
IMAGE_SUFFIXES = frozenset({".svg"})

_INPUT = re.compile(r"^Input #(\d+), ([\w,]+), from ", re.MULTILINE)
_AUDIO = re.compile(r"^\s*Stream #(\d+):\d+.*?: Audio: (\w+)", re.MULTILINE)
_DURATION = re.compile(r"^\s*Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", re.MULTILINE)


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_cache_file() -> Path | None:
    """Where hashes of decoded audio are remembered; None when ``ITEMBANK_DECODE_CACHE=0``."""
    if os.environ.get("ITEMBANK_DECODE_CACHE", "1") == "0":
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "placement" / "itembank-audio-ok.txt"


def _read_cache(cache: Path | None) -> set[str]:
    if cache is None or not cache.is_file():
        return set()
    return set(cache.read_text().split())


def _append_cache(cache: Path | None, hashes: Iterable[str]) -> None:
    new = list(hashes)
    if cache is None or not new:
        return
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with cache.open("a") as f:
            f.write("".join(f"{h}\n" for h in new))
    except OSError:
        pass  # the cache only saves time; a read-only home must not fail validation


def _ffmpeg() -> str | None:
    return shutil.which("ffmpeg")


def _run_ffmpeg(ffmpeg: str, files: Sequence[Path]) -> tuple[int, str]:
    args = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-xerror"]
    for f in files:
        args += ["-i", str(f)]
    for i in range(len(files)):
        args += ["-map", f"{i}:a", "-f", "null", "-"]
    # ffmpeg from PATH with file paths as arguments, never through a shell
    proc = subprocess.run(args, capture_output=True, text=True, check=False, timeout=300)  # noqa: S603
    return proc.returncode, proc.stderr


def _judge(stderr: str, n: int) -> list[str | None]:
    """Per input, None when it is decodable Ogg/Opus audio, else why not (rc was 0)."""
    containers = {int(m[1]): m[2] for m in _INPUT.finditer(stderr)}
    codecs: dict[int, str] = {}
    for m in _AUDIO.finditer(stderr):
        codecs.setdefault(int(m[1]), m[2])
    durations = [int(h) * 3600 + int(mi) * 60 + float(s) for h, mi, s in _DURATION.findall(stderr)]
    verdicts: list[str | None] = []
    for i in range(n):
        container, codec = containers.get(i, "?"), codecs.get(i)
        if codec is None:
            verdicts.append("has no audio stream")
        elif "ogg" not in container.split(",") or codec != "opus":
            verdicts.append(f"is not Ogg/Opus audio (container {container}, codec {codec})")
        elif i < len(durations) and durations[i] <= 0:
            verdicts.append("is empty (duration 0 s)")
        else:
            verdicts.append(None)
    return verdicts


def _check_batch(ffmpeg: str, files: Sequence[Path]) -> list[str | None]:
    rc, stderr = _run_ffmpeg(ffmpeg, files)
    if rc == 0:
        return _judge(stderr, len(files))
    if len(files) == 1:
        lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
        reason = lines[-1] if lines else f"ffmpeg exited with {rc}"
        return [f"does not decode: {reason.replace(str(files[0]) + ': ', '')}"]
    return [v for f in files for v in _check_batch(ffmpeg, [f])]


def check_audio_files(
    paths: Sequence[Path], *, cache: Path | None = None, progress: bool = False
) -> dict[Path, str | None]:
    """Decode each audio file; map each path to None when it decodes as Ogg/Opus, else the reason.

    ``cache`` is a file of sha256 hashes known to decode (see :func:`default_cache_file`).
    """
    results: dict[Path, str | None] = {}
    unique = list(dict.fromkeys(paths))
    if not unique:
        return results
    known = _read_cache(cache)
    todo: list[tuple[Path, str]] = []
    for p in unique:
        h = sha256_file(p)
        if h in known:
            results[p] = None
        else:
            todo.append((p, h))
    ffmpeg = _ffmpeg()
    if ffmpeg is None:
        for p, _ in todo:
            results[p] = "cannot be decoded: ffmpeg is not installed"
        return results
    batches = [todo[i : i + BATCH] for i in range(0, len(todo), BATCH)]
    decoded: list[str] = []
    with (
        ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool,
        tqdm(
            total=len(todo), desc="decoding audio", unit="file", disable=not progress or not todo
        ) as bar,
    ):
        for batch, verdicts in zip(
            batches,
            pool.map(lambda b: _check_batch(ffmpeg, [p for p, _ in b]), batches),
            strict=True,
        ):
            for (p, h), verdict in zip(batch, verdicts, strict=True):
                results[p] = verdict
                if verdict is None:
                    decoded.append(h)
            bar.update(len(batch))
    _append_cache(cache, decoded)
    return results


def check_svg(path: Path) -> str | None:
    """None when the file is well-formed XML with an ``<svg>`` root, else the reason."""
    try:
        root = SafeET.parse(path).getroot()
    except SafeET.ParseError as exc:
        return f"SVG is not valid XML: {exc}"
    except Exception as exc:  # defusedxml refuses entities and DTDs with its own errors
        return f"SVG is not safe XML: {type(exc).__name__}: {exc}"
    tag = root.tag.rsplit("}", 1)[-1]
    if tag != "svg":
        return f"SVG root element is <{tag}>, expected <svg>"
    return None
