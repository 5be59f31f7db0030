"""One module per result of the paper; each returns a typed result with the measured value, the bound and
whether it held."""
