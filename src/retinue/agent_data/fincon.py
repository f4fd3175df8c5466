"""FinCon's news-analyst examples: Financial PhraseBank sentences from the train part of the seeded split
every sentiment command shares (the probe's analyst cases read the test part), labelled by their
annotators.

An example is the analyst's signal choice as `read_source` poses it: its memory holds one to
`MEMORIES` sentences of one label, and its key point (which the model writes first at run time) is the
first of them, the fact that matters most when all agree. The labels are balanced: as many positive as
negative as neutral examples, each sentence used at most once.
"""

import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from retinue.agent_data.examples import Example
from retinue.agents.fincon.analysts import signal_prompt
from retinue.agents.fincon.state import SIGNALS
from retinue.datasets.sentiment import financial_phrasebank, phrasebank_split

ROLE = "news_analyst"  # the role name `read_source` asks with for the news analyst
MEMORIES = 3  # sentences an example's memory holds, at most
TRAIN_WINDOW = (date(2022, 1, 3), date(2022, 10, 4))  # an example is dated in FinCon's training window
NO_BELIEF = "none yet"
COVERED = ("the company", "AAPL", "AMZN", "GOOG", "MSFT", "NFLX", "TSLA")  # whom an example's analyst covers
NEWS_DAYS = 5  # a memory is dated up to this many days before the example's day, as run time's news


def analyst_examples(root: Path, count: int, *, seed: int = 0) -> Iterator[Example]:
    """`count` examples a label (fewer where the train part runs out), from PhraseBank's train part."""
    train, _ = phrasebank_split(financial_phrasebank(root), seed=0)
    draw = random.Random(seed)
    by_label = {label: [text for text, found in train if found == label] for label in SIGNALS}
    for sentences in by_label.values():
        draw.shuffle(sentences)
    span = (TRAIN_WINDOW[1] - TRAIN_WINDOW[0]).days
    for number in range(count):
        for label in SIGNALS:
            pool = by_label[label]
            size = draw.randint(1, MEMORIES)
            if len(pool) < size:
                continue
            picked = [pool.pop() for _ in range(size)]
            day = TRAIN_WINDOW[0] + timedelta(days=draw.randrange(span + 1))
            memories = "\n".join(
                f"- [news {(day - timedelta(days=draw.randrange(NEWS_DAYS))).isoformat()}] {text}" for text in picked
            )
            ticker = draw.choice(COVERED)
            prompt = signal_prompt("news", ticker, day.isoformat(), memories, NO_BELIEF, picked[0])
            provenance = {
                "kind": "phrasebank",
                "split": "train",
                "split_seed": 0,
                "group": f"phrasebank-{number}-{label}",
                "sentences": picked,
            }
            yield Example.of_choice(ROLE, prompt, label, provenance, seed)
