"""`retinue serve`: the chat page on a local web server."""

import ipaddress
import socket
from typing import Annotated

import typer

from retinue.cli.chat import FinconRunOption
from retinue.cli.common import (
    DEFAULT_MODEL_OPTIONS,
    ModelOptions,
    err,
    with_model_options,
)
from retinue.cli.effiqa import DataDirOption, ExplorerOption, KGOption
from retinue.cli.tips import GamesOption
from retinue.errors import RetinueError


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_port_free(host: str, port: int) -> None:
    """Refuse a port another server holds, before anything loads (uvicorn would only log it and exit 3)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as error:
            raise RetinueError(f"--port: cannot listen on {host}:{port} ({error.strerror}); choose another") from None


@with_model_options
def serve(
    host: Annotated[str, typer.Option(help="Address to bind; beyond loopback, --token is required.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    token: Annotated[str | None, typer.Option(help="Required on every request (Bearer header or ?token=).")] = None,
    kg: KGOption = None,
    explorer: ExplorerOption = None,
    data_dir: DataDirOption = None,
    games: GamesOption = None,
    fincon_run: FinconRunOption = None,
    models: ModelOptions = DEFAULT_MODEL_OPTIONS,
) -> None:
    """Serve the chat page: sessions, team picker, streamed replies with each agent's steps. The sessions
    are the terminal's (`retinue chat`): either front end continues the other's."""
    import uvicorn

    from retinue.scenarios.chat import ChatScenario, open_sessions
    from retinue.web.app import create_app

    if not _is_loopback(host) and not token:
        raise RetinueError(f"--host {host} is reachable beyond this machine: give --token as well")
    if not 0 < port < 65536:
        raise RetinueError(f"--port must be between 1 and 65535, not {port}")
    _check_port_free(host, port)
    scenario = ChatScenario(
        llm=models.settings(default_model=False),
        kg=kg,
        explorer=explorer,
        data_dir=data_dir,
        games=games,
        fincon_run=fincon_run,
    )
    with open_sessions(scenario, console=err) as sessions:
        address = f"http://{host}:{port}/" + (f"?token={token}" if token else "")
        err.print(f"chat page: {address}  (Ctrl-C stops the server; sessions are kept)", highlight=False)
        uvicorn.run(create_app(sessions, token), host=host, port=port, log_level="warning")
