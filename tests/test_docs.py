"""The documentation (README.md and docs/*.md) covers every command and option, so the docs
cannot drift from the CLI."""

from __future__ import annotations

import typer

from forecaster.cli import app
from tests.conftest import ROOT


def documentation() -> str:
    """README.md followed by every page of docs/, in name order."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(page.read_text() for page in pages)


def test_every_command_and_option_is_documented() -> None:
    docs = documentation()
    group = typer.main.get_command(app)
    missing = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        if f"forecaster {name}" not in docs:
            missing.append(f"command {name}")
        for param in command.params:
            for flag in param.opts:
                documented = f"`{flag}" in docs or f" {flag}" in docs
                if flag.startswith("--") and flag != "--help" and not documented:
                    missing.append(f"{name} {flag}")
    assert not missing, f"undocumented in README.md and docs/*.md: {missing}"
