"""tumour_abm: agent-based simulator of the tumour microenvironment under XPO1 inhibition and immunotherapy."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tumour_abm")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
