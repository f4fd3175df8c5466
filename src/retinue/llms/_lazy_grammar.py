"""Grammar-constrained sampling that checks the grammar only when it has to (llama.cpp's own trick).

llama-cpp-python puts the grammar first in its sampler chain, so every generated token runs the grammar
over the whole vocabulary (262k tokens for Gemma 3): in one measurement that made a constrained reply
about 4x slower than an unconstrained one. llama.cpp's `common_sampler_sample` does better, and so does
this: sample from the chain without the grammar; if the grammar accepts that one token, keep it; only
if it rejects it, apply the grammar to every candidate and sample again. Greedy decoding picks the
same token either way (the best valid token is the best token when that one is valid); sampling at a
temperature draws from the same constrained distribution whenever the first draw is valid.
Repetition penalties are left out: retinue never sets them, and at their default they do nothing.
"""

import ctypes
from typing import Any

import llama_cpp
import numpy as np
from llama_cpp import Llama

TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)], align=True)


class LazyGrammarSampler:
    """Stands in for llama-cpp-python's `LlamaSampler` where a grammar is given (`sample`, `close`)."""

    def __init__(self, llama: Llama, grammar: Any, temp: float, top_k: int, top_p: float, min_p: float) -> None:
        self._n_vocab = llama.n_vocab()
        self._chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
        if temp <= 0:
            llama_cpp.llama_sampler_chain_add(self._chain, llama_cpp.llama_sampler_init_greedy())
        else:
            for sampler in (
                llama_cpp.llama_sampler_init_top_k(top_k),
                llama_cpp.llama_sampler_init_top_p(top_p, 1),
                llama_cpp.llama_sampler_init_min_p(min_p, 1),
                llama_cpp.llama_sampler_init_temp(temp),
                llama_cpp.llama_sampler_init_dist(llama._seed),
            ):
                llama_cpp.llama_sampler_chain_add(self._chain, sampler)
        self._grammar = llama_cpp.llama_sampler_init_grammar(
            llama._model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        self._candidates = np.zeros(self._n_vocab, dtype=TOKEN_DATA)
        self._candidates["id"] = np.arange(self._n_vocab, dtype=np.int32)
        self._one = np.zeros(1, dtype=TOKEN_DATA)

    def _apply(self, sampler: Any, data: np.ndarray) -> int:
        """Run `sampler` over `data` in place; returns the selected index (-1 when it selects none)."""
        array = llama_cpp.llama_token_data_array(
            data=data.ctypes.data_as(llama_cpp.llama_token_data_p), size=len(data), selected=-1, sorted=False
        )
        llama_cpp.llama_sampler_apply(sampler, ctypes.byref(array))
        return int(array.selected)

    def _fill(self, ctx: Any, idx: int) -> None:
        logits = llama_cpp.llama_get_logits_ith(ctx.ctx, idx)
        self._candidates["id"] = np.arange(self._n_vocab, dtype=np.int32)  # samplers may sort in place
        self._candidates["logit"] = np.ctypeslib.as_array(logits, shape=(self._n_vocab,))
        self._candidates["p"] = 0.0

    def sample(self, ctx: Any, idx: int = -1) -> int:
        self._fill(ctx, idx)
        token = int(self._candidates[self._apply(self._chain, self._candidates)]["id"])
        self._one[0] = (token, 1.0, 0.0)
        self._apply(self._grammar, self._one)
        if not np.isfinite(self._one[0]["logit"]):  # rejected: constrain every candidate, then sample
            self._fill(ctx, idx)
            self._apply(self._grammar, self._candidates)
            token = int(self._candidates[self._apply(self._chain, self._candidates)]["id"])
        llama_cpp.llama_sampler_accept(self._grammar, token)
        llama_cpp.llama_sampler_accept(self._chain, token)
        return token

    def close(self) -> None:
        if self._chain is not None:
            llama_cpp.llama_sampler_free(self._chain)
            llama_cpp.llama_sampler_free(self._grammar)
            self._chain = self._grammar = None

    def __del__(self) -> None:
        self.close()


class LazyGrammarLlama(Llama):
    """`Llama` whose grammar-constrained sampling uses `LazyGrammarSampler`."""

    def _init_sampler(self, *args: Any, **kwargs: Any) -> Any:
        grammar = kwargs.get("grammar")
        plain = kwargs.get("logits_processor") is None and kwargs.get("mirostat_mode", 0) == 0
        if grammar is None or not plain:
            return super()._init_sampler(*args, **kwargs)
        return LazyGrammarSampler(
            self,
            grammar,
            temp=kwargs.get("temp", 0.8),
            top_k=kwargs.get("top_k", 40),
            top_p=kwargs.get("top_p", 0.95),
            min_p=kwargs.get("min_p", 0.05),
        )
