"""Command-line recipes: `python -m kgan.recipes.pix2pix`, each with the paper's defaults."""
