"""`rag ui`: serve the chat in the browser.

rag/cli.py registers it with `add_ui_command(sub)` and dispatches "ui" to `run_ui`.

>>> import argparse
>>> parser = argparse.ArgumentParser(prog="rag")
>>> _ = add_ui_command(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["ui", "--port", "8000", "--auth", "me:s3cret:x"])
>>> args.host, args.port, parse_auth(args.auth)
('127.0.0.1', 8000, ('me', 's3cret:x'))
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import sys

from rag.config import Config
from rag.errors import ConfigError

AUTH_ENV = "RAG_UI_AUTH"  # USER:PASS, for keeping the password out of the process list


def add_ui_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `ui` subcommand to the `rag` parser's subparsers."""
    p = subparsers.add_parser(
        "ui", help="chat with the articles in the browser (Gradio)",
        description="Serve a web page to ask questions with cited answers, upload and remove articles, and "
                    "choose the backend. Binds 127.0.0.1 (this machine only) unless --host says otherwise; "
                    f"--auth USER:PASS (or ${AUTH_ENV}) asks for a login.")
    p.add_argument("--index", metavar="DIR", help="index folder (default: the bundled sample articles' index; "
                                                   "a new folder starts empty)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 = every "
                                                      "network interface: use --auth then)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--auth", metavar="USER:PASS", help=f"require this login (default: ${AUTH_ENV}, else none)")
    p.add_argument("--llm", choices=["local", "api", "extractive"], help="default answering backend "
                                                                           "(default: config llm)")
    p.add_argument("--concurrency", type=int, default=4, help="questions answered at once (default 4)")
    return p


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """'USER:PASS' -> (user, password); the password may contain ':'.

    >>> parse_auth("alice") is None
    Traceback (most recent call last):
    ...
    rag.errors.ConfigError: --auth expects USER:PASS with both parts non-empty
    """
    if value is None:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ConfigError("--auth expects USER:PASS with both parts non-empty")
    return user, password


def run_ui(args: argparse.Namespace, config: Config) -> int:
    """Start the server and block until Ctrl-C; returns the exit code."""
    if not 0 < args.port < 65536:
        raise ConfigError(f"--port must be between 1 and 65535, got {args.port}")
    if args.concurrency < 1:
        raise ConfigError(f"--concurrency must be at least 1, got {args.concurrency}")
    auth = parse_auth(args.auth or os.environ.get(AUTH_ENV) or None)
    _check_port_free(args.host, args.port)
    if args.llm:
        config = config.with_overrides(llm=args.llm)
    if auth is None and not _is_loopback(args.host):
        print(f"rag ui: warning: serving on {args.host} without --auth: anyone who can reach this machine "
              "can read and change the index", file=sys.stderr)
    from ui.app import launch  # gradio is imported only when the UI is started

    print(f"rag ui: http://{args.host}:{args.port} (Ctrl-C stops)", file=sys.stderr)
    launch(config, index=args.index, host=args.host, port=args.port, auth=auth, concurrency=args.concurrency,
           quiet=True)
    return 0


def _check_port_free(host: str, port: int) -> None:
    """Fail in one line before loading anything when the address cannot be bound."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.bind((host, port))
    except OSError as exc:
        raise ConfigError(f"cannot serve on {host}:{port} ({exc.strerror or exc}); choose another --port "
                          "or --host") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
