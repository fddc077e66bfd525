"""A command prints one of our configured secrets (a `cat` of a config file, a debug echo): the result
shows `[redacted]` in its place, on stdout and stderr, even where the output is cut at the limit."""

from __future__ import annotations

from pydantic import SecretStr

from activities.ssh import SshActivities
from intents.ssh import SshExecInput

SECRET = "sk-configured-llm-key-1d4e"


async def test_a_secret_printed_by_a_command_is_redacted_in_its_output(ssh_settings, inventory, env):
    ssh = SshActivities(ssh_settings.model_copy(update={"llm_api_key": SecretStr(SECRET)}), inventory)
    result = await env.run(
        ssh.exec, SshExecInput(host="web-1", command=f"echo key={SECRET}; echo 'Bearer {SECRET}' >&2")
    )
    assert (result.stdout, result.stderr) == ("key=[redacted]\n", "Bearer [redacted]\n")


async def test_a_secret_straddling_the_output_limit_is_not_half_shown(ssh_settings, inventory, env):
    ssh = SshActivities(ssh_settings.model_copy(update={"llm_api_key": SecretStr(SECRET)}), inventory)
    limit = ssh_settings.ssh_max_output_chars
    result = await env.run(
        ssh.exec, SshExecInput(host="web-1", command=f"head -c {limit - 5} /dev/zero | tr '\\0' x; echo {SECRET}")
    )
    assert result.truncated and result.stdout.startswith("x" * (limit - 5) + "[reda")
    assert SECRET[:5] not in result.stdout
