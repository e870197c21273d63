"""viz/render.py: files from graphs, only the file asked for, PNG size, and errors."""
from __future__ import annotations

import os
import re
import shutil
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import viz.layout
from engine import Value
from viz import RendererNotFound, draw_dot, render

SVG = "{http://www.w3.org/2000/svg}"
needs_system_dot = pytest.mark.skipif(shutil.which("dot") is None,
                                      reason="Graphviz's dot is not installed here")


@pytest.fixture
def neuron() -> Value:
    """tanh(x1 w1 + b) with x1 = 2, w1 = -3, b = 6.8814: o = 0.7071 and do/dn = 0.5."""
    x1, w1 = Value(2.0, label="x1"), Value(-3.0, label="w1")
    n = x1 * w1 + Value(6.8813735870195432, label="b")
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o


@pytest.fixture
def without_renderer(monkeypatch, without_dot, tmp_path):
    """Neither dot on PATH nor graphviz-pure anywhere pip puts commands."""
    monkeypatch.setattr(viz.layout, "_scripts_dirs", lambda: [str(tmp_path / "empty-path")])


def svg_texts(path: Path) -> list[str]:
    """The text of every <text> element of an SVG file, which must parse as XML."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return [t.text for t in root.iter(f"{SVG}text")]


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header, after checking its signature."""
    check_png_header(path)
    return struct.unpack(">II", path.read_bytes()[16:24])


def check_png_header(path: Path) -> None:
    """The file starts as a PNG does."""
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"


def check_neuron_svg(path: Path) -> None:
    """The SVG parses and shows the fixture's names, ops and hand-computed numbers."""
    texts = svg_texts(path)
    for expected in ["o", "data 0.7071", "grad 1", "x1", "data 2", "grad -1.5", "tanh", "*"]:
        assert expected in texts


def check_neuron_png(path: Path) -> None:
    """A real PNG, of a picture's size, not an empty canvas."""
    width, height = png_size(path)
    assert width > 300 and height > 100
    assert path.stat().st_size > 5000


@pytest.mark.usefixtures("without_dot")
@pytest.mark.parametrize("suffix, check", [(".svg", check_neuron_svg),
                                           (".png", check_neuron_png)])
def test_graphviz_pure_renders_svg_and_png(neuron, tmp_path, suffix, check):
    out = render(neuron, tmp_path / f"neuron{suffix}")
    assert out == tmp_path / f"neuron{suffix}"
    check(out)
    assert sorted(os.listdir(tmp_path)) == ["empty-path", f"neuron{suffix}"]  # nothing else


@needs_system_dot
@pytest.mark.parametrize("suffix, check", [(".svg", check_neuron_svg),
                                           (".png", check_neuron_png)])
def test_system_dot_renders_svg_and_png(neuron, tmp_path, suffix, check):
    check(render(neuron, tmp_path / f"neuron{suffix}"))


@needs_system_dot
def test_system_dot_renders_pdf(neuron, tmp_path):
    out = render(neuron, tmp_path / "neuron.pdf")
    assert out.read_bytes()[:5] == b"%PDF-"


def test_special_characters_reach_the_picture_intact(tmp_path, without_dot):
    render(Value(1.0, label='{a|b} <c> "d" \\e'), tmp_path / "odd.svg")
    assert '{a|b} <c> "d" \\e' in svg_texts(tmp_path / "odd.svg")


AMPERSANDS = "AT&amp;T &lt;3 R&D"  # a label that reads like HTML entities, drawn as written


@pytest.mark.usefixtures("without_dot")
def test_html_entities_in_labels_are_drawn_literally_by_graphviz_pure(tmp_path):
    render(Value(1.0, label=AMPERSANDS), tmp_path / "amp.svg")
    assert AMPERSANDS in svg_texts(tmp_path / "amp.svg")


@needs_system_dot
def test_html_entities_in_labels_are_drawn_literally_by_system_dot(tmp_path):
    render(Value(1.0, label=AMPERSANDS), tmp_path / "amp.svg")
    assert AMPERSANDS in svg_texts(tmp_path / "amp.svg")


def test_a_cut_graph_renders_its_marker(tmp_path, without_dot):
    v = Value(0.0)
    for _ in range(3000):
        v = v + 1.0
    texts = svg_texts(render(v, tmp_path / "chain.svg", max_nodes=50))
    assert "2,951 more nodes" in texts


def test_suffixes_are_read_in_any_case(neuron, tmp_path, without_dot):
    render(neuron, tmp_path / "G.SVG")
    check_neuron_svg(tmp_path / "G.SVG")
    render(neuron, tmp_path / "g.DOT")
    assert (tmp_path / "g.DOT").read_text() == draw_dot(neuron).source


def test_dot_needs_no_layout_program(neuron, tmp_path, without_renderer):
    out = render(neuron, tmp_path / "g.dot", rankdir="TB")
    assert out.read_text() == draw_dot(neuron, rankdir="TB").source


def test_no_renderer_says_what_to_install_and_keeps_the_dot(neuron, tmp_path, without_renderer):
    with pytest.raises(RendererNotFound, match="pip install graphviz-pure") as e:
        render(neuron, tmp_path / "g.svg")
    assert "Graphviz" in str(e.value)
    assert f"saved in {tmp_path / 'g.dot'}" in str(e.value)
    assert (tmp_path / "g.dot").read_text() == draw_dot(neuron).source
    assert sorted(os.listdir(tmp_path)) == ["empty-path", "g.dot"]  # no svg, no temp file


def test_pdf_without_system_dot_says_it_needs_graphviz(neuron, tmp_path, without_dot):
    with pytest.raises(RendererNotFound, match="PDF output needs Graphviz's `dot`"):
        render(neuron, tmp_path / "g.pdf")
    assert (tmp_path / "g.dot").exists()
    assert not (tmp_path / "g.pdf").exists()


def test_a_finished_digraph_renders_as_is(neuron, tmp_path, without_dot):
    dot = draw_dot(neuron, show_grad=False)
    texts = svg_texts(render(dot, tmp_path / "g.svg"))
    assert "data 0.7071" in texts and "grad 1" not in texts


def test_a_digraph_with_draw_options_is_refused(neuron, tmp_path):
    with pytest.raises(TypeError, match=re.escape("draw options ['rankdir']; pass the root")):
        render(draw_dot(neuron), tmp_path / "g.svg", rankdir="TB")


@pytest.mark.parametrize("name, error, match", [
    ("g.jpg", ValueError, "one of .dot, .svg, .png, .pdf; got '.jpg'"),
    ("g", ValueError, "the suffix must be .*; it has none"),
    ("missing/g.svg", FileNotFoundError, "folder .*missing does not exist"),
])
def test_bad_paths_are_named(neuron, tmp_path, name, error, match):
    with pytest.raises(error, match=match) as e:
        render(neuron, tmp_path / name)
    assert str(tmp_path / name) in str(e.value)


def test_a_folder_as_the_path_is_refused(neuron, tmp_path):
    (tmp_path / "pic.svg").mkdir()
    with pytest.raises(IsADirectoryError, match="pic.svg: it is a folder"):
        render(neuron, tmp_path / "pic.svg")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root may write into read-only folders")
def test_a_read_only_folder_is_refused(neuron, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    with pytest.raises(PermissionError, match="locked"):
        render(neuron, locked / "g.svg")


def test_a_failed_write_names_the_path_and_leaves_no_temp_file(neuron, tmp_path, monkeypatch,
                                                               without_dot):
    replace = os.replace

    def refuse_svg(src, dst):
        if str(dst).endswith(".svg"):
            raise PermissionError(13, "Permission denied")
        replace(src, dst)
    monkeypatch.setattr(os, "replace", refuse_svg)
    with pytest.raises(PermissionError, match=r"cannot write .*g\.svg: Permission denied"):
        render(neuron, tmp_path / "g.svg")
    assert sorted(os.listdir(tmp_path)) == ["empty-path"]


def chain(n: int) -> Value:
    """n additions in a row: a graph that lays out n + 1 records wide."""
    v = Value(0.0, label="start")
    for _ in range(n):
        v = v + 1.0
    return v


def test_a_big_png_is_scaled_down_and_its_svg_kept_full(tmp_path, without_dot):
    root = chain(60)
    full = png_size(render(root, tmp_path / "full.png", max_pixels=None))
    assert max(full) > 4000  # the case to guard against
    capped = png_size(render(root, tmp_path / "capped.png"))
    assert max(capped) == pytest.approx(4000, abs=2)
    assert capped[0] / capped[1] == pytest.approx(full[0] / full[1], rel=0.02)  # same shape
    small = png_size(render(root, tmp_path / "small.png", max_pixels=500))
    assert max(small) == pytest.approx(500, abs=2)
    width_pt = float(ET.parse(render(root, tmp_path / "g.svg")).getroot().get("width")[:-2])
    assert width_pt * 144 / 72 == pytest.approx(max(full), rel=0.02)  # SVG: full size


def test_a_small_png_is_not_scaled_up(neuron, tmp_path, without_dot):
    assert png_size(render(neuron, tmp_path / "a.png")) == \
        png_size(render(neuron, tmp_path / "b.png", max_pixels=None))


@pytest.mark.parametrize("label", ["nul\x00byte", "\x00", "bell\x07 and tab\t"])
@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_control_characters_in_labels_render(tmp_path, without_dot, label, suffix):
    out = render(Value(1.5, label=label), tmp_path / f"g{suffix}")
    if suffix == ".svg":
        assert repr(label)[1:-1] in svg_texts(out)  # shown as escapes, nothing lost
    else:
        check_png_header(out)


@pytest.mark.skipif(os.name != "posix", reason="uses a shell script as a stand-in program")
def test_a_layout_failure_saves_the_dot_source_and_says_where(neuron, tmp_path, monkeypatch):
    broken = tmp_path / "bin" / "dot"
    broken.parent.mkdir()
    broken.write_text("#!/bin/sh\necho 'out of memory' >&2\nexit 3\n")
    broken.chmod(0o755)
    monkeypatch.setenv("PATH", str(broken.parent))  # dot fails, and it writes PDF alone
    with pytest.raises(RuntimeError, match="out of memory") as e:
        render(neuron, tmp_path / "g.pdf")
    assert f"saved in {tmp_path / 'g.dot'}" in str(e.value)
    assert (tmp_path / "g.dot").read_text() == draw_dot(neuron).source
    assert not (tmp_path / "g.pdf").exists()
