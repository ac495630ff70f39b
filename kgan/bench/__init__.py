"""Benchmarks (`python -m kgan.bench`): speed and memory numbers, printed as JSON lines.

Speed and memory targets live here, never in timed tests. Each subcommand is one module:
`train` (GAN train steps), `data` (the paired tf.data pipeline), `inception` (FID feature
extraction) and `export` (SavedModel export and serving). See `kgan.bench.__main__`.
"""
