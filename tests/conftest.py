"""Shared fixtures: a throw-away RAG_HOME per test session that reuses the provisioned models.

`bash install.sh` (or `rag models`) provisions multilingual-e5-small under the real RAG_HOME; tests point
RAG_MODELS_PATH there so that the model is built once, and everything else goes to a temporary home.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.config import default_home

_MODELS = Path(os.environ.get("RAG_MODELS_PATH") or default_home() / "models")


@pytest.fixture(scope="session", autouse=True)
def rag_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("rag-home")
    os.environ["RAG_HOME"] = str(home)
    os.environ["RAG_MODELS_PATH"] = str(_MODELS)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    return home


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    from rag.index import sample_articles_dir

    return sample_articles_dir()


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory, samples_dir):
    """The five sample articles ingested once into a session index (opened, models loaded)."""
    import rag

    folder = tmp_path_factory.mktemp("sample-index")
    report = rag.ingest([samples_dir], index=folder, progress=False)
    assert report.ok, report.failed
    return rag.open_index(folder)
