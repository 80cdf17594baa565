"""The Python examples of the README and of the docs' Python API page run, as written."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = (ROOT / "README.md", ROOT / "docs" / "python_api.md")


def examples() -> list[tuple[str, str]]:
    """(where, code) of every ```python block of the README and the Python API page."""
    return [(f"{page.name} example {k + 1}", code) for page in PAGES
            for k, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(),
                                                flags=re.S))]


@pytest.mark.quick
def test_pages_have_examples():
    assert [where.split()[0] for where, _ in examples()].count("README.md") == 1
    assert [where.split()[0] for where, _ in examples()].count("python_api.md") == 2


@pytest.mark.parametrize("index", [pytest.param(0, marks=pytest.mark.quick),
                                   pytest.param(1, marks=pytest.mark.quick),
                                   2])  # 2 compiles the spiking network
def test_example_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from brian2 import prefs

    where, code = examples()[index]
    target = prefs.codegen.target
    try:
        exec(compile(code, where, "exec"), {"__name__": "readme"})
    finally:
        prefs.codegen.target = target
