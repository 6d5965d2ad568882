"""policygen: governance intent (YAML) to Azure Policy, validated and tested offline."""

__version__ = "0.1.0"
