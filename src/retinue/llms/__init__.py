"""One seam to every chat model: embedded llama.cpp, OpenAI-compatible endpoints, and a scripted double."""

from retinue.llms.cache import SQLiteResponseCache
from retinue.llms.providers import make_chat_model
from retinue.llms.scripted import ScriptedChatModel, ScriptExhaustedError, UnusedScriptError
from retinue.llms.structured import Decision, OutputSchema, decide
from retinue.llms.usage import RoleUsage, UsageRecorder

__all__ = [
    "Decision",
    "OutputSchema",
    "RoleUsage",
    "SQLiteResponseCache",
    "ScriptExhaustedError",
    "ScriptedChatModel",
    "UnusedScriptError",
    "UsageRecorder",
    "decide",
    "make_chat_model",
]
