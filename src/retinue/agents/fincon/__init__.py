"""FinCon (Yu et al., NeurIPS 2024): analysts each digest one source; the manager alone decides."""

from retinue.agents.fincon.data_analyst import PriceReport, analyse_prices

__all__ = ["PriceReport", "analyse_prices"]
