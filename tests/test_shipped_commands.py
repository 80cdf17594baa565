"""Every documented training command reproduces what ships: the commands in models/README.md
(and the README's rate command), parsed by the command line as a user would type them, give
exactly the settings recorded in the shipped models' cards."""

import dataclasses
import json
import re
import shlex
from pathlib import Path

import pytest

from stdpsim import cli, spiking
from stdpsim.tasks import training

pytestmark = pytest.mark.quick
ROOT = Path(__file__).resolve().parents[1]


def documented(page: Path, kind: str) -> list[list[str]]:
    """The ``stdpsim train KIND ...`` commands in backticks or bash blocks of ``page``, as
    argument lists (environment assignments dropped, line breaks joined)."""
    text = page.read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    inline = re.sub(r"```.*?```", "", text, flags=re.S)
    spans = re.findall(r"`([^`]*stdpsim train %s[^`]*)`" % kind, inline)
    spans += [line for block in blocks for line in block.splitlines()
              if f"stdpsim train {kind}" in line]
    commands = []
    for span in spans:
        words = shlex.split(" ".join(span.split()))
        commands.append(words[words.index("stdpsim") + 1:])
    return commands


def parsed_task(monkeypatch, args: list[str]):
    """The task the command line builds for ``args`` (nothing is trained)."""
    seen = {}
    for name in ("train_rate", "train_spiking"):
        monkeypatch.setattr(training, name, lambda task, log=None: seen.update(task=task))
    assert cli.main(args) == 0
    return seen["task"]


def card(name: str) -> dict:
    return json.loads((ROOT / "models" / f"{name}.json").read_text())


def test_the_rate_commands_give_the_shipped_rate_models_settings(monkeypatch):
    commands = documented(ROOT / "models" / "README.md", "rate")[:1]  # the shipped one's
    commands += documented(ROOT / "README.md", "rate")
    commands += [c for c in documented(ROOT / "docs" / "cli.md", "rate") if "--out" in c]
    assert len(commands) == 3
    shipped = card("rate_mnist")["config"]
    for args in commands:
        got = dataclasses.asdict(parsed_task(monkeypatch, args).config())
        got["sizes"] = list(got["sizes"])
        assert {k: got[k] for k in shipped} == shipped, " ".join(args)


def test_the_spiking_command_gives_the_shipped_spiking_models_settings(monkeypatch):
    (args,) = [a for a in documented(ROOT / "models" / "README.md", "spiking")
               if "--optimizer" in a]  # the shipped model's (first design)
    cfg, params, learning = parsed_task(monkeypatch, args).settings()
    shipped = card("spiking_mnist")["settings"]
    assert cfg.online and cfg.optimizer == "sgd" and cfg.loss == "delta" and not learning.corrupted
    train = shipped["train"]
    assert (cfg.epochs, cfg.chunk, cfg.seed, cfg.valid_every, cfg.valid_samples,
            cfg.eps_final) == (train["epochs"], train["chunk"], train["seed"],
                               train["valid_every"], train["valid_samples"], train["lr_final"])
    network = spiking.parameters_summary(params)
    renamed = {"h1_max": "h_max"}  # the card's older name
    assert {k: network[renamed.get(k, k)] for k in shipped["network"]} == shipped["network"]
    assert (learning.eps_encoders, learning.eps_decoders) == (
        shipped["learning"]["lr_encoders"], shipped["learning"]["lr_decoders"])
    from brian2 import ms

    assert float(learning.t_recon / ms) == shipped["learning"]["t_recon_ms"]
