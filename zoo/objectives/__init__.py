"""Objectives shared by every model: ELBO, IWAE bound, importance-sampled log-likelihood, KL schedules, and the
posterior-collapse toolkit (free bits, word dropout)."""
from zoo.objectives.annealing import (ConstantSchedule, CyclicalSchedule, KLAnnealing, LinearSchedule,
                                      SigmoidSchedule, schedule_from_config)
from zoo.objectives.elbo import elbo, iwae_bound, kl_term, log_importance_weights, log_mean_exp
from zoo.objectives.importance import log_likelihood
from zoo.objectives.perplexity import corpus_perplexity, document_perplexity, perplexities
from zoo.objectives.coherence import npmi_coherence
from zoo.objectives.collapse import active_units, mutual_information, set_mutual_information
from zoo.objectives.free_bits import free_bits_kl
from zoo.objectives.word_dropout import word_dropout

__all__ = ["elbo", "iwae_bound", "kl_term", "log_importance_weights", "log_mean_exp", "log_likelihood",
           "ConstantSchedule", "LinearSchedule", "SigmoidSchedule", "CyclicalSchedule", "KLAnnealing",
           "schedule_from_config", "document_perplexity", "corpus_perplexity", "perplexities", "npmi_coherence",
           "free_bits_kl", "word_dropout", "mutual_information", "set_mutual_information", "active_units"]
