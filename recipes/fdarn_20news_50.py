"""fDARN with 50 binary units on 20 Newsgroups, trained by NVIL: the fDARN row of the NVDM table (Miao et al.
2016, Table 1: perplexity 917).

    zoo train fdarn_20news_50

Same data, networks and schedule as ``sbn_20news_50`` (see there), with autoregressive prior and posterior over
the binary units (``zoo.models.sbn.FDARN``). Goal: perplexity <= 917. Measured (``zoo train fdarn_20news_50``,
the 10-minute budget, 167 epochs, best at the last): 909.4, importance-sampled (k=500) 844.0 on all 7,505 test
documents: goal met (1,149.3 with NVIL's baseline per document; docs/documents.md).
"""
import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("sbn_20news_50", Path(__file__).with_name("sbn_20news_50.py"))
_base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_base)


def get_config():
    return _base.get_config(class_name="FDARN", name="fdarn-20news-50", paper=917.0)
