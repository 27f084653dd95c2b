"""Model families of the zoo; importing this module registers every class with the hub."""
from zoo.models.latent import LatentVariableModel
from zoo.models.vae import VAE

__all__ = ["LatentVariableModel", "VAE"]
