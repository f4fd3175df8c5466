"""FinCon's day team: analysts fan out with Send (one per source and ticker), then the manager decides."""

from langgraph.graph import START, StateGraph

from retinue.agents.fincon.analysts import analyst, fan_out
from retinue.agents.fincon.manager import manager
from retinue.agents.fincon.state import AnalystTask, FinconContext, FinconDayState


def build_fincon_day_graph() -> StateGraph[FinconDayState, FinconContext, FinconDayState, FinconDayState]:
    graph = StateGraph(FinconDayState, context_schema=FinconContext)
    # The analyst gets a Send task, not the day state; langgraph's overloads do not type this pairing.
    graph.add_node("analyst", analyst, input_schema=AnalystTask)  # type: ignore[call-overload]
    graph.add_node("manager", manager)
    graph.add_conditional_edges(START, fan_out, ["analyst"])
    graph.add_edge("analyst", "manager")
    graph.add_edge("manager", "__end__")
    return graph
