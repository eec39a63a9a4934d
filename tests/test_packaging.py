"""setup.cfg declares exactly the third-party packages mltc_keras imports."""

import ast
import configparser
import importlib.metadata
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# declared though never imported, and why
NOT_IMPORTED = {"tensorboard": "the viewer for the logs that train writes through keras' TensorBoard callback",
                "tf2onnx": "the converter keras' model.export(format=\"onnx\") imports (export --format onnx)",
                "httptools": "uvicorn's fast HTTP parser, which it picks up by itself",
                "uvloop": "uvicorn's fast event loop, which it picks up by itself"}
# imported though not declared, and why
BACKEND_ONLY = {"jax": "imported only under KERAS_BACKEND=jax (integrated gradients), which needs it installed"}


def normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(text):
    return {normalized(re.match(r"[A-Za-z0-9_.-]+", line.strip()).group()) for line in text.splitlines() if line.strip()}


def setup_cfg():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return config


def imported_top_level_modules():
    modules = set()
    for path in (ROOT / "mltc_keras").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"mltc_keras"}


def test_install_requires_is_what_the_package_imports():
    distributions = importlib.metadata.packages_distributions()
    imported = {normalized(distributions[module][0]) for module in imported_top_level_modules()}
    config = setup_cfg()
    # the server's modules (mltc_keras/serving, the serve command) import what the serve extra
    # installs, mltc_keras/ray.py what the ray extra does
    extras = config["options.extras_require"]
    declared = (requirement_names(config["options"]["install_requires"]) | requirement_names(extras["serve"])
                | requirement_names(extras["ray"]))
    assert imported - declared - set(BACKEND_ONLY) == set(), "imported but not declared in install_requires or an extra"
    assert declared - imported - set(NOT_IMPORTED) == set(), "declared but never imported"


def test_the_test_extra_has_hypothesis():
    assert "hypothesis" in requirement_names(setup_cfg()["options.extras_require"]["test"])
