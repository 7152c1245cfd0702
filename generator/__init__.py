"""gen: render Ray Serve LLM fleets on GKE from one models.yaml."""

__version__ = "0.1.0"
