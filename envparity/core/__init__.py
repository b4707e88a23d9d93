"""The pure core: spec loading, completion, rules, generators and formats (docs/architecture.md).

Nothing here imports an adapter, an SDK, subprocess or the network.
"""
