"""cosim: analog co-design simulator and netlist generator for bistable recurrent cells.

    import cosim
    ir = cosim.load_ir("netlists/bmru_flipflop.hw.json")     # or a checkpoint folder
    sim = cosim.simulate(ir, x, backend="fast")               # x (batch, time, n_inputs), units

Backends: "fast" (batched engine, torch), "ngspice" (behavioral netlists),
"reference" (the discrete software reference). Imports are lazy, so
`import cosim` stays light.
"""


def simulate(ir, x, *, backend: str = "ngspice", noise=None, **options):
    """`cosim.backends.simulate`: per-step states and outputs of the IR model on inputs x."""
    from .backends import simulate as run

    return run(ir, x, backend=backend, noise=noise, **options)


def load_ir(path, bits: int = 6):
    """`cosim.hw.source.load_ir`: a HardwareIR from a checkpoint folder or a .hw.json file."""
    from .hw.source import load_ir as load

    return load(path, bits=bits)
