"""FinCon's news-analyst and manager examples.

News analyst: Financial PhraseBank sentences from the train part of the seeded split
every sentiment command shares (the probe's analyst cases read the test part), labelled by their
annotators.

An example is the analyst's signal choice as `read_source` poses it: its memory holds one to
`MEMORIES` sentences of one label, and its key point (which the model writes first at run time) is the
first of them, the fact that matters most when all agree. The labels are balanced: as many positive as
negative as neutral examples, each sentence used at most once.

Manager: its decision on days of FinCon's training window (2022-01-03..2022-10-04) for every priced ticker
but AAPL and MSFT (whose training-window days the manager probe asks), labelled by what a position earned
from that close to the next (`manager_examples` says which days are kept). Nothing after the window's
last day is read: the last labelled day is the one before it.
"""

import math
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from retinue.agent_data.examples import Example
from retinue.agents.fincon.analysts import MEMORY_CHARS, nothing_read, signal_prompt
from retinue.agents.fincon.data_analyst import analyse_prices
from retinue.agents.fincon.manager import ManagerCase, decision_prompt, report_lines
from retinue.agents.fincon.state import ACTIONS, SIGNALS
from retinue.datasets.market_text import TextArchive
from retinue.datasets.prices import load_prices
from retinue.datasets.sentiment import financial_phrasebank, phrasebank_split
from retinue.envs.market import MarketEnv

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


# The manager -----------------------------------------------------------------------------------------
MANAGER = "manager"
MANAGER_TICKERS = ("AMZN", "COIN", "GM", "GOOG", "LLY", "NFLX", "NIO", "PFE", "TSLA")
HOLD_BAND = 0.005  # a next-day log return within this either way earned about nothing: HOLD earned it
HEADLINES = 3  # the newest headlines of the week the news analyst reads, as its memory
POSITIONS = ("flat", "long", "short")
CONSENSUS = {"positive": "BUY", "negative": "SELL"}
ABSENT = ("earnings_call", "filings")  # sources reported as nothing read

NewsReader = Callable[[str, str, str], tuple[str, str]]  # (ticker, day, memories) -> (key point, signal)
ReasonWriter = Callable[[ManagerCase], str]


@dataclass(frozen=True)
class ManagerDay:
    """One ticker on one training-window day: the reports the manager would get, what the evidence points
    to, and what a position earned from that close to the next."""

    case: ManagerCase
    consensus: str  # BUY | SELL (the reports that give a signal agree) | HOLD (they disagree, or none does)
    earned: str  # BUY | SELL | HOLD: the position the next day's return rewarded (HOLD within the band)
    log_return: float
    next_day: date


def _consensus(signals: Sequence[str]) -> str:
    sides = {CONSENSUS[s] for s in signals if s in CONSENSUS}
    return sides.pop() if len(sides) == 1 else "HOLD"


def _earned(log_return: float) -> str:
    return "BUY" if log_return > HOLD_BAND else "SELL" if log_return < -HOLD_BAND else "HOLD"


def manager_days(
    root: Path, read_news: NewsReader, *, seed: int = 0, progress: Callable[[int, int], None] | None = None
) -> Iterator[ManagerDay]:
    """Every day of FinCon's training window but its last, for each of `MANAGER_TICKERS`, with the reports
    the team would give that day: the data analyst's real figures, and the news analyst's reading
    (`read_news`) of the week's newest headlines, or its "no news" report where there are none. Half the
    days (drawn by `seed`) also carry the run's empty filings and earnings-call reports, as a run shows
    them for a ticker with neither; every day's current position is drawn too."""
    prices = load_prices(root, list(MANAGER_TICKERS))
    archive = TextArchive.load(root, list(MANAGER_TICKERS))
    draw = random.Random(seed)
    envs = {ticker: MarketEnv({ticker: prices[ticker]}, *TRAIN_WINDOW) for ticker in MANAGER_TICKERS}
    total, done = sum(env.trading_days - 1 for env in envs.values()), 0
    for ticker, env in envs.items():
        for index in range(env.trading_days - 1):
            done += 1
            if progress:
                progress(done, total)
            view, following = env.view(index), env.view(index + 1)
            day = view.day.isoformat()
            report = analyse_prices(view, ticker)
            data_signal = report.signal
            week = [i for i in archive.visible(ticker, view.day, ("news",)) if (view.day - i.day).days <= NEWS_DAYS]
            if week:
                memories = "\n".join(f"- {i.text[:MEMORY_CHARS]}" for i in week[-HEADLINES:])
                key_point, news_signal = read_news(ticker, day, memories)
            else:
                key_point, news_signal = nothing_read("news", ticker, day), "none"
            lines = {"data": (data_signal, report.summary()), "news": (news_signal, key_point)}
            if draw.random() < 0.5:
                lines |= {role: ("none", nothing_read(role, ticker, day)) for role in ABSENT}
            reports = report_lines((role, signal, text) for role, (signal, text) in lines.items())
            case = ManagerCase(ticker=ticker, day=day, position=draw.choice(POSITIONS), reports=reports)
            earned = math.log(following.close(ticker) / view.close(ticker))
            yield ManagerDay(case, _consensus([data_signal, news_signal]), _earned(earned), earned, following.day)


def manager_examples(
    days: Iterable[ManagerDay],
    reasons: ReasonWriter,
    *,
    per_label: int,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[Example]:
    """The manager's decision on the days whose evidence pointed to the position that earned: the label is
    what the next day rewarded, and a day is kept only where its reports' consensus agreed (a one-day
    return against the evidence is noise a model cannot learn a rule from; STaR keeps its rationales the
    same way, by the answer they reached). At most `per_label` days of each decision, drawn by `seed`.
    `reasons` writes what the manager writes before it decides, as at run time."""
    kept: dict[str, list[ManagerDay]] = {action: [] for action in ACTIONS}
    for found in days:
        if found.consensus == found.earned:
            kept[found.earned].append(found)
    draw = random.Random(seed)
    chosen = [d for action in ACTIONS for d in draw.sample(kept[action], min(per_label, len(kept[action])))]
    draw.shuffle(chosen)
    for done, found in enumerate(chosen, 1):
        provenance = {
            "kind": "outcome",
            "window": "train",
            "ticker": found.case.ticker,
            "day": found.case.day,
            "next_day": found.next_day.isoformat(),
            "log_return": round(found.log_return, 6),
            "consensus": found.consensus,
            "group": f"{found.case.ticker}-{found.case.day}",
        }
        prompt = decision_prompt(found.case, reasons(found.case))
        yield Example.of_choice(MANAGER, prompt, found.earned, provenance, seed)
        if progress:
            progress(done, len(chosen))
