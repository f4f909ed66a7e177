"""The package version, in a leaf module every layer may import (hatch reads it here)."""

__version__ = "0.1.0"
