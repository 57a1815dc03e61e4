"""Fast batched simulator of the behavioral circuits (torch, CPU or GPU).

The clocked behavioral netlists (hardening issue) decide every cell state
once per step from currents that are constant over the step, so at the
sampled instants ngspice shows the discrete map of the IR: mirror banks as
matrix products, latch cells as comparisons, the nominal CMRU ladder as a
clipped counter, the readout filters as their exact zero-order-hold
recursion. `FastModel` evaluates that map for many mismatch draws and
sequences at once: tensors (draws, sequences, time, channels), float64.

    draws.py   mismatch draws of many seeds stacked on a leading axis (the same
               numbers as hw.mismatch.perturb_ir for each seed)
    stack.py   separate IRs of one model as one batched IR
    model.py   FastModel: the batched IR and its evaluation
    ladder.py  CMRU ladders with per-stage mismatch, integrated in time (latches,
               DPIs, neighbour coupling, the clocked update), where the discrete
               counter no longer describes the circuit
"""
