"""Evaluation harness: episodes against simulators (`episodes`), entries (`entries`), units and
their identity (`units`), sweeps with resume (`sweep`), the results schema and its Parquet I/O
(`schema`) and run metadata (`machine`).

Kept import-free so that reading results (``wmbench.report``) does not import torch::

    from wmbench.harness.sweep import SweepConfig, checkpoint_models, run_sweep
    from wmbench.planning import parse_budgets

    config = SweepConfig(("GBP", "CEM"), ("pusht",), parse_budgets("0.01,0.1"), seeds=(0, 1))
    run_sweep(config, "results", checkpoint_models(lambda env, variant: f"ckpt/{env}-{variant}.pt"))
"""
