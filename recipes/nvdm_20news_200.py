"""NVDM with 200 latent dimensions on 20 Newsgroups (Miao, Yu & Blunsom 2016, Table 1).

    zoo train nvdm_20news_200

Same network and training as ``nvdm_20news_50`` (see there) with h in R^200.
Paper: perplexity 852 (per-document, ELBO). Goal of the zoo: <= 820.
Measured (this recipe, seed 0): 905.0 (ELBO; corpus-level 858.4), importance-sampled (k = 500) 795.1;
best epoch 189 of 205, 322 s. Goal missed: see docs/documents.md.
"""
import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("nvdm_20news_50", Path(__file__).with_name("nvdm_20news_50.py"))
_base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_base)


def get_config():
    recipe = _base.get_config(latent_dim=200, name="nvdm-20news-200", seed=2)
    recipe.expected = {"test_perplexity": 820.0, "paper_perplexity": 852.0}
    # The schedule this artifact was trained with (now also the 50's): a first run with learning-rate
    # patience 4 / early stopping 10 stopped at epoch 75, test perplexity 961.7.
    recipe.lr_plateau = {"factor": 0.5, "patience": 8, "min_lr": 1e-5}
    recipe.early_stopping_patience = 16
    recipe.max_minutes = 9
    return recipe
