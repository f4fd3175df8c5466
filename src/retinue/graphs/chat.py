"""The chat graph: each turn goes to the session's team, which answers it."""

from langgraph.graph import END, START, StateGraph

from retinue.agents.chat import TEAMS, ChatContext, ChatState, assistant, effiqa, fincon, tips


def route_to_team(state: ChatState) -> str:
    return state.get("team") if state.get("team") in TEAMS else "assistant"  # type: ignore[return-value]


def build_chat_graph() -> StateGraph[ChatState, ChatContext, ChatState, ChatState]:
    graph = StateGraph(ChatState, context_schema=ChatContext)
    graph.add_node("assistant", assistant)
    graph.add_node("effiqa", effiqa)
    graph.add_node("fincon", fincon)
    graph.add_node("tips", tips)
    graph.add_conditional_edges(START, route_to_team, list(TEAMS))
    for team in TEAMS:
        graph.add_edge(team, END)
    return graph
