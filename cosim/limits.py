"""Size bounds of models and tasks, checked before anything is allocated (a
config.json with "hidden": 1000000000 must fail at once, not exhaust memory).
Plain constants, no imports: the CLI's flag checks read them without torch. Also the
supply range of transistor-level runs and the range of a model's current scale."""

MAX_WIDTH = 4096          # inputs, outputs, channels per layer, projection width
MAX_LAYERS = 64
MAX_LADDER = 64           # CMRU ladder rungs per side (K), counting-task clip
MAX_FILTERS = 256         # readout filters per channel (taus x periods)
MAX_T = 100_000           # steps per sequence
MAX_SEQUENCES = 1_000_000  # sequences per split
VDD_RANGE = (1.6, 1.98)   # V: sky130 1.8 V devices' usual -11%..+10% supply corners
CURRENT_SCALE_RANGE = (0.1, 2.0)   # factor of `cosim export --current-scale` (hw.current_scale)
