"""The core every layer shares: the exception tree, where data lives, plain value types, timeline math.

Imports nothing else of soundalike; the model packages may import it (paths and weights precedence)."""
