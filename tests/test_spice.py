"""cosim.spice drivers against the real ngspice: waveforms, naming, errors,
retries, timeouts. No mocks: every netlist here is simulated."""
from __future__ import annotations

import numpy as np
import pytest

from cosim.netlist.ladder import ladder_subckt
from cosim.netlist.library import include_line
from cosim.spice import SimResult, SpiceError, run_netlist
from cosim.spice.netlist_ops import ensure_seed, parse_number, safer_options
from cosim.spice.rawfile import read_raw

DRIVERS = ["subprocess", "shared"]

RC = """rc test
i1 0 a pwl(0 0 1m 0 1.001m 1u 10m 1u)
r1 a 0 1k
c1 a 0 1u
vsense a b 0
r2 b 0 1meg
.tran 10u 10m
.end
"""

# two 0 V sources in parallel: the branch currents are undetermined (singular)
SINGULAR = """cannot converge
i1 0 a dc 1n
v1 a 0 0
v2 a 0 0
.tran 1u 1m
.end
"""

# 1e10 time steps of 1 ns: never finishes
HANG = """hang
r1 a 0 1k
c1 a 0 1u
i1 0 a pulse(0 1m 0 1n 1n 1m 2m)
.tran 1n 10 0 1n
.end
"""


def mixed_netlist() -> str:
    """Every block of the library plus a generated ladder, one transient."""
    return f"""drivers agree
{include_line()}
{ladder_subckt(2, "lad2")}
ii 0 in pwl(0 0 10m 1n 20m 0)
xl in o1 bist_latch igain=1n ithresh=0.7n iwidth=0.4n
vo1 o1 0 0
ii2 0 in2 pwl(0 0 10m 1n 20m 0)
xd in2 o2 bist_dyn igain=1n ithresh=0.7n iwidth=0.4n
vo2 o2 0 0
ic 0 c pwl(0 -1n 10m 1n 20m -1n)
ib 0 b dc 0.5n
xs c b o3 bist_sym igain=1n
vo3 o3 0 0
ii4 0 in4 pwl(0 0 2m 0 2.01m 1n 20m 1n)
xp in4 o4 dpi
vo4 o4 0 0
ii5 0 in5 pwl(0 0 2m 0 2.01m 1n 20m 1n)
xf in5 o5 dpi_full ig=100p
vo5 o5 0 0
iu 0 u pwl(0 0 1m 0 1.01m 1n 1.26m 1n 1.27m 0 11m 0 11.01m 1n 11.26m 1n 11.27m 0)
xlad u o6 lad2
vo6 o6 0 0
ii7 0 in7 dc 0.3n
xm in7 o7 mirror w=2.5
vo7 o7 0 0
.tran 20u 20m
.end
"""


def test_drivers_give_identical_waveforms():
    net = mixed_netlist()
    a = run_netlist(net, driver="subprocess")
    b = run_netlist(net, driver="shared")
    assert set(a.waveforms) == set(b.waveforms)
    assert {"time", "v(xl.u)", "i(v.xl.vs)", "i(vo1)", "v(xlad.lvl)"} <= set(a.waveforms)
    for k in a.waveforms:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert a.plotname == b.plotname == "Transient Analysis"
    # the ladder moved twice (one rung per pulse) in both
    lvl = a.sample("v(xlad.lvl)", [9e-3, 19e-3])
    assert lvl.tolist() == pytest.approx([1, 2], abs=1e-6)
    print(f"\ndrivers: {len(a.time)} points, {len(a.waveforms)} vectors; subprocess "
          f"{a.wall_s:.3f} s, shared {b.wall_s:.3f} s")


@pytest.mark.parametrize("driver", DRIVERS)
def test_vector_names_and_branch_current_helper(driver):
    r = run_netlist(RC, driver=driver)
    assert isinstance(r, SimResult) and r.driver == driver
    assert {"time", "v(a)", "v(b)", "i(vsense)"} <= set(r.waveforms)
    # current through the 0 V sense source = v(b)/1 Mohm, flowing a -> b
    np.testing.assert_allclose(r.current("vsense"), r.voltage("b") / 1e6, rtol=1e-9, atol=1e-18)
    # RC charging: v(a) -> 1 uA * (1k || 1M) with tau = 1 ms
    v_end = 1e-6 * (1e3 * 1e6 / (1e3 + 1e6))
    assert r.voltage("a")[-1] == pytest.approx(v_end * (1 - np.exp(-9)), rel=2e-3)
    assert r.time[0] == 0 and r.time[-1] == pytest.approx(10e-3)
    with pytest.raises(KeyError):
        r.current("nosuch")


@pytest.mark.parametrize("driver", DRIVERS)
def test_operating_point_and_subcircuit_sense_current(driver):
    net = f"""op
{include_line()}
i1 0 a dc 2n
x1 a o mirror w=0.5
vo o 0 0
.op
.end
"""
    r = run_netlist(net, driver=driver)
    assert r.plotname == "Operating Point"
    assert r.current("x1.vs")[0] == pytest.approx(2e-9, rel=1e-12)
    assert r.current("v.x1.vs")[0] == pytest.approx(2e-9, rel=1e-12)
    assert r.current("vo")[0] == pytest.approx(1e-9, rel=1e-12)


def test_ascii_raw_file_matches_binary(tmp_path):
    b = run_netlist(RC, workdir=tmp_path / "bin")
    a = run_netlist(RC.replace(".tran", ".options filetype=ascii\n.tran"), workdir=tmp_path / "asc")
    assert (tmp_path / "asc" / "out.raw").read_bytes().find(b"Values:") > 0
    assert (tmp_path / "bin" / "net.cir").is_file()  # workdir keeps the files
    for k in b.waveforms:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-14, atol=1e-30, err_msg=k)


def test_complex_ac_plot_both_drivers():
    net = """ac
r1 a 0 1k
c1 a 0 1u
i1 0 a dc 0 ac 1m
.ac dec 5 10 10k
.end
"""
    a, b = run_netlist(net), run_netlist(net, driver="shared")
    f = a["frequency"]
    assert f.dtype == np.float64 and f[0] == pytest.approx(10)
    z = 1 / (1 / 1e3 + 2j * np.pi * f * 1e-6)
    np.testing.assert_allclose(a["v(a)"], 1e-3 * z, rtol=1e-9)
    for k in a.waveforms:
        np.testing.assert_array_equal(a[k], b[k])


def test_seed_option_is_inserted_and_recorded():
    r = run_netlist(RC, seed=5)
    assert r.seed == 5 and ".options seed=6" in r.netlist  # ngspice rejects seed=0
    assert "cannot convert" not in r.log.lower()
    text, s = ensure_seed(RC.replace(".tran", ".option seed=42\n.tran"), 3)
    assert s == 41 and text.count("seed=") == 1


@pytest.mark.parametrize("driver", DRIVERS)
def test_nonconvergence_retries_then_raises_with_log_tail(driver):
    with pytest.raises(SpiceError) as ei:
        run_netlist(SINGULAR, driver=driver)
    err = ei.value
    first = str(err).splitlines()[0]
    assert err.kind == "convergence"
    assert "did not converge" in first and "timestep too small" in first.lower()
    assert "[cosim] retry with safer options" in err.log
    assert "method=gear" in str(err) and "run simulation(s) aborted" in str(err)
    assert len(str(err).splitlines()) <= 24


@pytest.mark.parametrize("driver", DRIVERS)
def test_parse_error_is_reported_without_retry(driver):
    bad = RC.replace("r2 b 0 1meg", "q1 b 0 0 nomodel")
    with pytest.raises(SpiceError) as ei:
        run_netlist(bad, driver=driver)
    assert ei.value.kind == "error"
    assert "could not find a valid modelname" in str(ei.value).splitlines()[0]
    assert "retry" not in ei.value.log


@pytest.mark.parametrize("driver", DRIVERS)
def test_no_analysis_gives_no_data_error(driver):
    with pytest.raises(SpiceError, match="no data|no raw|not written"):
        run_netlist(RC.replace(".tran 10u 10m\n", ""), driver=driver)


@pytest.mark.parametrize("driver", DRIVERS)
def test_hanging_netlist_times_out(driver):
    with pytest.raises(SpiceError) as ei:
        run_netlist(HANG, driver=driver, timeout_s=2.0)
    assert ei.value.kind == "timeout"
    assert str(ei.value).startswith("ngspice timed out after 2 s")
    assert "Circuit: hang" in ei.value.log
    # the driver is usable afterwards (shared library halted, not wedged)
    assert run_netlist(RC, driver=driver).voltage("a")[-1] > 0


def test_safer_options_and_number_parsing():
    assert parse_number("10u") == pytest.approx(1e-5)
    assert parse_number("1meg") == pytest.approx(1e6)
    assert parse_number("2.5ms") == pytest.approx(2.5e-3)
    assert parse_number("1e-3") == pytest.approx(1e-3)
    with pytest.raises(ValueError):
        parse_number("{tstop}")
    text = safer_options(RC)
    tran = [ln for ln in text.splitlines() if ln.startswith(".tran")][0]
    # default tmax = min(10u, 10m/50) = 10u -> halved
    assert [parse_number(t) for t in tran.split()[1:]] == pytest.approx([1e-5, 1e-2, 0, 5e-6])
    assert ".options method=gear" in text
    assert text.rstrip().splitlines()[-1] == ".end"
    uic = safer_options(RC.replace(".tran 10u 10m", ".tran 10u 10m 0 1u uic"))
    assert ".tran 10u 10m 0 5e-07 uic" in uic


def test_raw_reader_multiple_plots(tmp_path):
    raw = tmp_path / "two.raw"
    one = run_netlist(RC, workdir=tmp_path / "w1")
    data = (tmp_path / "w1" / "out.raw").read_bytes()
    raw.write_bytes(data + data)
    plots = read_raw(raw)
    assert len(plots) == 2
    np.testing.assert_array_equal(plots[1].vectors["v(a)"], one["v(a)"])
