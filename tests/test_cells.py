"""Software cells: parallel scan vs loop, ladder/bistable/first-quadrant semantics, gradients."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cosim.cells import MRU, AlphaCMRU, SchmittMRU, heaviside, sign, surrogate_derivative
from cosim.cells.scan import parallel_scan, sequential_scan


@settings(max_examples=25, deadline=None)
@given(batch=st.integers(1, 3), T=st.integers(1, 70), n=st.integers(1, 5),
       bound=st.sampled_from([None, 1.0, 3.0]), seed=st.integers(0, 10_000))
def test_parallel_scan_equals_loop(batch, T, n, bound, seed):
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(batch, T, n, generator=g)             # a >= 0 (what the cells produce)
    a = torch.where(torch.rand(batch, T, n, generator=g) < 0.3, torch.ones_like(a), a)
    b = torch.randn(batch, T, n, generator=g) * 2
    s0 = torch.randn(batch, n, generator=g)
    torch.testing.assert_close(parallel_scan(a, b, s0, bound), sequential_scan(a, b, s0, bound),
                               rtol=1e-5, atol=1e-5)


def _cells(eps):
    return [MRU(3, 5, eps=eps), MRU(3, 5, eps=eps, ladder=2), SchmittMRU(3, 5, eps=eps)]


@pytest.mark.parametrize("eps", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("T", [1, 17, 64, 130])
def test_cells_parallel_equals_sequential(eps, T):
    torch.manual_seed(T)
    x = torch.randn(4, T, 3) * 2
    for cell in _cells(eps) + [AlphaCMRU(3, 5), AlphaCMRU(3, 5, ladder=2)]:
        h_par, tr_par = cell(x, trace=True)
        h_seq, tr_seq = cell(x, mode="sequential", trace=True)
        torch.testing.assert_close(h_par, h_seq, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(tr_par["state"], tr_seq["state"], rtol=1e-5, atol=1e-5)


def test_cmru_states_are_cumulative_integers():
    torch.manual_seed(1)
    cell = MRU(3, 6, eps=1.0)
    x = torch.randn(5, 200, 3) * 3
    _, tr = cell(x, trace=True)
    s0 = cell.init_state()
    expected = s0 + torch.cumsum(tr["gate"] * torch.where(tr["candidate"] >= 0, 1.0, -1.0), dim=1)
    torch.testing.assert_close(tr["state"], expected)
    assert torch.equal(tr["state"], tr["state"].round())
    assert tr["state"].abs().max() > 1  # several rungs used


def test_finite_ladder_saturates():
    torch.manual_seed(2)
    cell = MRU(3, 4, eps=1.0, ladder=3, init_state=0.0)
    with torch.no_grad():
        cell.candidate.weight.zero_()
        cell.candidate.bias.fill_(2.0)     # always +2: every step updates upward
        cell.threshold.weight.zero_()
        cell.threshold.bias.fill_(1.0)
    _, tr = cell(torch.zeros(1, 10, 3), trace=True)
    assert tr["state"][0, :, 0].tolist() == [1, 2, 3, 3, 3, 3, 3, 3, 3, 3]


def test_bmru_states_are_plus_minus_one():
    torch.manual_seed(3)
    cell = MRU(3, 6, eps=0.0)
    _, tr = cell(torch.randn(4, 100, 3) * 3, trace=True)
    assert set(tr["state"].unique().tolist()) <= {-1.0, 1.0}


def _schmitt_fixed(beta1, delta):
    cell = SchmittMRU(1, 1)
    with torch.no_grad():
        cell.candidate.weight.fill_(1.0)
        cell.candidate.bias.zero_()
        cell.beta1_raw.fill_(math.log(math.expm1(beta1)))
        cell.delta_raw.fill_(math.log(math.expm1(delta)))
    return cell


def test_schmitt_regions_at_exact_boundaries():
    cell = _schmitt_fixed(0.5, 0.25)
    b1, b2 = cell.beta1.item(), (cell.beta1 + cell.delta).item()
    # start low; b2 exactly holds low; just above b2 goes high; b2 and b1 exactly hold high;
    # just below b1 goes low; b1 exactly holds low
    seq = [0.0, b2, b2 + 1e-4, b2, 0.6, b1, b1 - 1e-4, b1, 0.6]
    _, tr = cell(torch.tensor(seq).view(1, -1, 1), trace=True)
    assert tr["state"].view(-1).tolist() == [0, 0, 1, 1, 1, 1, 0, 0, 0]


def test_schmitt_states_binary():
    torch.manual_seed(4)
    cell = SchmittMRU(3, 8)
    _, tr = cell(torch.rand(4, 100, 3) * 2, trace=True)
    assert set(tr["state"].unique().tolist()) <= {0.0, 1.0}
    assert len(tr["state"].unique()) == 2


def _grad_wrt_s0(eps, T=1000):
    torch.manual_seed(5)
    cell = MRU(2, 3, eps=eps, init_state=None)
    x = torch.randn(1, T, 2) * 3
    s0 = torch.tensor([1.0, -1.0, 1.0], requires_grad=True)
    c, beta, z, step = cell.gates(x)
    a = 1.0 - (1.0 - eps) * z
    s = parallel_scan(a, z * step, s0)
    s[0, -1].sum().backward()
    return s0.grad, z


def test_gradient_reaches_initial_state_through_1000_steps_for_cmru():
    grad, z = _grad_wrt_s0(1.0)
    assert z.sum() > 10
    assert torch.all(grad != 0)


def test_gradient_to_initial_state_is_zero_after_update_for_bmru():
    grad, z = _grad_wrt_s0(0.0)
    assert torch.all(z.sum(dim=1) > 0)  # every channel updated at least once
    assert torch.all(grad == 0)


def test_surrogate_derivative_matches_formula():
    x = torch.linspace(-2, 2, 41, requires_grad=True)
    for slope in (1.0, 2.5):
        g, = torch.autograd.grad(heaviside(x, slope).sum(), x)
        torch.testing.assert_close(g, slope / (1 + (math.pi * slope * x.detach()) ** 2))
        g2, = torch.autograd.grad(sign(x, slope).sum(), x)
        torch.testing.assert_close(g2, 2 * surrogate_derivative(x.detach(), slope))
    assert heaviside(torch.tensor(0.0)).item() == 1.0
    assert sign(torch.tensor(-1e-6)).item() == -1.0
