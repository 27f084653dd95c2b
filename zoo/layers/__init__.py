"""Keras layers of the zoo: distribution heads and network trunks (they output tensors only)."""
from zoo.layers.heads import DiagonalGaussianHead, LogitsHead
from zoo.layers.networks import GatedDense, conv_decoder, conv_encoder, mlp

__all__ = ["DiagonalGaussianHead", "LogitsHead", "GatedDense", "mlp", "conv_encoder", "conv_decoder"]
