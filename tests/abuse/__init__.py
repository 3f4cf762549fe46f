"""Abuse tests: fuzzing, the role matrix, site isolation, tokens, hostile uploads, device ACLs."""
