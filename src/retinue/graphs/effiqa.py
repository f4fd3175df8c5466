"""EffiQA and its baselines as graphs: one question at a time, a checkpoint after every agent step."""

from langgraph.graph import START, StateGraph

from retinue.agents.effiqa import (
    EffiQAContext,
    EffiQAState,
    after_link,
    after_reflect,
    answer_alone,
    answer_with_plugin,
    explore,
    link_question,
    next_question,
    plan,
    reflect,
    think_on_graph,
)

Graph = StateGraph[EffiQAState, EffiQAContext, EffiQAState, EffiQAState]


def _questions_graph() -> Graph:
    graph = StateGraph(EffiQAState, context_schema=EffiQAContext)
    graph.add_node("link_question", link_question)
    graph.add_edge(START, "link_question")
    return graph


def build_effiqa_graph() -> Graph:
    """Plan (LLM) -> explore (plug-in model) -> reflect (LLM) -> accept, or plan again."""
    graph = _questions_graph()
    graph.add_node("plan", plan)
    graph.add_node("explore", explore)
    graph.add_node("reflect", reflect)
    graph.add_conditional_edges("link_question", after_link("plan"), ["plan", "link_question", "__end__"])
    graph.add_edge("plan", "explore")
    graph.add_edge("explore", "reflect")
    graph.add_conditional_edges("reflect", after_reflect, ["plan", "link_question", "__end__"])
    return graph


def _one_node_graph(name: str, node: object) -> Graph:
    graph = _questions_graph()
    graph.add_node(name, node)  # type: ignore[call-overload]
    graph.add_conditional_edges("link_question", after_link(name), [name, "link_question", "__end__"])
    graph.add_conditional_edges(name, next_question, ["link_question", "__end__"])
    return graph


def build_tog_graph() -> Graph:
    """ToG: the LLM prunes relations and entities at every hop and judges when to stop."""
    return _one_node_graph("think_on_graph", think_on_graph)


def build_io_graph() -> Graph:
    """IO: the LLM answers alone."""
    return _one_node_graph("answer_alone", answer_alone)


def build_plugin_graph() -> Graph:
    """Plug-in only: the trained explorer answers, no LLM."""
    return _one_node_graph("answer_with_plugin", answer_with_plugin)


BUILDERS = {"effiqa": build_effiqa_graph, "tog": build_tog_graph, "io": build_io_graph, "plugin": build_plugin_graph}
