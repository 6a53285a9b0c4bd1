"""Reference planners, one small module each (installed as ``wmbench.baselines``).

``PLANNERS`` maps each planner's ``name`` to its ``"module:Class"`` path; importing this package does not
import torch.
"""

PLANNERS: dict[str, str] = {
    "gbp": "wmbench.baselines.gbp:GBP",
    "cem": "wmbench.baselines.cem:CEM",
    "mppi": "wmbench.baselines.mppi:MPPI",
    "icem": "wmbench.baselines.icem:ICEM",
    "gbp-cem": "wmbench.baselines.gbp_cem:GBPCEM",
    "oracle": "wmbench.baselines.oracle:Oracle",
}
