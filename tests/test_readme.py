"""The README's commands and the Python examples of the README and of the docs' Python API
page run, as written."""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
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


def shell_lines(page: Path = ROOT / "README.md") -> list[str]:
    """Every command line of the ```bash blocks of ``page``, in order."""
    blocks = re.findall(r"```bash\n(.*?)```", page.read_text(), flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


@pytest.mark.slow
def test_the_readme_install_command_leaves_a_shell_that_runs_the_examples(tmp_path):
    """The README's first command, verbatim, in a fresh non-interactive bash whose PATH has
    no venv on it, in a copy of the project; then, in the same shell, one of the examples as
    written (bare ``stdpsim``).  The dependencies come from this environment (a ``.pth``
    file in the venv the command re-uses) so that no download is needed; the venv, the
    editable install and the commands are the README's own."""
    lines = shell_lines()
    install = lines[0]
    assert install.startswith("python3 -m venv .venv") and "stdpsim stdp-curve" in install
    example = next(line for line in lines if line.startswith("stdpsim generate rate"))
    src = tmp_path / "stdpsim"
    src.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md", "LICENSE", "stdpsim", "models"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(
            ROOT / name, src / name, **({"ignore": shutil.ignore_patterns(
                "__pycache__", "*.ckpt.npz")} if (ROOT / name).is_dir() else {}))
    venv_bin = str(Path(sys.prefix) / "bin")
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != venv_bin)
    env = {"PATH": path, "HOME": os.environ["HOME"], "PIP_NO_BUILD_ISOLATION": "0",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "LANG": "C.UTF-8"}
    for name in ("STDPSIM_CACHE", "XDG_CACHE_HOME", "TMPDIR"):
        if name in os.environ:
            env[name] = os.environ[name]
    subprocess.run(["python3", "-m", "venv", ".venv"], cwd=src, env=env, check=True)
    purelib = subprocess.run([".venv/bin/python", "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])"], cwd=src, env=env,
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run = subprocess.run(["bash", "--noprofile", "--norc", "-c",
                          f"set -e\n{install}\n{example}\ncommand -v stdpsim"],
                         cwd=src, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == str(src / ".venv" / "bin" / "stdpsim")
    (curve,) = (src / "runs").glob("stdp-curve-*/fig1_stdp_curve.png")
    assert list((src / "runs").glob("generate-*/*.png")), run.stdout[-2000:]


@pytest.mark.quick
def test_the_reliability_table_names_tests_that_exist():
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Reliability"):text.index("## Layout")]
    named = re.findall(r"`(test_\w+\.py)(?:::(\w+))?`", section)
    assert len(named) >= 10
    for module, function in named:
        source = (ROOT / "tests" / module).read_text()
        assert not function or f"def {function}(" in source, f"{module}::{function}"
