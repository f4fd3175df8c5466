"""SynthesizRR (Divekar & Durrett, 2024): synthesise a labelled set by retrieval and refinement.

For each seed example: retrieve its nearest documents from a corpus (MiniLM embeddings, exact faiss
inner-product search), take one whose cosine similarity lies in [0.4, 0.9] (related, not a copy; in a
corpus too small to have one, the nearest under 0.9), and
ask the teacher model, with a few demonstrations of the label, to write a new example of that label
grounded in the document (`synthesize`). The few-shot baseline (`few_shot`) asks the same teacher with
the demonstrations only. Replies are schema-constrained; invalid ones, empty ones and duplicates are
dropped. `distinct_n`, `self_bleu` and `entity_entropy` measure diversity; label preservation is measured
by a reference classifier (the caller's).
"""

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import faiss
import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from pydantic import BaseModel, Field

from retinue.config import LLMConfig
from retinue.errors import RetinueError
from retinue.llms.structured import decide_as_configured
from retinue.llms.usage import UsageRecorder
from retinue.memory.embeddings import embed
from retinue.prompts import load_prompts

SIMILARITY_RANGE = (0.4, 0.9)
RETRIEVED = 50
DEMONSTRATIONS = 3
DOCUMENT_CHARS = 600
ROLE = "synthesizer"


class Example(BaseModel):
    text: str = Field(min_length=15, max_length=240, description="One new sentence of the requested label.")


NO_EXAMPLE = Example.model_construct(text="")


@dataclass(frozen=True)
class Synthetic:
    text: str
    label: str
    seed: str
    document: str  # empty for few-shot


class Corpus:
    """Documents with an exact cosine index over their MiniLM embeddings."""

    def __init__(self, documents: Sequence[str]) -> None:
        if not documents:
            raise RetinueError("the retrieval corpus is empty")
        self.documents = list(documents)
        vectors = embed(self.documents)
        faiss.normalize_L2(vectors)
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(vectors)

    def related(self, query: str, k: int = RETRIEVED, band: tuple[float, float] = SIMILARITY_RANGE) -> list[str]:
        """Documents among the k nearest whose similarity is inside `band`, nearest first; when none is
        (a small corpus), the nearest ones that are not near-copies (similarity under the band's top)."""
        vector = embed([query])
        faiss.normalize_L2(vector)
        scores, ids = self.index.search(vector, min(k, len(self.documents)))
        hits = [(float(s), self.documents[i]) for s, i in zip(scores[0], ids[0], strict=True) if s <= band[1]]
        inside = [d for s, d in hits if s >= band[0]]
        return inside or [d for _, d in hits]


def _demonstrations(seeds: Sequence[tuple[str, str]], label: str, rng: random.Random) -> str:
    same = [text for text, gold in seeds if gold == label]
    return "\n".join(f"- {t}" for t in rng.sample(same, min(DEMONSTRATIONS, len(same))))


def _generate(llm: BaseChatModel, config: LLMConfig, usage: UsageRecorder | None, prompt: str) -> str:
    return decide_as_configured(
        llm, config, [HumanMessage(prompt)], Example, default=NO_EXAMPLE, role=ROLE, usage=usage
    ).value.text.strip()


def _keep(found: list[Synthetic], candidate: Synthetic, seen: set[str]) -> None:
    key = " ".join(candidate.text.lower().split())
    if key and key not in seen:
        seen.add(key)
        found.append(candidate)


def synthesize(
    seeds: Sequence[tuple[str, str]],
    corpus: Corpus,
    llm: BaseChatModel,
    config: LLMConfig,
    usage: UsageRecorder | None = None,
    per_seed: int = 1,
    seed: int = 0,
) -> list[Synthetic]:
    """SynthesizRR: each new example grounded in one of the documents retrieved for its seed."""
    template = load_prompts("retinue.training")["synthesizrr"]
    return _write(seeds, template, lambda text: corpus.related(text)[:per_seed], llm, config, usage, seed)


def few_shot(
    seeds: Sequence[tuple[str, str]],
    llm: BaseChatModel,
    config: LLMConfig,
    usage: UsageRecorder | None = None,
    per_seed: int = 1,
    seed: int = 0,
) -> list[Synthetic]:
    """The baseline: demonstrations only, no document."""
    template = load_prompts("retinue.training")["few_shot"]
    return _write(seeds, template, lambda text: [""] * per_seed, llm, config, usage, seed)


def _write(
    seeds: Sequence[tuple[str, str]],
    template: str,
    documents_of: Callable[[str], list[str]],
    llm: BaseChatModel,
    config: LLMConfig,
    usage: UsageRecorder | None,
    seed: int,
) -> list[Synthetic]:
    """One example per (seed, document); duplicates dropped. A template without {document} ignores it."""
    rng = random.Random(seed)
    found: list[Synthetic] = []
    seen: set[str] = set()
    for text, label in seeds:
        for document in documents_of(text):
            prompt = template.format(
                label=label, document=document[:DOCUMENT_CHARS], demonstrations=_demonstrations(seeds, label, rng)
            )
            _keep(found, Synthetic(_generate(llm, config, usage, prompt), label, text, document), seen)
    return found


def _ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct n-grams over all n-grams in the set (higher: more diverse)."""
    grams = [g for t in texts for g in _ngrams(t.lower().split(), n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def bleu(candidate: list[str], references: list[list[str]], max_n: int = 4) -> float:
    """Sentence BLEU (uniform weights up to 4-grams, +1 smoothing on higher orders, brevity penalty)."""
    if not candidate:
        return 0.0
    log_precision = 0.0
    for n in range(1, max_n + 1):
        counts = Counter(_ngrams(candidate, n))
        best: Counter[tuple[str, ...]] = Counter()
        for reference in references:
            best |= Counter(_ngrams(reference, n))
        matched = sum(min(c, best[g]) for g, c in counts.items())
        total = sum(counts.values())
        smooth = 0 if n == 1 else 1
        if matched + smooth == 0 or total + smooth == 0:
            return 0.0
        log_precision += math.log((matched + smooth) / (total + smooth)) / max_n
    closest = min((abs(len(r) - len(candidate)), len(r)) for r in references)[1]
    brevity = 1.0 if len(candidate) > closest else math.exp(1 - closest / len(candidate))
    return brevity * math.exp(log_precision)


def self_bleu(texts: Sequence[str], sample: int = 200, seed: int = 0) -> float:
    """Mean BLEU of each text against all the others (lower: more diverse); on a seeded sample."""
    tokens = [t.lower().split() for t in texts]
    if len(tokens) < 2:
        return 0.0
    picked = random.Random(seed).sample(range(len(tokens)), min(sample, len(tokens)))
    return float(np.mean([bleu(tokens[i], tokens[:i] + tokens[i + 1 :]) for i in picked]))


_PUNCTUATION = ".,;:!?\"'()[]{}"


def entities(text: str) -> list[str]:
    """Proper-noun spans: maximal runs of capitalised words ("Nokia", "Dow Jones", "EUR"), leaving out a lone
    capitalised word that opens the text. A stand-in for the paper's spaCy NER, whose models are not on PyPI."""
    words = [word.strip(_PUNCTUATION) for word in text.split()]
    spans: list[str] = []
    run: list[str] = []
    for position, word in enumerate([*words, ""]):
        if word[:1].isupper():
            run.append(word)
            continue
        if run and not (len(run) == 1 and position == 1):
            spans.append(" ".join(run))
        run = []
    return spans


def entity_entropy(texts: Sequence[str]) -> float:
    """Shannon entropy (bits) of the distribution of `entities` over the set (higher: more varied entities)."""
    counts = Counter(span for text in texts for span in entities(text))
    total = sum(counts.values())
    return -sum(c / total * math.log2(c / total) for c in counts.values()) if total else 0.0
