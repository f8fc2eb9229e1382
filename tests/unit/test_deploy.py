"""The deployment example: nginx accepts deploy/nginx.conf as it stands."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).is_file()), None
)
PRIVILEGED_BIND = re.compile(r"\[emerg\] bind\(\) to \S+:80 failed \(13: Permission denied\)")


def nginx_test(conf: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    """``nginx -t`` of ``conf`` with a fresh prefix holding the logs and temp folders."""
    assert NGINX is not None
    for folder in ("logs", "tmp"):
        (prefix / folder).mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [NGINX, "-t", "-p", f"{prefix}/", "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (apt-get install nginx to run this check)"
)
def test_nginx_accepts_the_example(tmp_path: Path) -> None:
    result = nginx_test(CONF, tmp_path / "prefix")
    output = result.stdout + result.stderr
    assert "syntax is ok" in output, output
    if result.returncode != 0:
        # Only root may bind port 80 on most systems; then check everything
        # else with the same file listening on an unprivileged port.
        assert os.geteuid() != 0 and PRIVILEGED_BIND.search(output), output
        moved = tmp_path / "nginx.conf"
        moved.write_text(CONF.read_text().replace("listen 80;", "listen 18080;"))
        result = nginx_test(moved, tmp_path / "prefix2")
        output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "test is successful" in output


def test_the_example_proxies_to_exophone_with_keepalive() -> None:
    text = CONF.read_text()
    assert "upstream exophone" in text and "proxy_pass http://exophone;" in text
    assert "keepalive" in text and 'proxy_set_header Connection "";' in text
    assert "proxy_http_version 1.1;" in text
    # POSTs are never resent by nginx: clients retry them with an Idempotency-Key.
    assert "non_idempotent" not in text
