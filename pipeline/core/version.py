"""The Cadre version, recorded in reports, job records and approvals."""
__version__ = "0.1.0"
