"""The live dashboard: a tornado app (`app`) served by the scheduler process on a thread of its own (`server`).

The page (``static/``) draws with the Chart.js shipped in ``static/vendor/`` (no CDN: it works offline)
and reads the JSON API under ``/api/v1/``; `graphflow.diagnostics.report` reuses its chart code.
"""

from .server import DEFAULT_ADDRESS, DashboardServer, parse_address, start_for_scheduler

__all__ = ["DEFAULT_ADDRESS", "DashboardServer", "parse_address", "start_for_scheduler"]
