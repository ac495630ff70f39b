"""Sweeps: train every variant of a grid, evaluate it, and report them side by side."""
