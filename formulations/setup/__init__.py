"""Setup-link variants beside the default big-M rows: (l,S) inequalities and the facility-location reformulation."""
