"""The importer's internal signal for an op variant it cannot encode."""


class UnsupportedVariant(Exception):
    """Raised by op handlers; the reader turns it into an UnsupportedOperatorError naming the node."""
