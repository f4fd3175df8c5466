"""Prompts are data: each agent package keeps a prompts.yaml beside its code."""

import functools
from importlib.resources import files
from typing import Any

import yaml


@functools.cache
def load_prompts(package: str) -> dict[str, Any]:
    """The prompts.yaml of an agent package, e.g. `load_prompts("retinue.agents.ask")`."""
    text = files(package).joinpath("prompts.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{package}/prompts.yaml must hold a mapping")
    return data
