"""One module per resource; each exports ``app``, a Typer the root merges flat."""
