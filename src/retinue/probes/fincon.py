"""Probe cases for FinCon's manager and text analysts, from the data root's real prices and text.

Manager: on a day of FinCon's training window (2022-01-03..2022-10-04) when a ticker's 20-day trend was
down and a news summary about it that week was labelled Negative, the data and news analysts report as
FinCon's would (the data analyst's real figures for that day, the summary as the news analyst's key
point): unanimous bearish reports, whose right answer is SELL. Its twin is a day of the same ticker with
an up trend and a Positive summary: BUY. Both at the same current position.

Analyst: the news analyst reads two Financial PhraseBank sentences on which every annotator agreed, both
positive (right: positive) or both negative (right: negative); its twin reads two of the other polarity.
The sentences come from the test part of the seeded split the sentiment student trains beside.
"""

import random
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from retinue.agents.fincon.analysts import read_source
from retinue.agents.fincon.data_analyst import analyse_prices
from retinue.agents.fincon.manager import ManagerCase, decide_position, report_lines
from retinue.agents.fincon.state import ACTIONS, SIGNALS
from retinue.datasets.market_text import labelled_news
from retinue.datasets.prices import load_prices
from retinue.datasets.sentiment import financial_phrasebank, phrasebank_all_agree, phrasebank_split
from retinue.envs.market import MarketEnv
from retinue.errors import RetinueError
from retinue.llms.choice import Choice
from retinue.probes.core import ProbeCase, ProbePair
from retinue.runs.context import RunContext

WINDOW = (date(2022, 1, 3), date(2022, 10, 4))  # FinCon's training window
TICKERS = ("AAPL", "MSFT")  # the tickers whose news carries human-readable sentiment labels
POSITIONS = ("flat", "long", "short")
NEWS_DAYS = 5  # a summary dated within this many days before a case's day counts as that week's news
SUMMARY_CHARS = 220
MEMORIES = 2  # sentences an analyst case reads (65 agreed negative sentences are held out)
PROBE_DAY = "2022-06-01"  # the day an analyst case is dated (the sentences carry no date)


def _manager_case(name: str, case: ManagerCase, right: str) -> ProbeCase:
    def ask(ctx: RunContext, order: Sequence[str]) -> Choice:
        return decide_position(ctx, case, order=order).choice

    return ProbeCase(name, ACTIONS, frozenset([right]), ask, evidence=case.reports)


def manager_pairs(root: Path, count: int, seed: int = 0) -> list[ProbePair]:
    """`count` manager pairs: unanimous bearish reports (SELL) and their bullish twin (BUY)."""
    prices = load_prices(root, list(TICKERS))
    env = MarketEnv(prices, *WINDOW)
    news = labelled_news(root, set(TICKERS), WINDOW[0], WINDOW[1])
    by_trend: dict[tuple[str, str], list[ManagerCase]] = {}
    for index in range(env.trading_days):
        view = env.view(index)
        for ticker in TICKERS:
            report = analyse_prices(view, ticker)
            if report.trend == "flat":
                continue
            signal = report.signal  # positive or negative: flat days are skipped
            week = [
                item
                for item, label in news
                if item.ticker == ticker and label == signal and 0 <= (view.day - item.day).days <= NEWS_DAYS
            ]
            if not week:
                continue
            reports = report_lines(
                [("data", signal, report.summary()), ("news", signal, week[-1].text[:SUMMARY_CHARS])]
            )
            case = ManagerCase(ticker=ticker, day=view.day.isoformat(), position="flat", reports=reports)
            by_trend.setdefault((ticker, report.trend), []).append(case)
    draw = random.Random(seed)
    pairs: list[ProbePair] = []
    for number in range(count):
        ticker = TICKERS[number % len(TICKERS)]
        down, up = by_trend.get((ticker, "down"), []), by_trend.get((ticker, "up"), [])
        if not down or not up:
            raise RetinueError(f"no bearish and bullish days of {ticker} with labelled news in {WINDOW}")
        position = POSITIONS[number % len(POSITIONS)]
        bear, bull = (ManagerCase(**{**vars(draw.choice(cases)), "position": position}) for cases in (down, up))
        pairs.append(
            ProbePair(
                _manager_case(f"manager-{number}-bearish-{bear.ticker}-{bear.day}", bear, "SELL"),
                _manager_case(f"manager-{number}-bullish-{bull.ticker}-{bull.day}", bull, "BUY"),
            )
        )
    return pairs


def _analyst_case(name: str, sentences: list[str], right: str) -> ProbeCase:
    memories = "\n".join(f"- [news] {text}" for text in sentences)

    def ask(ctx: RunContext, order: Sequence[str]) -> Choice:
        return read_source(ctx, "news", "the company", PROBE_DAY, memories, "none yet", order=order).choice

    return ProbeCase(name, SIGNALS, frozenset([right]), ask, evidence=memories)


def analyst_pairs(root: Path, count: int, seed: int = 0) -> list[ProbePair]:
    """`count` news-analyst pairs: agreed-positive sentences and agreed-negative ones."""
    _, test = phrasebank_split(financial_phrasebank(root), seed=0)  # the student's held-out part
    held_out = {text for text, _ in test}
    agreed = [(text, label) for text, label in phrasebank_all_agree(root) if text in held_out]
    positive = [text for text, label in agreed if label == "positive"]
    negative = [text for text, label in agreed if label == "negative"]
    if min(len(positive), len(negative)) < MEMORIES * count:
        raise RetinueError(f"too few agreed PhraseBank sentences for {count} analyst pairs")
    draw = random.Random(seed)
    draw.shuffle(positive)
    draw.shuffle(negative)
    pairs = []
    for number in range(count):
        good = positive[number * MEMORIES : (number + 1) * MEMORIES]
        bad = negative[number * MEMORIES : (number + 1) * MEMORIES]
        first, second = (
            (("positive", good), ("negative", bad)) if number % 2 == 0 else (("negative", bad), ("positive", good))
        )
        pairs.append(
            ProbePair(
                _analyst_case(f"analyst-{number}-{first[0]}", first[1], first[0]),
                _analyst_case(f"analyst-{number}-{second[0]}", second[1], second[0]),
            )
        )
    return pairs
