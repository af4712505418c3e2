"""casesync: the NOVA, GCMS and NCMS case systems, their interfaces, and the checks on them."""

__version__ = "0.1.0"
