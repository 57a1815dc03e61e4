"""`cosim verify --html`: the one-page report, rendered in headless Chromium (a real
behavioral verify run, a synthetic transistor-level report) and escaped."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cosim.errors import InputError
from cosim.verify.html import SECTIONS, render, render_html
from cosim.verify.report import command_line

ROOT = Path(__file__).resolve().parents[1]


def _chromium() -> str:
    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail("chromium is not installed: run `make setup` (as root it apt-get installs chromium) "
                    "or `apt-get install -y chromium`")
    return exe


def screenshot(page: Path, tmp: Path) -> np.ndarray:
    """Render `page` in headless Chromium (1200 x 8000 px); the screenshot as an RGB array."""
    png = tmp / f"{page.parent.name}_shot.png"
    home = tmp / "chromium_home"
    home.mkdir(exist_ok=True)
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={png}",
           "--window-size=1200,8000", page.resolve().as_uri()]
    r = subprocess.run(cmd, env={**os.environ, "HOME": str(home)}, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and png.is_file(), r.stderr[-2000:]
    from PIL import Image     # matplotlib's dependency

    with Image.open(png) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float64)


def assert_not_blank(img: np.ndarray) -> None:
    assert img.shape == (8000, 1200, 3)
    assert img.std() > 5.0                                   # a blank page is 0
    assert (img.min(axis=2) < 240).mean() > 0.01             # text, tables, figures
    assert ((img.max(axis=2) - img.min(axis=2)) > 60).mean() > 5e-4   # coloured plot lines: PNGs decoded


def assert_page(text: str) -> None:
    for s in SECTIONS:
        assert f'<section id="{s}"><h2>' in text, s
    assert 'src="data:image/png;base64,' in text
    low = text.lower()
    assert "<script" not in low and "http://" not in low and "https://" not in low and "<link" not in low


@pytest.fixture(scope="module")
def verified(tmp_path_factory):
    """One behavioral `cosim verify --html` of the flip-flop (2 sequences, ~7 s)."""
    out = tmp_path_factory.mktemp("ff") / "report"
    r = subprocess.run([sys.executable, "-m", "cosim.cli", "verify", str(ROOT / "models" / "bmru_flipflop"),
                        "--sequences", "2", "--quiet", "--html", "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"page: {out / 'report.html'}" in r.stdout
    return out


def test_verify_html_renders_in_chromium(verified, tmp_path):
    text = (verified / "report.html").read_text()
    assert_page(text)
    assert text.count('src="data:image/png;base64,') == 3     # hysteresis, fixed points, states
    rep = json.loads((verified / "report.json").read_text())
    assert rep["command"].startswith("cosim verify ") and "--html" in rep["command"]
    assert rep["command"] in text.replace("&#x27;", "'")
    assert "No CMRU layer in this model" in text                 # a BMRU: the ladder section says why it is empty
    assert "No Monte Carlo study in this folder" in text and "cosim montecarlo" in text
    assert "No transistor-level measurement" in text
    assert "cosim hysteresis " in text and "--layer 0 --bits 6 --out" in text   # figure commands
    assert_not_blank(screenshot(verified / "report.html", tmp_path))


def test_render_again_without_simulating(verified):
    first = (verified / "report.html").read_text()
    assert render_html(verified) == verified / "report.html"
    assert (verified / "report.html").read_text() == first      # the same page from the same folder
    assert not list(verified.glob(".report.html.*"))           # the temp file was renamed, not left


def _transistor_report() -> dict:
    """The key structure of a real `verify --level transistor` report, two entries."""
    def entry(corner, temp, agree, nw):
        return {"corner": corner, "temp_c": temp, "state_agreement": agree, "agreement_non_tie": agree,
                "n_disagreements": int((1 - agree) * 4000), "n_ties": 1, "states": 4000, "per_layer": [agree, 1.0],
                "decision_agreement": 1.0, "circuit_score": 0.8, "software_score": 0.8, "output_error_max": 1.5,
                "output_scale": 19.1, "cells": [{"layer": 0, "channel": 2, "count": 12, "margin_min": 0.001,
                                                 "margin_median": 0.009, "margin_median_of_window": 0.043}],
                "disagreements": [], "levels": {"first-quadrant cell": "transistor"}, "wall_s": 41.0,
                "power": {"per_layer": [{"mean_nw": nw * 0.45, "cell_nw_min": 7.6, "cell_nw_max": 11.8},
                                        {"mean_nw": nw * 0.55, "cell_nw_min": 9.8, "cell_nw_max": 14.1}],
                          "total_nw": nw, "energy_per_step_pj": nw * 10, "energy_per_sequence_nj": nw,
                          "estimate_over_measured": 1.02},
                "ngspice_wall_s": 80.0, "ok": agree >= 0.99}
    # the tt entry records no supply: reports written before the supply axis ran at 1.8 V
    m = [entry("tt", 27.0, 0.99697, 87.98), entry("ff", -20.0, 0.933, 123.4) | {"vdd_v": 1.62}]
    return {"model": "models/kws_fq_bmru", "bits": 6, "level": "transistor", "pdk": "sky130",
            "calibration": "tt/27 C", "sigma_target": 0.05, "max_step_s": None, "sequences": 10, "steps": 100,
            "task": "classify_last", "matrix": m, "ok": False, "plots": ["transistor_matrix.png"],
            "power_estimate": {"cells_nw_per_layer": [39.1, 51.3], "cells_nw": 90.4, "mirrors_nw": 102.3,
                               "banks_nw": {"proj": 35.4, "l0 candidate": 25.5, "readout": 25.3},
                               "total_nw": 192.8, "energy_per_step_pj": 1928.0, "energy_per_sequence_nj": 192.8},
            "command": "cosim verify models/kws_fq_bmru --level transistor --corners tt,ff --temps=-20,27 --out R"}


def test_transistor_report_page(tmp_path):
    from cosim.verify.transistor import plot_matrix

    folder = tmp_path / "sky130"
    folder.mkdir()
    rep = _transistor_report()
    (folder / "report.json").write_text(json.dumps(rep))
    plot_matrix(rep, folder / "transistor_matrix.png")          # the real heat map of this matrix
    text = render_html(folder).read_text()
    assert_page(text)
    agreement = text.split('<section id="agreement">')[1].split("</section>")[0]
    assert "Corner x supply x temperature matrix" in agreement and "-20 °C" in agreement and "93.30%" in agreement
    assert "1.62 V" in agreement and "1.8 V" in agreement
    assert "FAIL" in agreement and "transistor_matrix.png" in agreement and "data:image/png;base64," in agreement
    power = text.split('<section id="power">')[1].split("</section>")[0]
    for figure in ("88", "123", "880", "39.6 (7.6–11.8)", "1.02", "mirror bank proj", "193"):
        assert figure in power, figure
    hyst = text.split('<section id="hysteresis">')[1].split("</section>")[0]
    assert "not run at transistor level" in hyst
    assert "transistor report keeps no hardware IR" in text
    assert "--corners tt,ff" in text.split('<section id="commands">')[1]
    assert_not_blank(screenshot(folder / "report.html", tmp_path))


def test_strings_from_the_report_and_paths_are_escaped(tmp_path):
    evil = "<script>alert(1)</script>"
    folder = tmp_path / '<b onmouseover="x">dir'
    folder.mkdir()
    rep = {"model": f"models/{evil}", "bits": 6, "seed": 0, "ir": "../x.hw.json", "command": f"cosim verify '{evil}'",
           "hysteresis": {"cells": [{"layer": 0, "channel": 0, "kind": evil, "note": evil}], "max_error_frac": 0.0,
                          "ok": True},
           "ladder": {}, "agreement": {"sequences": 1, "steps": 2, "disagreements": [{"kind": evil}], "ok": False},
           "adversarial": {"families": {evil: {"states": evil}}, "seed": evil, "ok": True},
           "margins": {"quantized": {"layers": [{"kind": evil, "channels_with_ties": [evil]}]}, "float": None},
           "montecarlo": {"runs": 1, "mismatch": {evil: 0.05}, "engine": evil}}
    (folder / "report.json").write_text(json.dumps(rep))
    text = render_html(folder).read_text()
    assert evil not in text and "<script" not in text.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert '<b onmouseover' not in text and "&lt;b onmouseover=&quot;x&quot;&gt;dir" in text
    assert all(f'<section id="{s}">' in text for s in SECTIONS)


def test_a_malformed_section_says_so_and_the_page_still_renders(tmp_path):
    text = render({"model": "m", "hysteresis": {"cells": "not a list", "ok": True}, "margins": 7}, tmp_path)
    assert all(f'<section id="{s}">' in text for s in SECTIONS)
    assert "could not be read from the report" in text


def test_render_html_needs_a_report(tmp_path):
    with pytest.raises(InputError, match="report.json"):
        render_html(tmp_path)


def test_command_line_is_recorded_only_for_cosim_verify():
    assert command_line(["verify", "models/a b", "--out", "r"]) == "cosim verify 'models/a b' --out r"
    assert command_line(["-q", "tests/test_html.py"]) is None
