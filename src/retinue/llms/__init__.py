"""One seam to every chat model: embedded llama.cpp, OpenAI-compatible endpoints, and a scripted double;
`decide()` for structured replies, `choose()` for picks from a closed set.

The names below load on first use (PEP 562), so that importing one light module of this package (the
failure messages, the scripted model's errors) does not load the OpenAI client and LangChain's model
stack: `retinue --help` and the commands that call no model start about a second sooner.
"""

from typing import TYPE_CHECKING

from retinue.lazy import lazy_names

if TYPE_CHECKING:
    from retinue.llms.cache import SQLiteResponseCache
    from retinue.llms.choice import Choice, ChoicePrompt, choose
    from retinue.llms.failures import ScriptExhaustedError
    from retinue.llms.providers import make_chat_model, run_chat_model
    from retinue.llms.scripted import ScriptedChatModel, UnusedScriptError
    from retinue.llms.structured import Decision, OutputSchema, decide
    from retinue.llms.usage import RoleUsage, UsageRecorder

_HOMES = {
    "SQLiteResponseCache": "cache",
    "Choice": "choice",
    "ChoicePrompt": "choice",
    "choose": "choice",
    "make_chat_model": "providers",
    "run_chat_model": "providers",
    "ScriptedChatModel": "scripted",
    "ScriptExhaustedError": "failures",
    "UnusedScriptError": "scripted",
    "Decision": "structured",
    "OutputSchema": "structured",
    "decide": "structured",
    "RoleUsage": "usage",
    "UsageRecorder": "usage",
}
__all__ = [
    "Choice",
    "ChoicePrompt",
    "Decision",
    "OutputSchema",
    "RoleUsage",
    "SQLiteResponseCache",
    "ScriptExhaustedError",
    "ScriptedChatModel",
    "UnusedScriptError",
    "UsageRecorder",
    "choose",
    "decide",
    "make_chat_model",
    "run_chat_model",
]


__getattr__ = lazy_names(__name__, _HOMES)
