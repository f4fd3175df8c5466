"""Introspective Tips and its baselines as one graph: study demonstrations (expert setting), then play the
schedule one command per step, learning between episodes; a checkpoint after every step."""

from langgraph.graph import START, StateGraph

from retinue.agents.tips import (
    TipsContext,
    TipsState,
    act,
    after_act,
    after_review,
    before_play,
    review_episode,
    start_episode,
    study_demonstration,
)

Graph = StateGraph[TipsState, TipsContext, TipsState, TipsState]


def build_tips_graph() -> Graph:
    """[study_demonstration]* -> (start_episode -> act* -> review_episode)* ; the method is in the context."""
    graph = StateGraph(TipsState, context_schema=TipsContext)
    graph.add_node("study_demonstration", study_demonstration)
    graph.add_node("start_episode", start_episode)
    graph.add_node("act", act)
    graph.add_node("review_episode", review_episode)
    routes = ["study_demonstration", "act", "start_episode", "__end__"]
    graph.add_conditional_edges(START, before_play, routes)
    graph.add_conditional_edges("study_demonstration", before_play, routes)
    graph.add_edge("start_episode", "act")
    graph.add_conditional_edges("act", after_act, ["act", "review_episode"])
    graph.add_conditional_edges("review_episode", after_review, ["start_episode", "__end__"])
    return graph
