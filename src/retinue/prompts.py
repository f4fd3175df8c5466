"""Prompts are data: each agent package keeps a prompts.yaml beside its code."""

import functools
import string
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


def content_free(template: str, **kept: str) -> str:
    """`template` with every field but `kept` (and the options, which the choice fills in) replaced by
    the content-free input "N/A": the prompt a choice is calibrated against (`retinue.llms.choose`)."""
    from retinue.llms.choice import CONTENT_FREE

    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    values = dict.fromkeys(fields, CONTENT_FREE) | kept | {"options": "{options}"}
    return template.format(**values)
