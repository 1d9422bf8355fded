import pytest

from rag.config import Config
from rag.errors import ConfigError


def test_precedence_defaults_file_env_args(tmp_path, monkeypatch):
    cfg_file = tmp_path / "config.toml"
    cfg_file.write_text('top_k = 7\nrrf_k = 30\nembedder = "from-file"\n')
    monkeypatch.setenv("RAG_RRF_K", "20")
    cfg = Config.load(cfg_file, embedder="from-args")
    assert cfg.top_k == 7  # file beats default
    assert cfg.rrf_k == 20  # env beats file
    assert cfg.embedder == "from-args"  # arguments beat everything
    assert cfg.chunk_max_chars == Config().chunk_max_chars


def test_rag_home_moves_everything(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_HOME", str(tmp_path))
    monkeypatch.delenv("RAG_MODELS_PATH", raising=False)
    cfg = Config.load()
    assert cfg.default_index_dir == tmp_path / "indexes" / "samples"
    assert cfg.models_dir == tmp_path / "models"


def test_unknown_field_and_bad_values_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown config field"):
        Config.load(colour="red")
    with pytest.raises(ConfigError, match="top_k must be > 0"):
        Config.load(top_k=0)
    with pytest.raises(ConfigError, match="cannot read"):
        Config.load(top_k="many")
    with pytest.raises(ConfigError, match="sentence_vectors must be 'one_pass' or 'separate'"):
        Config.load(sentence_vectors="both")
    with pytest.raises(ConfigError, match="embed_precision must be"):
        Config.load(embed_precision="bf16")
    bad = tmp_path / "bad.toml"
    bad.write_text("top_k = = 3")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Config.load(bad)
