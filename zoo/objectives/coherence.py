"""Topic coherence: normalised pointwise mutual information (NPMI) of a topic's top words
(Bouma 2009; Lau, Newman & Baldwin 2014), with document co-occurrence in a reference corpus.

    NPMI(w_i, w_j) = log(P(w_i, w_j) / (P(w_i) P(w_j))) / -log P(w_i, w_j),   -1 when they never co-occur

P(w) is the fraction of reference documents that contain w; a topic's coherence is the mean NPMI
over its pairs of top words, and a model's the mean over its topics.
"""
import numpy as np


def npmi_coherence(top_words, counts):
    """top_words: (T, k) int word ids, one row per topic; counts: (N, V) reference documents
    (counts or 0/1). Returns (T,) float64: the mean NPMI of each topic's word pairs."""
    top_words = np.asarray(top_words)
    present = (np.asarray(counts) > 0).astype(np.float64)
    n = present.shape[0]
    out = np.empty(len(top_words))
    for t, words in enumerate(top_words):
        occurrence = present[:, words]                      # (N, k)
        p_single = occurrence.sum(0) / n                     # (k,)
        p_joint = occurrence.T @ occurrence / n              # (k, k)
        values = []
        for i in range(len(words)):
            for j in range(i + 1, len(words)):
                pij = p_joint[i, j]
                if pij <= 0:
                    values.append(-1.0)
                elif pij >= 1:
                    values.append(1.0)
                else:
                    values.append(np.log(pij / (p_single[i] * p_single[j])) / -np.log(pij))
        out[t] = np.mean(values) if values else 0.0
    return out
