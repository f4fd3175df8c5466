"""retinue: a graph-of-agents runtime on LangGraph.

The Python API: describe a run with a scenario config, run it, read its metrics.

```python
import retinue

scenario = retinue.BacktestScenario(method="momentum", tickers=["TSLA"], start="2022-10-05", end="2022-12-30")
result = retinue.run(scenario)
result.metrics["cumulative_log_return_pct"], result.path
```

The names load on first use, so `import retinue` stays light.
"""

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from retinue.lazy import lazy_names

if TYPE_CHECKING:
    from retinue.config import LLMConfig
    from retinue.llms import ChoicePrompt, ScriptedChatModel, choose, decide, make_chat_model
    from retinue.scenarios import (
        AskScenario,
        BacktestScenario,
        ChatScenario,
        EffiQAScenario,
        RunInterrupted,
        RunResult,
        TipsScenario,
        TrainingWindow,
        load_scenario,
        open_sessions,
        run,
    )

try:
    __version__ = version("retinue")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

_HOMES = {
    "run": "scenarios",
    "AskScenario": "scenarios",
    "load_scenario": "scenarios",
    "BacktestScenario": "scenarios",
    "ChatScenario": "scenarios",
    "open_sessions": "scenarios",
    "EffiQAScenario": "scenarios",
    "TipsScenario": "scenarios",
    "TrainingWindow": "scenarios",
    "RunResult": "scenarios",
    "RunInterrupted": "scenarios",
    "LLMConfig": "config",
    "make_chat_model": "llms",
    "ScriptedChatModel": "llms",
    "ChoicePrompt": "llms",
    "choose": "llms",
    "decide": "llms",
}
__all__ = [
    "AskScenario",
    "BacktestScenario",
    "ChatScenario",
    "ChoicePrompt",
    "EffiQAScenario",
    "LLMConfig",
    "RunInterrupted",
    "RunResult",
    "ScriptedChatModel",
    "TipsScenario",
    "TrainingWindow",
    "__version__",
    "choose",
    "decide",
    "load_scenario",
    "make_chat_model",
    "open_sessions",
    "run",
]

__getattr__ = lazy_names(__name__, _HOMES)
