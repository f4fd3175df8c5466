"""Introspective Tips (Chen et al., 2023): TextWorld agents that learn short tips without fine-tuning."""

from retinue.agents.tips.actor import act, after_act, start_episode
from retinue.agents.tips.episodes import plan_episodes
from retinue.agents.tips.introspector import after_review, before_play, review_episode, study_demonstration
from retinue.agents.tips.state import (
    METHODS,
    SETTINGS,
    EpisodeResult,
    TipsContext,
    TipsSettings,
    TipsState,
)

__all__ = [
    "METHODS",
    "SETTINGS",
    "EpisodeResult",
    "TipsContext",
    "TipsSettings",
    "TipsState",
    "act",
    "after_act",
    "after_review",
    "before_play",
    "plan_episodes",
    "review_episode",
    "start_episode",
    "study_demonstration",
]
