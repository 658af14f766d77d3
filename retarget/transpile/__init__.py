"""Assembly translation and its verification (``verify``: the differential verifier)."""
