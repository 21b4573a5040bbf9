"""ddsnode: the node software of a Democracy Data Space."""

__version__ = "0.1.0"
