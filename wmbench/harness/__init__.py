"""Evaluation harness: benchmark entries (:mod:`.entries`), sweeps over entry x env x budget x seed
(:mod:`.runner`), the results schema and its Parquet I/O (:mod:`.schema`) and run metadata (:mod:`.machine`).

Kept import-free so that reading results (``wmbench.report``) does not import torch::

    from wmbench.harness.runner import SweepConfig, checkpoint_models, parse_budgets, run_sweep

    config = SweepConfig(("GBP", "CEM"), ("pusht",), parse_budgets("0.01,0.1"), seeds=(0, 1))
    run_sweep(config, "results", checkpoint_models(lambda env, variant: f"ckpt/{env}-{variant}.pt"))
"""
