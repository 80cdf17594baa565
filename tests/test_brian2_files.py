"""Brian2's own files stay out of the temporary folder, whatever way a process ends."""

import os
import signal
import subprocess
import sys

import pytest

ENDINGS = {
    "clean": "pass",
    "traceback": "raise ValueError('boom')",
    "killed": "os.kill(os.getpid(), signal.SIGKILL)",
}


@pytest.mark.parametrize("first, ending", [("stdpsim", "clean"), ("stdpsim", "killed"),
                                           ("brian2", "traceback"), ("brian2", "killed")])
def test_no_brian2_file_is_left_in_the_temporary_folder(tmp_path, ending, first):
    """Brian2 imported before or after stdpsim; the compiler-output files go to the cache,
    and a later process clears those of one that was killed."""
    tmp, cache = tmp_path / "tmp", tmp_path / "cache"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp), STDPSIM_CACHE=str(cache))
    second = "brian2" if first == "stdpsim" else "stdpsim"
    code = (f"import os, signal\nimport {first}\nimport {second}\n"
            "from brian2.utils.logger import std_silent\n"
            "with std_silent():\n    print('compiler chatter')\n" + ENDINGS[ending])
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True)
    assert run.returncode == {"clean": 0, "traceback": 1, "killed": -signal.SIGKILL}[ending]
    assert "compiler chatter" not in run.stdout
    assert sorted(os.listdir(tmp)) == []
    left = list((cache / "brian_output").iterdir())
    assert len(left) == (1 if ending == "killed" else 0)
    subprocess.run([sys.executable, "-c", "import stdpsim, brian2"], env=env, check=True)
    assert list((cache / "brian_output").iterdir()) == []
