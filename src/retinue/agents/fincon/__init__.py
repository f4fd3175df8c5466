"""FinCon (Yu et al., NeurIPS 2024): analysts each digest one source; the manager alone decides."""

from retinue.agents.fincon.analysts import KeyPoint, Reading, read_source
from retinue.agents.fincon.data_analyst import PriceReport, analyse_prices
from retinue.agents.fincon.manager import ManagerCase, ManagerDecision, ManagerReasons, decide_position
from retinue.agents.fincon.method import FinconMethod, risk_alert
from retinue.agents.fincon.state import ACTIONS, SIGNALS, FinconContext

__all__ = [
    "ACTIONS",
    "SIGNALS",
    "FinconContext",
    "FinconMethod",
    "KeyPoint",
    "ManagerCase",
    "ManagerDecision",
    "ManagerReasons",
    "PriceReport",
    "Reading",
    "analyse_prices",
    "decide_position",
    "read_source",
    "risk_alert",
]
