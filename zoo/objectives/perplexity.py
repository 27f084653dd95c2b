"""Perplexity of documents (or sentences) from per-document log-probabilities, shared by every text model.

Two figures, always named apart (Miao, Yu & Blunsom 2016, Sec. 4.1; Blei et al. 2003, eq. 14):

    per-document perplexity  = exp( mean_d  -log p(d) / N_d )          ("perplexity" in the NVDM paper)
    corpus perplexity        = exp( -sum_d log p(d) / sum_d N_d )      (per-word, LDA and language models)

N_d is the number of tokens of document d. log p(d) is the probability of the document's token
sequence, without the multinomial coefficient N_d! / prod_w n_dw! (it is the same for every model of a
bag of words). Where log p(d) is intractable a bound takes its place and the figure is an upper bound
on the true perplexity: the ELBO (NVDM, LDA), or the tighter importance-sampled estimate.
"""
import numpy as np


def _checked(log_probs, lengths):
    log_probs = np.asarray(log_probs, np.float64).reshape(-1)
    lengths = np.asarray(lengths, np.float64).reshape(-1)
    if log_probs.shape != lengths.shape:
        raise ValueError(f"log_probs {log_probs.shape} and lengths {lengths.shape} must have one entry per document")
    if log_probs.size == 0:
        raise ValueError("perplexity needs at least one document")
    if np.any(lengths <= 0):
        raise ValueError(f"every document needs a positive length; found {int(np.sum(lengths <= 0))} empty")
    return log_probs, lengths


def document_perplexity(log_probs, lengths):
    """exp(mean_d(-log p(d) / N_d)): the NVDM paper's per-document perplexity."""
    log_probs, lengths = _checked(log_probs, lengths)
    return float(np.exp(np.mean(-log_probs / lengths)))


def corpus_perplexity(log_probs, lengths):
    """exp(-sum_d log p(d) / sum_d N_d): the per-word (corpus-level) perplexity."""
    log_probs, lengths = _checked(log_probs, lengths)
    return float(np.exp(-np.sum(log_probs) / np.sum(lengths)))


def perplexities(log_probs, lengths, prefix):
    """{"<prefix>perplexity": per-document, "<prefix>corpus_perplexity": corpus-level}."""
    return {f"{prefix}perplexity": document_perplexity(log_probs, lengths),
            f"{prefix}corpus_perplexity": corpus_perplexity(log_probs, lengths)}
