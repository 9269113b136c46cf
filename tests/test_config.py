import pytest

import graphflow as gf
from graphflow import config
from graphflow.errors import ConfigError


def test_set_as_context_manager_restores():
    assert config.get("num_workers") is None
    with config.set(num_workers=3):
        assert config.get("num_workers") == 3
        with config.set({"num-workers": 4}):
            assert config.get("num_workers") == 4
        assert config.get("num_workers") == 3
    assert config.get("num_workers") is None


def test_dotted_names_by_dict_or_double_underscore():
    with config.set({"optimization.fuse": False}):
        assert config.get("optimization.fuse") is False
    with config.set(optimization__inline=False):
        assert config.get("optimization.inline") is False
    assert config.get("optimization.fuse") is True


def test_bad_values_are_refused_with_context():
    with pytest.raises(ConfigError, match="num_workers"):
        config.set(num_workers=-1)
    with pytest.raises(ConfigError, match="optimization.fuse"):
        config.set({"optimization.fuse": "yes"})


def test_unknown_names_need_a_default():
    assert config.get("not-a-setting", 5) == 5
    with pytest.raises(KeyError, match="known settings"):
        config.get("not-a-setting")


def test_environment_variables():
    try:
        config.refresh({"GRAPHFLOW_SCHEDULER": "sync", "GRAPHFLOW_NUM_WORKERS": "3",
                        "GRAPHFLOW_OPTIMIZATION__FUSE": "false", "OTHER": "x"})
        assert config.get("scheduler") == "sync"
        assert config.get("num_workers") == 3
        assert config.get("optimization.fuse") is False
        with pytest.raises(ConfigError, match="GRAPHFLOW_NUM_WORKERS"):
            config.refresh({"GRAPHFLOW_NUM_WORKERS": "zero"})
    finally:
        config.refresh({})
    assert config.get("scheduler") is None


def test_env_var_reaches_compute(monkeypatch):
    import os
    import subprocess
    import sys

    code = ("import os, graphflow as gf; print(gf.delayed(os.getpid)().compute() == os.getpid(), "
            "gf.config.get('scheduler'))")
    env = dict(os.environ, GRAPHFLOW_SCHEDULER="processes")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "processes"]


def test_gf_config_is_the_module():
    assert gf.config is config
