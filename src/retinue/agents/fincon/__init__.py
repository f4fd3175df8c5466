"""FinCon (Yu et al., NeurIPS 2024): analysts each digest one source; the manager alone decides."""

from retinue.agents.fincon.data_analyst import PriceReport, analyse_prices
from retinue.agents.fincon.method import FinconMethod, risk_alert
from retinue.agents.fincon.state import FinconContext, ManagerDecision, SourceReading

__all__ = [
    "FinconContext",
    "FinconMethod",
    "ManagerDecision",
    "PriceReport",
    "SourceReading",
    "analyse_prices",
    "risk_alert",
]
