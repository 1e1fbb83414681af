"""Token qualification: procedures over the Token interface, measurements judged against a
profile's limits, findings that name defects, and per-token records."""
