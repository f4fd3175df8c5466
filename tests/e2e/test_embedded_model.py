"""The embedded model for real: Gemma 3 270M through llama-cpp-python."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Literal

import jsonschema
import pytest
from langchain_core.messages import HumanMessage
from pydantic import BaseModel, Field

from retinue.llms import UsageRecorder, decide
from retinue.llms.llama_cpp import LlamaCppChatModel

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


class TradeDecision(BaseModel):
    action: Literal["BUY", "SELL", "HOLD"]
    confidence: float = Field(ge=0, le=1)
    reason: str = Field(max_length=120)


def test_schema_constrained_decision_is_valid(embedded_model: LlamaCppChatModel) -> None:
    usage = UsageRecorder()
    model = embedded_model.model_copy(update={"max_tokens": 120, "callbacks": [usage]})
    decision = decide(
        model,
        [HumanMessage("TSLA fell 8% after weak deliveries. Decide BUY, SELL or HOLD.")],
        TradeDecision,
        default=TradeDecision(action="HOLD", confidence=0, reason="fallback"),
        role="manager",
        usage=usage,
    )
    assert decision.valid, decision.fallback_reason
    assert isinstance(decision.value, TradeDecision)
    assert usage.by_role["manager"].calls == decision.attempts
    assert usage.by_role["manager"].prompt_tokens > 20


def test_streaming_matches_invoke_and_counts_tokens(embedded_model: LlamaCppChatModel) -> None:
    messages = [HumanMessage("Describe the ocean.")]
    whole = embedded_model.invoke(messages)
    chunks = list(embedded_model.stream(messages))
    assert len(chunks) > 3
    assert "".join(str(c.content) for c in chunks) == whole.content
    assert whole.usage_metadata and whole.usage_metadata["output_tokens"] > 0
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    streamed_usage = merged.usage_metadata
    assert streamed_usage and streamed_usage["input_tokens"] == whole.usage_metadata["input_tokens"]


def test_stop_sequences_cut_the_output(embedded_model: LlamaCppChatModel) -> None:
    messages = [HumanMessage("Count: one, two, three, four, five, six")]
    full = str(embedded_model.invoke(messages).content)
    words = full.split()
    assert len(words) >= 3, full
    marker = words[2]
    cut = str(embedded_model.invoke(messages, stop=[marker]).content)
    assert marker not in cut and full.startswith(cut)


def test_same_seed_same_sample(embedded_model: LlamaCppChatModel) -> None:
    sampler = embedded_model.model_copy(update={"temperature": 0.9, "seed": 7})
    messages = [HumanMessage("Name a colour and a fruit.")]
    assert sampler.invoke(messages).content == sampler.invoke(messages).content


def test_demo_command_prints_a_valid_decision(model_home: Path, tmp_path: Path) -> None:
    schema_path = REPO / "examples" / "trade_decision.schema.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "retinue.cli",
            "ask",
            "Should I sell a stock that fell 8% on weak earnings?",
            "--schema",
            str(schema_path),
            "--out",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={"RETINUE_HOME": str(model_home), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    jsonschema.validate(json.loads(done.stdout), json.loads(schema_path.read_text()))
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["valid_answers"] == 1 and metrics["llm_calls"] >= 1
    assert "llama_" not in done.stderr  # llama.cpp's own log goes to the logger, not the user's terminal


def test_concurrent_first_loads_share_one_model_and_keep_stdout(gguf_path: Path) -> None:
    import os
    from concurrent.futures import ThreadPoolExecutor

    from retinue.llms.llama_cpp import _load

    before = os.readlink("/proc/self/fd/1")
    with ThreadPoolExecutor(max_workers=3) as pool:  # n_ctx=640: a size no other test loads
        loaded = list(pool.map(lambda _: _load(str(gguf_path), 640, 1), range(3)))
    assert all(model is loaded[0] for model in loaded)
    assert os.readlink("/proc/self/fd/1") == before != "/dev/null"


def test_lazy_grammar_sampling_picks_what_grammar_first_sampling_picks(gguf_path: Path) -> None:
    """Greedy decoding under a grammar: checking the grammar only on the chosen token (and on every token
    when it rejects that one) must give llama-cpp-python's own result, token for token."""
    from llama_cpp import Llama, LlamaGrammar

    from retinue.llms._lazy_grammar import LazyGrammarLlama
    from retinue.llms.llama_cpp import grammar_schema

    schema = {
        "type": "object",
        "properties": {
            "animal": {"type": "string", "enum": ["zebra", "okapi"]},  # words the model would not start with
            "note": {"type": "string", "maxLength": 40},
        },
        "required": ["animal", "note"],
    }
    grammar = LlamaGrammar.from_json_schema(json.dumps(grammar_schema(schema)), verbose=False)
    prompt = "### Instruction:\nName a stock to buy and say why.\n\n### Response:\n"
    replies = []
    for cls in (Llama, LazyGrammarLlama):
        llama = cls(model_path=str(gguf_path), n_ctx=512, n_threads=2, verbose=False, seed=0)
        reply = llama.create_completion(prompt=prompt, grammar=grammar, max_tokens=48, temperature=0.0)
        replies.append(reply["choices"][0]["text"])
    assert replies[0] == replies[1]
    assert json.loads(replies[1])["animal"] in ("zebra", "okapi")


def test_a_choice_scores_each_option_as_the_prompts_continuation(embedded_model: LlamaCppChatModel) -> None:
    """The option scores (one prompt evaluation, each option on its KV cache) equal the log-likelihoods of
    each option evaluated from scratch, token by token; streamed or not, the reply is the same."""
    import llama_cpp
    import numpy as np

    from retinue.llms.choice import ChoicePrompt, choose
    from retinue.llms.option_scores import OptionScores, ScoreRequest

    messages = [HumanMessage("You are in the kitchen. A red apple lies on the counter.")]
    request = ScoreRequest(options=["take red apple", "go north", "look"], stem="Command:")
    reply = embedded_model.invoke(messages, **request.to_kwargs())
    scores = OptionScores.parse(str(reply.content), 3)
    streamed = "".join(str(c.content) for c in embedded_model.stream(messages, **request.to_kwargs()))
    assert OptionScores.parse(streamed, 3).logprobs == pytest.approx(scores.logprobs, abs=1e-3)
    assert reply.usage_metadata and reply.usage_metadata["output_tokens"] == sum(scores.tokens)

    llama, _, lock = embedded_model._model()
    prompt, _ = embedded_model.format_prompt(messages)
    prompt += llama.tokenize(b"Command:", add_bos=False, special=False)
    with lock:
        for option, score in zip(request.options, scores.logprobs, strict=True):
            tokens = llama.tokenize(f" {option}".encode(), add_bos=False, special=False)
            total = 0.0
            for index, token in enumerate(tokens):
                llama.reset()
                llama.eval(prompt + tokens[:index])
                row = np.ctypeslib.as_array(
                    llama_cpp.llama_get_logits_ith(llama._ctx.ctx, -1), shape=(llama.n_vocab(),)
                )
                row = row.astype(np.float64)
                total += float(row[token] - (row.max() + np.log(np.exp(row - row.max()).sum())))
            assert score == pytest.approx(total, rel=0.02, abs=0.05), option  # batching moves the last bits
        llama.reset()
    assert scores.tokens[1] >= 2  # some option has several tokens, so the KV-cache path was taken

    usage = UsageRecorder()
    model = embedded_model.model_copy(update={"callbacks": [usage]})
    choice = choose(
        model, ChoicePrompt(messages, list(request.options), kind="text", stem="Command:"), default="look", usage=usage
    )
    assert choice.valid and choice.method == "loglik" and sum(choice.probabilities.values()) == pytest.approx(1)
    assert usage.by_role["default"].calls == 1 and usage.by_role["default"].prompt_tokens > 10
    assert usage.by_role["default_calibration"].calls == 1  # the PMI premise, scored once
    choose(model, ChoicePrompt(messages, list(request.options), kind="text", stem="Command:"), default="look", seed=1)
    assert usage.by_role["default"].calls == 2 and usage.by_role["default_calibration"].calls == 1
