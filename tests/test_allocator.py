import os
import subprocess
import sys

import pytest

CODE = "from mltc_keras.allocator import keep_freed_memory; print(keep_freed_memory())"


def run(env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    return subprocess.run([sys.executable, "-c", CODE], env={**clean, **env}, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux-only")
def test_glibc_takes_the_settings():
    result = run({})
    assert result.returncode == 0 and result.stdout.strip() == "True", result.stderr


@pytest.mark.parametrize("variable", ["MALLOC_TOP_PAD_", "MALLOC_MMAP_THRESHOLD_"])
def test_a_users_own_malloc_settings_win(variable):
    result = run({variable: "131072"})
    assert result.returncode == 0 and result.stdout.strip() == "False", result.stderr
