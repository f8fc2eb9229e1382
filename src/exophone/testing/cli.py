"""``exophone serve --test-mode``: checking the flags, announcing the control API, and
handing test mode to the API process (which builds its settings from ``EXOPHONE_*``)."""

from __future__ import annotations

import os
import secrets
import sys

import click


def start_test_mode(
    host: str, port: int, workers: int, token: str | None, seed: int | None
) -> None:
    """Set ``EXOPHONE_TEST_*`` for the API process and print how to reach the control API."""
    if workers != 1:
        raise click.UsageError(
            "--test-mode keeps its journal, faults and clock in one process: use --workers 1"
        )
    token = token or secrets.token_urlsafe(24)
    if len(token) < 16:
        raise click.BadParameter("must be at least 16 characters", param_hint="--test-token")
    os.environ["EXOPHONE_TEST_MODE"] = "1"
    os.environ["EXOPHONE_TEST_TOKEN"] = token
    if seed is None:
        os.environ.pop("EXOPHONE_TEST_SEED", None)
    else:
        os.environ["EXOPHONE_TEST_SEED"] = str(seed)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
    control = f"http://{shown_host}:{port}/_exophone"
    # Plain prints: test harnesses read these lines back.
    print("exophone test mode (never for production)")
    print(f"  control API: {control}")
    print(f"  test token:  {token}")
    print(f"  seed:        {'random' if seed is None else seed}")
    print("  Try it:")
    print(f'curl -H "Authorization: Bearer {token}" {control}')
    sys.stdout.flush()
