"""The demo account generator: a realistic, deterministic Databricks account (jobs, runs, billing,
clusters) written into the embedded warehouse. `generate` is the library entry point,
`seed_command` the CLI one; `DemoStory` names what the data shows."""

from sandbox.demo_account.account import generate
from sandbox.demo_account.command import seed_command
from sandbox.demo_account.story import DemoStory

__all__ = ["DemoStory", "generate", "seed_command"]
