"""The factory behind the model seam: one `LLMConfig` in, one LangChain chat model out."""

import os
from pathlib import Path

from langchain_core.caches import BaseCache
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from retinue.config import LLMConfig
from retinue.errors import ConfigError
from retinue.llms.usage import UsageRecorder

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


def embedded_model_path(model: str | None) -> str:
    """The GGUF file for the embedded provider: Gemma 3 270M by default (or named, gemma3-270m), else a
    path, else the name of a registered model trained here or shipped (its folder's model.gguf)."""
    from retinue.llms.llama_cpp import default_model_path
    from retinue.models import registry

    if model is None or model in registry.BUILT_IN:  # gemma3-270m: the stock model by its name
        return str(default_model_path())
    if Path(model).is_file() or model not in registry.names():
        return model  # a missing file is reported by check_chat_model
    from retinue.models.model_folder import GGUF_FILE

    gguf = Path(registry.card(model).get("folder", "")) / GGUF_FILE
    if not gguf.is_file():
        raise ConfigError(f"model {model!r} has no {GGUF_FILE} to run as a chat model")
    return str(gguf)


def trained_roles(model: str | None) -> frozenset[str]:
    """The roles whose choice prompts the embedded model `model` names was trained on (its card's
    "choice_roles", as `retinue train agent` writes them), so that `choose` takes its conditional likelihood
    uncalibrated for them."""
    from retinue.models import registry

    if model is None or model in registry.BUILT_IN or model not in registry.names():
        return frozenset()
    return frozenset(str(role) for role in registry.card(model).get("choice_roles", []))


def _openai_endpoint(config: LLMConfig) -> tuple[str | None, str | None]:
    """The API key and base URL an `openai` model uses: the settings', else the environment's."""
    return os.environ.get(config.api_key_env), config.base_url or os.environ.get("OPENAI_BASE_URL")


def check_chat_model(config: LLMConfig) -> None:
    """Raise what `make_chat_model` would refuse, without loading a model: commands check this before they
    create a run directory, so that a bad model option leaves nothing behind."""
    if config.provider == "embedded":
        path = embedded_model_path(config.model)
        if not Path(path).is_file():
            raise ConfigError(f"GGUF model file not found: {path} (--model takes a GGUF file or a model trained here)")
    elif config.provider == "openai":
        api_key, base_url = _openai_endpoint(config)
        if not api_key and not base_url:
            raise ConfigError(
                f"llm.provider = 'openai' needs an API key in ${config.api_key_env} "
                "or a local endpoint in llm.base_url / $OPENAI_BASE_URL"
            )
    else:
        from retinue.llms.scripted import ScriptedChatModel

        if config.script is None:
            raise ConfigError("llm.provider = 'scripted' needs llm.script: a JSON file of canned responses")
        ScriptedChatModel.from_file(config.script)  # its responses must load


def run_chat_model(config: LLMConfig, usage: UsageRecorder | None, db: str | None = None) -> BaseChatModel:
    """The chat model of a run: the shared response cache (unless `config.cache` is off; on the PostgreSQL
    server `db` when given) and `usage` counting every call."""
    from retinue.llms.cache import open_response_cache
    from retinue.paths import response_cache_path

    cache = open_response_cache(db, response_cache_path()) if config.cache else None
    return make_chat_model(config, cache=cache, usage=usage)


def make_chat_model(
    config: LLMConfig,
    *,
    cache: BaseCache | None = None,
    usage: UsageRecorder | None = None,
) -> BaseChatModel:
    """Build the configured chat model; `cache` replays identical calls, `usage` counts every call."""
    check_chat_model(config)
    model_cache: BaseCache | bool = cache if (cache is not None and config.cache) else False
    callbacks: list[BaseCallbackHandler] | None = [usage] if usage is not None else None
    if config.provider == "embedded":
        from retinue.llms.llama_cpp import LlamaCppChatModel

        return LlamaCppChatModel(
            model_path=embedded_model_path(config.model),
            n_ctx=config.context_tokens,
            n_threads=config.threads,
            temperature=config.temperature,
            top_p=config.top_p,
            max_tokens=config.max_tokens,
            seed=config.seed,
            trained_roles=trained_roles(config.model),
            cache=model_cache,
            callbacks=callbacks,
        )
    if config.provider == "openai":
        from retinue.llms.openai_compatible import OpenAICompatibleChatModel

        api_key, base_url = _openai_endpoint(config)
        return OpenAICompatibleChatModel(
            model=config.model or os.environ.get("OPENAI_MODEL") or DEFAULT_OPENAI_MODEL,
            base_url=base_url,
            # Local servers (vLLM, llama.cpp, Ollama) accept any key; the client insists on one.
            api_key=SecretStr(api_key or "not-needed"),
            temperature=config.temperature,
            top_p=config.top_p,
            max_completion_tokens=config.max_tokens,
            seed=config.seed,
            timeout=config.timeout_seconds,
            max_retries=config.max_retries,
            stream_usage=True,
            cache=model_cache,
            callbacks=callbacks,
        )
    from retinue.llms.scripted import ScriptedChatModel

    assert config.script is not None  # checked above
    return ScriptedChatModel.from_file(config.script, cache=model_cache, callbacks=callbacks)
