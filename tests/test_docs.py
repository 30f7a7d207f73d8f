"""The README documents every command and option, so the docs cannot drift from the CLI."""

from __future__ import annotations

import typer

from forecaster.cli import app
from tests.conftest import ROOT


def test_every_command_and_option_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    group = typer.main.get_command(app)
    missing = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        if f"forecaster {name}" not in readme:
            missing.append(f"command {name}")
        for param in command.params:
            for flag in param.opts:
                documented = f"`{flag}" in readme or f" {flag}" in readme
                if flag.startswith("--") and flag != "--help" and not documented:
                    missing.append(f"{name} {flag}")
    assert not missing, f"undocumented in README.md: {missing}"
