"""The `retinue` command line. Errors a user can fix are printed plainly and exit 1, never a traceback."""

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from retinue.config import LLMConfig, Provider, load_settings, validate_config
from retinue.errors import RetinueError

app = typer.Typer(
    help="retinue: teams of LLM agents on LangGraph, run from the command line.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
runs_app = typer.Typer(help="Inspect run directories.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

LLMOption = Annotated[Provider | None, typer.Option("--llm", help="Chat model seam (default: embedded).")]
ModelOption = Annotated[str | None, typer.Option(help="GGUF path (embedded) or model name (openai).")]
BaseUrlOption = Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint base URL.")]
ScriptOption = Annotated[Path | None, typer.Option(help="Scripted responses (JSON) for --llm scripted.")]
ConfigOption = Annotated[Path | None, typer.Option("--config", help="A retinue TOML file ([llm] table).")]
NoCacheOption = Annotated[bool, typer.Option("--no-cache", help="Call the model even for a repeated call.")]


def _llm_overrides(
    llm: str | None, model: str | None, base_url: str | None, script: Path | None, no_cache: bool
) -> dict[str, Any]:
    return {
        "provider": llm,
        "model": model,
        "base_url": base_url,
        "script": script,
        "cache": False if no_cache else None,
    }


def _read_schema(path: Path) -> dict[str, Any]:
    from retinue.jsonfiles import read_json
    from retinue.llms.structured import OutputSchema

    schema = read_json(path, "--schema")

    try:
        OutputSchema(schema)
    except Exception as error:  # jsonschema.SchemaError, with the failing keyword in its message
        raise RetinueError(f"--schema: {path} is not a valid JSON schema: {getattr(error, 'message', error)}") from None
    return schema  # type: ignore[no-any-return]


def _read_prompts(prompt: str | None, prompts_file: Path | None) -> list[str]:
    prompts = [prompt] if prompt else []
    if prompts_file is not None:
        try:
            prompts += [line.strip() for line in prompts_file.read_text(encoding="utf-8").splitlines() if line.strip()]
        except FileNotFoundError:
            raise RetinueError(f"--file: file not found: {prompts_file}") from None
    if not prompts:
        raise RetinueError("give a PROMPT, or --file with one prompt per line")
    return prompts


@app.command()
def ask(
    prompt: Annotated[str | None, typer.Argument(help="What to ask.")] = None,
    prompts_file: Annotated[Path | None, typer.Option("--file", help="More prompts, one per line.")] = None,
    schema: Annotated[Path | None, typer.Option(help="A JSON schema the answer must fit.")] = None,
    llm: LLMOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    script: ScriptOption = None,
    config: ConfigOption = None,
    no_cache: NoCacheOption = False,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Run directory (default: under RETINUE_HOME).")] = None,
    resume: Annotated[Path | None, typer.Option(help="Continue a stopped ask run from its last checkpoint.")] = None,
) -> None:
    """Ask the model; with --schema the answer is a validated JSON object. Prints usage after."""
    from retinue.runs.directory import RunDirectory

    if resume is not None:
        run = RunDirectory.open(resume)
        saved = run.config()
        if saved.get("command") != "ask":
            raise RetinueError(f"{resume} is a '{saved.get('command')}' run, not an ask run")
        prompts, schema_data = saved["prompts"], saved.get("schema")
        llm_config = validate_config(LLMConfig, saved["llm"], source=f"{run.config_path} [llm]")
    else:
        prompts = _read_prompts(prompt, prompts_file)
        schema_data = _read_schema(schema) if schema else None
        llm_config = load_settings(config, _llm_overrides(llm, model, base_url, script, no_cache)).llm
        from retinue.paths import runs_root

        run = RunDirectory.create(
            "ask",
            {"prompts": prompts, "schema": schema_data, "llm": llm_config.model_dump(mode="json")},
            out_dir,
            runs_root(),
        )
    _run_ask(run, prompts, schema_data, llm_config, resume=resume is not None)


def _run_ask(run: Any, prompts: list[str], schema: dict[str, Any] | None, llm_config: LLMConfig, resume: bool) -> None:
    from retinue.agents.ask import AskContext
    from retinue.graphs.ask import build_ask_graph
    from retinue.llms import SQLiteResponseCache, UsageRecorder, make_chat_model
    from retinue.paths import response_cache_path
    from retinue.runs.execute import execute

    usage = UsageRecorder()
    cache = SQLiteResponseCache(response_cache_path()) if llm_config.cache else None
    chat_model = make_chat_model(llm_config, cache=cache, usage=usage)
    context = AskContext(llm=chat_model, usage=usage, llm_config=llm_config, schema=schema)
    streamed: list[str] = []

    def echo(token: str, metadata: dict[str, Any]) -> None:
        streamed.append(token)
        out.print(token, end="", markup=False, highlight=False)

    stream_text = schema is None and len(prompts) == 1
    try:
        final = execute(
            build_ask_graph(),
            run=run,
            context=context,
            usage=usage,
            inputs={"prompts": prompts, "answers": []},
            resume=resume,
            recursion_limit=len(prompts) * 2 + 10,
            on_token=echo if stream_text else None,
            console=err,
        )
    except KeyboardInterrupt:
        err.print(f"\ninterrupted; continue with: retinue ask --resume {run.path}")
        raise typer.Exit(130) from None
    answers = final["answers"]
    for answer in answers:
        if len(prompts) > 1:
            out.print(f"# {answer['prompt']}", markup=False, highlight=False)
        if schema is not None:
            out.print(json.dumps(answer["value"], indent=2, ensure_ascii=False), markup=False, highlight=False)
            if not answer["valid"]:
                err.print(f"[yellow]no valid answer; fell back to null: {answer['fallback_reason']}[/yellow]")
        elif not (stream_text and streamed):
            out.print(answer["text"], markup=False, highlight=False)
        elif stream_text:
            out.print()
    run.write_metrics(_ask_metrics(answers, usage.to_dict()["total"], run.record()))
    _print_usage(usage.to_dict())
    err.print(f"run directory: {run.path}")


def _ask_metrics(answers: list[dict[str, Any]], total: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    return {
        "prompts": len(answers),
        "valid_answers": sum(1 for a in answers if a["valid"]),
        "fallbacks": sum(1 for a in answers if not a["valid"]),
        "llm_calls": total["calls"],
        "cache_hits": total["cache_hits"],
        "prompt_tokens": total["prompt_tokens"],
        "completion_tokens": total["completion_tokens"],
        "llm_latency_seconds": round(total["latency_seconds"], 3),
        "duration_seconds": record.get("duration_seconds"),
    }


def _print_usage(usage: dict[str, Any]) -> None:
    table = Table(title="usage", title_justify="left")
    for column in ("role", "calls", "cached", "tokens in", "tokens out", "fallbacks", "errors", "seconds"):
        table.add_column(column, justify="left" if column == "role" else "right")
    rows = [*usage["by_role"].items(), ("total", usage["total"])]
    for role, u in rows:
        table.add_row(
            role,
            str(u["calls"]),
            str(u["cache_hits"]),
            str(u["prompt_tokens"]),
            str(u["completion_tokens"]),
            str(u["fallbacks"]),
            str(u["errors"]),
            f"{u['latency_seconds']:.2f}",
        )
    err.print(table)


def _parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RetinueError(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from None


@app.command()
def backtest(
    method: Annotated[
        str, typer.Option(help="fincon | buy_and_hold | equal_weight | momentum | macd.")
    ] = "buy_and_hold",
    tickers: Annotated[str, typer.Option(help="Comma-separated tickers; several mean portfolio mode.")] = "TSLA",
    start: Annotated[str, typer.Option(help="First trading day (YYYY-MM-DD).")] = "2022-10-05",
    end: Annotated[str, typer.Option(help="Last trading day (YYYY-MM-DD).")] = "2023-06-10",
    cost_bps: Annotated[float, typer.Option(help="Transaction cost per unit of turnover, in basis points.")] = 0.0,
    data_dir: Annotated[Path | None, typer.Option(help="Data root holding market/ (default: see README).")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Run directory (default: under RETINUE_HOME).")] = None,
    resume: Annotated[Path | None, typer.Option(help="Continue a stopped backtest from its last trading day.")] = None,
    llm: LLMOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    script: ScriptOption = None,
    config: ConfigOption = None,
    no_cache: NoCacheOption = False,
) -> None:
    """Backtest a trading method on daily prices, with no look-ahead. Writes metrics.json, trades.csv,
    equity.png and report.html to the run directory.

    Positions are weights in [-1, 1] per ticker (long, flat, short), absolute weights summing to at most 1,
    held from one close to the next; cumulative return is the sum of daily log returns."""
    from retinue.runs.directory import RunDirectory

    if resume is not None:
        run = RunDirectory.open(resume)
        saved = run.config()
        if saved.get("command") != "backtest":
            raise RetinueError(f"{resume} is a '{saved.get('command')}' run, not a backtest")
    else:
        from retinue.envs.market_baselines import BASELINES
        from retinue.paths import data_root, runs_root

        if method not in (*BASELINES, "fincon"):
            raise RetinueError(f"--method: unknown method {method!r}; choose fincon or one of {', '.join(BASELINES)}")
        names = [t.strip().upper() for t in tickers.split(",") if t.strip()]
        if not names:
            raise RetinueError("--tickers: give at least one ticker")
        saved = {
            "method": method,
            "tickers": names,
            "start": _parse_day(start, "--start").isoformat(),
            "end": _parse_day(end, "--end").isoformat(),
            "cost_bps": cost_bps,
            "data_dir": str(data_root(data_dir)),
            "llm": load_settings(config, _llm_overrides(llm, model, base_url, script, no_cache)).llm.model_dump(
                mode="json"
            ),
        }
        _market_env(saved)  # check the window and data before creating a run directory
        run = RunDirectory.create("backtest", saved, out_dir, runs_root())
    _run_backtest(run, saved, resume=resume is not None)


def _market_env(saved: dict[str, Any]) -> Any:
    from retinue.datasets.prices import load_prices
    from retinue.envs.market import MarketEnv

    prices = load_prices(Path(saved["data_dir"]), list(saved["tickers"]))
    return MarketEnv(
        prices, date.fromisoformat(saved["start"]), date.fromisoformat(saved["end"]), cost_bps=saved["cost_bps"]
    )


def _fincon_method(env: Any, saved: dict[str, Any], usage: Any) -> Any:
    from retinue.agents.fincon import FinconContext, FinconMethod
    from retinue.datasets.market_text import TextArchive
    from retinue.graphs.fincon import build_fincon_day_graph
    from retinue.llms import SQLiteResponseCache, make_chat_model
    from retinue.paths import response_cache_path

    llm_config = validate_config(LLMConfig, saved["llm"], source="[llm]")
    cache = SQLiteResponseCache(response_cache_path()) if llm_config.cache else None
    context = FinconContext(
        llm=make_chat_model(llm_config, cache=cache, usage=usage),
        usage=usage,
        llm_config=llm_config,
        env=env,
        archive=TextArchive.load(Path(saved["data_dir"]), list(saved["tickers"])),
    )
    return FinconMethod(build_fincon_day_graph().compile(), context)


def _run_backtest(run: Any, saved: dict[str, Any], resume: bool) -> None:
    from retinue.agents.trading import Baseline, TradingContext
    from retinue.envs.market_baselines import BASELINES
    from retinue.evaluation.backtest_report import plot_equity, summarise, write_report, write_trades
    from retinue.graphs.backtest import build_backtest_graph
    from retinue.llms import UsageRecorder
    from retinue.runs.execute import execute

    env = _market_env(saved)
    usage = UsageRecorder()
    if saved["method"] == "fincon":
        decide: Any = _fincon_method(env, saved, usage)
    else:
        decide = Baseline(BASELINES[saved["method"]], saved["method"])
    context = TradingContext(env=env, decide=decide, method=saved["method"])
    try:
        final = execute(
            build_backtest_graph(),
            run=run,
            context=context,
            usage=usage,
            inputs={"index": 0, "last": env.trading_days - 1, "days": []},
            resume=resume,
            recursion_limit=2 * env.trading_days + 10,
            console=err,
        )
    except KeyboardInterrupt:
        err.print(f"\ninterrupted; continue with: retinue backtest --resume {run.path}")
        raise typer.Exit(130) from None
    days = final["days"]
    closes_next = {t: [env.view(i + 1).close(t) for i in range(len(days))] for t in env.tickers}
    metrics, benchmark = summarise(days, closes_next)
    total = usage.to_dict()["total"]
    metrics |= {
        "trading_days": env.trading_days,
        "llm_calls": total["calls"],
        "prompt_tokens": total["prompt_tokens"],
        "completion_tokens": total["completion_tokens"],
        "wall_seconds": run.record().get("duration_seconds"),
    }
    run.write_metrics(metrics)
    title = f"{saved['method']} on {', '.join(saved['tickers'])}, {saved['start']} to {saved['end']}"
    write_trades(run.path / "trades.csv", days)
    plot_equity(run.path / "equity.png", days, benchmark, title)
    write_report(run.path / "report.html", title, metrics)
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        table.add_row(key, str(value))
    out.print(table)
    err.print(f"report: {run.path / 'report.html'}")


@runs_app.command("list")
def runs_list(
    root: Annotated[Path | None, typer.Option(help="Folder of run directories (default: RETINUE_HOME/runs).")] = None,
) -> None:
    """List runs, newest first."""
    from retinue.paths import runs_root
    from retinue.runs.directory import list_runs

    root = root or runs_root()
    runs = list_runs(root)
    if not runs:
        err.print(f"no runs under {root}")
        return
    table = Table(title=f"runs under {root}", title_justify="left")
    for column in ("run", "command", "status", "started", "seconds", "llm calls"):
        table.add_column(column, no_wrap=column == "run")
    for run in runs:
        record = run.record()
        usage = run.usage().get("total", {})
        table.add_row(
            run.path.name,
            str(record.get("command")),
            run.status(),
            str(record.get("started_at", ""))[:19],
            str(record.get("duration_seconds", "")),
            str(usage.get("calls", "")),
        )
    out.print(table)


@runs_app.command("show")
def runs_show(run_dir: Annotated[Path, typer.Argument(help="A run directory.")]) -> None:
    """Print a run's record, metrics and usage as JSON."""
    from retinue.runs.directory import RunDirectory

    run = RunDirectory.open(run_dir)
    shown = {"run": run.record(), "config": run.config(), "metrics": run.metrics(), "usage": run.usage()}
    out.print(json.dumps(shown, indent=2), markup=False, highlight=False)


def main() -> None:
    """Entry point: runs the app, turning errors the user can fix into one clear line."""
    try:
        app()
    except RetinueError as error:
        err.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
