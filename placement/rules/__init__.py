"""CAT rules files: ``placement/rules/*.yaml`` parsed into :class:`placement.cat.Rules`.

The pure core (:mod:`placement.cat`) holds the ``Rules`` dataclass but may not import a YAML
library; this module reads the files. ``cir.yaml`` is the default blueprint of the CIR test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from placement.cat.rules import Rules
from placement.errors import InvalidRules

RULES_DIR = Path(__file__).resolve().parent
DEFAULT_RULES = RULES_DIR / "cir.yaml"


def load_rules(path: str | Path) -> Rules:
    """Read a rules YAML file (a path, or the name of a bundled file such as ``"cir"``).

    Raises
    ------
    InvalidRules
        The file is missing, not YAML, or its content is not valid rules (the message names
        the file and the key).
    """
    candidate = Path(path)
    if not candidate.exists() and (RULES_DIR / f"{path}.yaml").exists():
        candidate = RULES_DIR / f"{path}.yaml"
    try:
        text = candidate.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidRules(f"cannot read rules file {str(path)!r}: {exc.strerror}") from None
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidRules(f"{candidate}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise InvalidRules(f"{candidate}: a rules file is a mapping of keys to values")
    try:
        return Rules.from_mapping(data)
    except InvalidRules as exc:
        raise type(exc)(f"{candidate}: {exc}") from None


def default_rules() -> Rules:
    """The bundled CIR rules (``placement/rules/cir.yaml``)."""
    return load_rules(DEFAULT_RULES)


__all__ = ["DEFAULT_RULES", "RULES_DIR", "default_rules", "load_rules"]
