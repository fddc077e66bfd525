"""The README is the user's manual: it documents every setting and the two commands."""

from pathlib import Path

from config import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_documented_in_the_readme():
    table = README[README.index("## Settings") :]
    missing = [name.upper() for name in Settings.model_fields if f"| `{name.upper()}` |" not in table]
    assert not missing, f"add these to the README's settings table: {missing}"


def test_the_quick_start_shows_the_two_commands():
    quick = README[README.index("## Quick start") : README.index("## Using the API")]
    assert "make dev" in quick and "make test" in quick
