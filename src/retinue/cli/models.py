"""`retinue models`: the local models the project trains or loads, and their cards."""

import json
from typing import Annotated

import typer
from rich.table import Table

from retinue.cli.common import command_group, out

models_app = command_group("Local models and their cards.")


@models_app.command("list")
def models_list() -> None:
    """Every registered model: built-in ones and those `retinue train` registered."""
    from retinue.models.registry import card, names

    table = Table(title="models", title_justify="left")
    for column in ("name", "task", "parameters", "adaptation"):
        table.add_column(column)
    for name in names():
        entry = card(name)
        table.add_row(
            name,
            str(entry.get("task", "")),
            f"{entry.get('parameters', '')}",
            str(entry.get("taxonomy", {}).get("adaptation", "")),
        )
    out.print(table)


@models_app.command("show")
def models_show(name: Annotated[str, typer.Argument(help="A name from `retinue models list`.")]) -> None:
    """A model's card as JSON."""
    from retinue.models.registry import card

    out.print_json(json.dumps(card(name)))
