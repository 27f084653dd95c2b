"""Model families of the zoo; importing this module registers every class (``zoo.registry``)."""
from zoo.models.latent import LatentVariableModel
from zoo.models.vae import VAE
from zoo.models.nvdm import NVDM
from zoo.models.mixture_em import MixtureOfMultinomials
from zoo.models.lda import LDA
from zoo.models.docnade import DocNADE
from zoo.models.rnn_lm import RNNLanguageModel
from zoo.models.ngram_lm import NGramLanguageModel

__all__ = ["LatentVariableModel", "VAE", "NVDM", "MixtureOfMultinomials", "LDA", "DocNADE", "RNNLanguageModel",
           "NGramLanguageModel"]
from zoo.models.memn2n import MemN2N  # noqa: E402  (bAbI question answering, issue 14)
from zoo.models.kvmemnn import KeyValueMemoryNetwork  # noqa: E402
from zoo.models.bilstm_qa import BiLSTMReader  # noqa: E402
from zoo.models.rbm import RBM  # noqa: E402  (restricted Boltzmann machines, issue 12)
from zoo.models.rsm import ReplicatedSoftmax  # noqa: E402  (issue 12)
from zoo.models.sentence_vae import SentenceVAE  # noqa: E402  (Bowman et al. 2016, issue 10)
from zoo.models.skipgram import SkipGram  # noqa: E402  (Mikolov et al. 2013, issue 11)
from zoo.models.sbn import FDARN, SBN  # noqa: E402  (NVIL, Mnih & Gregor 2014; Gregor et al. 2014, issue 13)
from zoo.models.sentence_lm import SentenceLanguageModel  # noqa: E402  (the sentence VAE's baseline, issue 10)

__all__ += ["MemN2N", "KeyValueMemoryNetwork", "BiLSTMReader", "RBM", "ReplicatedSoftmax", "SentenceVAE", "SkipGram",
            "SBN", "FDARN", "SentenceLanguageModel"]
