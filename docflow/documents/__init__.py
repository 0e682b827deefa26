"""Documents: states and transitions, visibility, notation, search folding, trail, files."""
