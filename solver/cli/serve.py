"""`prodbudget serve ROOT`: the planner's workspace in the browser, and its HTTP API.

Binds to the loopback interface (127.0.0.1) unless --host says otherwise; any other host needs
--token, which every request must then carry (header `Authorization: Bearer T`, or `?token=T`
once in the browser). Versions and plans are kept in --workspace (default
ROOT/.prodbudget-workspace).
"""

from __future__ import annotations

import ipaddress
import os
import threading
import webbrowser

from solver.cli.common import COUNT, NON_NEGATIVE_INT, POSITIVE, err_console, number

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def add_arguments(p) -> None:
    p.add_argument("root", metavar="ROOT", help="folder whose instance folders and .xlsx workbooks are served")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1: this computer only; "
                                                        "any other needs --token)")
    p.add_argument("--port", type=number(int, at_least=0, at_most=65535, what="a port 0..65535"), default=8765,
                   help="port (default 8765)")
    p.add_argument("--workspace", metavar="DIR", help="where versions and plans are kept (default ROOT/.prodbudget-workspace)")
    p.add_argument("--token", help="secret every request must carry (required with a --host other than loopback); "
                                   "also read from PRODBUDGET_TOKEN")
    p.add_argument("--no-browser", action="store_true", help="do not open the browser")
    p.add_argument("--workers", type=COUNT, default=2, help="plans and questions solved at once, one process each (default 2)")
    p.add_argument("--queue", type=NON_NEGATIVE_INT, default=16, metavar="N",
                   help="requests that may wait for a worker; more are refused with 429 (default 16)")
    p.add_argument("--max-upload-mb", type=POSITIVE, default=20.0, metavar="MB", help="largest workbook upload (default 20)")
    p.set_defaults(run=run)


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args) -> int:
    import uvicorn

    from solver.web.app import create_app
    from solver.web.workspace import Refused

    token = args.token or os.environ.get("PRODBUDGET_TOKEN") or None
    if not _is_loopback(args.host) and not token:
        err_console.print(f"prodbudget serve: --host {args.host} is reachable from other computers; "
                          "give --token T (every request must then carry it)")
        return 2
    try:
        app = create_app(args.root, args.workspace, token=token, workers=args.workers, max_queued=args.queue,
                         max_upload_mb=args.max_upload_mb)
    except Refused as err:
        err_console.print(f"prodbudget serve: {err}")
        return 2
    shown = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{shown}:{args.port}/" + (f"?token={token}" if token else "")
    err_console.print(f"prodbudget serve: {url} (workspace {app.state.server.ws.folder}); Ctrl-C stops")
    if not args.no_browser:
        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=5)
    return 0
