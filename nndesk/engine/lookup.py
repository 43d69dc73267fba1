"""Name-to-class lookup shared by the loss, optimizer, schedule and metric registries."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from .errors import ConfigError


def canonical(
    name: str, names: tuple[str, ...], aliases: Mapping[str, str], kind: str
) -> str:
    """The canonical spelling of ``name`` (case, spaces and hyphens forgiven).

    Raises
    ------
    ConfigError
        Naming the unknown name and listing the valid ones.
    """
    if not isinstance(name, str):
        raise ConfigError(
            f"A {kind} must be given by name or as an object, not {type(name).__name__}."
        )
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = aliases.get(key, key)
    if key not in names:
        raise ConfigError(
            f"Unknown {kind} '{name}'; valid {kind}s are: {', '.join(names)}."
        )
    return key


def construct(cls: type, kwargs: dict[str, Any], label: str) -> Any:
    """``cls(**kwargs)``, turning a wrong keyword into a ConfigError naming it."""
    params = inspect.signature(cls).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    if not accepts_any:
        valid = [n for n, p in params.items() if p.kind is not p.VAR_POSITIONAL]
        for key in kwargs:
            if key not in valid:
                listed = ", ".join(valid) if valid else "none"
                raise ConfigError(
                    f"{label} has no parameter '{key}'; its parameters are: {listed}."
                )
    missing = [
        n
        for n, p in params.items()
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and n not in kwargs
    ]
    if missing:
        raise ConfigError(f"{label} needs parameter '{missing[0]}'.")
    return cls(**kwargs)
