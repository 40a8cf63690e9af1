"""The positioning engine: one estimate per tag, constrained to the tunnel graph."""
