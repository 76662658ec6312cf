"""Use cases: one function, one transaction (access-log row included where a patient is
touched). Services take their collaborators as arguments; they never import ``web``."""
