"""The shipped recipes by name, as grids and `--recipe` options name them: `RECIPES["pix2pix"]`
is the `Recipe` that `python -m kgan.recipes.pix2pix` runs."""

from kgan.recipes import cut, cyclegan, pix2pix

RECIPES = {recipe.name: recipe for recipe in (pix2pix.RECIPE, cyclegan.RECIPE, cut.RECIPE)}
