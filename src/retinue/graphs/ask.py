"""The ask graph: one node that loops over the prompts, a checkpoint after each answer."""

from langgraph.graph import START, StateGraph

from retinue.agents.ask import AskContext, AskState, answer_next, more_prompts


def build_ask_graph() -> StateGraph[AskState, AskContext, AskState, AskState]:
    graph = StateGraph(AskState, context_schema=AskContext)
    graph.add_node("answer_next", answer_next)
    graph.add_edge(START, "answer_next")
    graph.add_conditional_edges("answer_next", more_prompts, ["answer_next", "__end__"])
    return graph
