"""sky130 transistor cells in the real ngspice with the installed PDK models:
the trimmed library, cascoded mirror banks, seeded PDK mismatch."""
import numpy as np
import pytest

from cosim.errors import InputError
from cosim.pdk import sky130
from cosim.pdk.bench import bench, run
from cosim.pdk.cells import Unit, mirror_bank
from cosim.pdk.characterize import mirror_mismatch


def test_trimmed_library_holds_the_devices_and_the_licence(tmp_path, monkeypatch):
    monkeypatch.setenv("COSIM_CACHE", str(tmp_path))
    path = sky130.trimmed_library("ss")
    text = path.read_text()
    assert path.name == path.name.lower() and path.parent.parent == tmp_path
    for dev in sky130.DEVICES + (sky130.CAPACITOR,):
        assert f".subckt  {dev} " in text or f".subckt {dev} " in text
    assert "Apache License" in text and ".option scale=1.0u" in text
    assert ".param MC_MM_SWITCH=0" in text
    assert ".param MC_MM_SWITCH=1" in sky130.trimmed_library("ss", mismatch=True).read_text()
    assert len(text) < 2_000_000          # the full library + includes is ~100 MB of text


def test_unknown_corner_and_missing_models_are_clear_errors(monkeypatch, tmp_path):
    with pytest.raises(InputError, match="corner 'xx'"):
        sky130.trimmed_text("xx")
    monkeypatch.setenv("COSIM_SKY130_LIB", str(tmp_path / "nothing.spice"))
    with pytest.raises(InputError, match="COSIM_SKY130_LIB"):
        sky130.combined_library()


@pytest.mark.parametrize("polarity", ["n", "p"])
def test_cascoded_mirror_bank_gains_hold_over_current_and_output_voltage(polarity):
    """Gains 1, 3, 7 from unit devices: within 1% from 0.2 to 5 nA and over 0.5-1.5 V
    of output swing. A plain n mirror at the same points drifts by > 5% (output
    conductance); the plain p mirror drifts less (~1.6%) but still more than its cascode."""
    errs = {}
    for cascode in (True, False):
        c = bench("bank")
        if polarity == "n":
            c.isource("in", "vdd", "inp", 1e-9)
        else:
            c.isource("in", "inp", "0", 1e-9)
        outs = []
        for N in (1, 3, 7):
            for k, v in enumerate((0.5, 1.5)):
                c.add("vsource", f"o{N}{k}", f"o{N}{k}", "0", value=v if polarity == "n" else 1.8 - v)
                outs.append((f"o{N}{k}", N))
        mirror_bank(c, "b", "inp", outs, polarity=polarity, cascode=cascode)
        w = run(c, ".dc iin 0.2n 5n 0.2n")
        i_in = w["i(i-sweep)"]
        sign = -1 if polarity == "n" else 1
        errs[cascode] = max(np.abs(sign * w[f"i(vo{N}{k})"] / (N * i_in) - 1).max()
                            for N in (1, 3, 7) for k in (0, 1))
    assert errs[True] < 0.01
    assert errs[False] > (0.05 if polarity == "n" else errs[True])


def test_pdk_mismatch_is_seeded_and_follows_area():
    """Same seed: the same draw; another seed: another; a 4x larger device: about half the σ."""
    a = mirror_mismatch("tt", 27.0, seed=3, count=30)
    b = mirror_mismatch("tt", 27.0, seed=3, count=30)
    c = mirror_mismatch("tt", 27.0, seed=4, count=30)
    sig = [r["sigma_pct"] for r in a["per_size"]]
    assert sig == [r["sigma_pct"] for r in b["per_size"]]
    assert sig != [r["sigma_pct"] for r in c["per_size"]]
    assert 2.0 < sig[0] < 8.0                      # 2 x 4 um: ~4-5%
    assert 0.3 < sig[1] / sig[0] < 0.8             # 4 x 8 um: 4x the area
    assert 8.0 < a["pelgrom_pct_um"] < 16.0


def test_unit_area():
    assert Unit(2, 4).area_um2 == 8
