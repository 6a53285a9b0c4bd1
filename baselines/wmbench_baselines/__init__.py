"""wmbench's reference planners, one small module each, importing only the public planner API
(``wmbench.planning``).

They register in the ``wmbench.planners`` entry-point group (``baselines/pyproject.toml``) exactly as a
third-party submission does, and the harness resolves them by that name: ``GBP``, ``CEM``, ``MPPI``,
``iCEM``, ``GBP-CEM`` and ``Oracle``. Importing this package does not import torch.
"""
