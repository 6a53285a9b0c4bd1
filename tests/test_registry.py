"""Name resolution and code identity of plugins."""

from __future__ import annotations

import importlib
import sys

from wmbench import __version__, registry
from wmbench.models.state_model import StateWorldModel
from wmbench_baselines.cem import CEM

PLUGIN = '''
from wmbench.planning import Planner


class Mine(Planner):
    def init(self, problem, generator):
        return None
'''


def test_code_identity_follows_the_plugins_source(tmp_path, monkeypatch):
    (tmp_path / "my_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    first = registry.code_identity(importlib.import_module("my_plugin").Mine)
    assert first["version"] == "" and len(first["source_sha256"]) == 64  # on sys.path, not installed
    (tmp_path / "my_plugin.py").write_text(PLUGIN + "\n# an edit\n")
    registry._source_sha256.cache_clear()
    sys.modules.pop("my_plugin")
    assert registry.code_identity(importlib.import_module("my_plugin").Mine)["source_sha256"] \
        != first["source_sha256"]


def test_installed_plugins_carry_their_version_and_wmbench_its_own():
    assert registry.code_identity(CEM)["version"] == "0.2.0" and registry.code_identity(CEM)["source_sha256"]
    assert registry.code_identity(StateWorldModel) == {"source_sha256": "", "version": __version__}
