"""Power and energy: the analytical estimate from the IR (model, estimate), its
characterization against the transistor cells (characterize), and `cosim power`
(report)."""
