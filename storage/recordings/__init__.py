"""Recordings: acoustic fingerprints, copies and other versions of one recording, shared-audio passage edges."""
