"""Each graph's shape is snapshotted, so that an architecture change shows in review.

To accept an intended change: RETINUE_UPDATE_SNAPSHOTS=1 pytest tests/unit/graphs
"""

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from langgraph.graph import StateGraph

from retinue.graphs import build_ask_graph, build_backtest_graph, build_fincon_day_graph
from retinue.graphs.chat import build_chat_graph
from retinue.graphs.effiqa import BUILDERS as EFFIQA_BUILDERS
from retinue.graphs.tips import build_tips_graph

SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.mark.parametrize(
    "name, build",
    [
        ("ask", build_ask_graph),
        ("backtest", build_backtest_graph),
        ("fincon_day", build_fincon_day_graph),
        *((f"effiqa_{method}", build) for method, build in EFFIQA_BUILDERS.items()),
        ("chat", build_chat_graph),
        ("tips", build_tips_graph),
    ],
)
def test_graph_shape_matches_snapshot(name: str, build: Callable[[], StateGraph]) -> None:
    mermaid = build().compile().get_graph().draw_mermaid()
    snapshot = SNAPSHOTS / f"{name}.mmd"
    if os.environ.get("RETINUE_UPDATE_SNAPSHOTS"):
        snapshot.write_text(mermaid)
    assert mermaid == snapshot.read_text()
