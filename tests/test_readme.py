"""The README's Python API examples run, as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def api_examples() -> list[str]:
    """The ```python blocks of the README's "Python API" section."""
    text = README.read_text()
    section = text.split("## Python API", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_readme_has_api_examples():
    assert len(api_examples()) == 2


@pytest.mark.parametrize("index", [0, 1])
def test_readme_api_example_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from brian2 import prefs

    target = prefs.codegen.target
    try:
        exec(compile(api_examples()[index], f"README.md API example {index + 1}", "exec"),
             {"__name__": "readme"})
    finally:
        prefs.codegen.target = target
