"""Listeners: their answers, and the similarity metrics learned from them (fits, versions on disk)."""
