"""bench.profile's summary of py-spy's raw output (the profiling itself needs ptrace)."""

from __future__ import annotations

from bench.profile import frame_name, summarize

RAW = """\
run (uvicorn/server.py:60);send (uvicorn/protocols/http/httptools_impl.py:500) 6
run (uvicorn/server.py:60);__call__ (falcon/app.py:300);_owned (exophone/store/repository.py:99) 3
<idle> 1
"""


def test_frame_name_keeps_the_function_and_the_file() -> None:
    assert frame_name("send (uvicorn/protocols/http/httptools_impl.py:500)") == (
        "send httptools_impl.py"
    )


def test_samples_are_shared_by_own_frame_and_by_package() -> None:
    lines = summarize(RAW, top=2)
    assert lines[0] == "  10 samples"
    assert "  in uvicorn     90.0%" in lines
    assert "  in exophone    30.0%" in lines and "  in falcon      30.0%" in lines
    own = ["  own  60.0%  send httptools_impl.py", "  own  30.0%  _owned repository.py"]
    assert lines[-2:] == own
    assert summarize("", top=3) == ["  no samples"]
