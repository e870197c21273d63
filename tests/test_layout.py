"""viz/layout.py: which layout programs are found, in what order, and falling back between them."""
from __future__ import annotations

import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import viz.layout
from viz.layout import (QUIET_NODES, SLOW_NODES, SLOW_TIMEOUT, LayoutTooSlow,
                        RendererNotFound, find_programs, graph_size, layout)

SVG_ROOT = "{http://www.w3.org/2000/svg}svg"
posix_only = pytest.mark.skipif(os.name != "posix", reason="uses shell scripts as stand-ins")


@pytest.fixture
def bin_dir(monkeypatch, tmp_path) -> Path:
    """An empty folder that is all of PATH: no system `dot` unless a test puts one there."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


def fake_dot(folder: Path, script: str) -> Path:
    """A shell script named `dot` in folder, standing in for Graphviz's."""
    path = folder / "dot"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return path


def test_graphviz_pure_is_found_beside_the_interpreter_without_path(bin_dir):
    (program,) = find_programs("svg")
    assert Path(program).name.startswith("graphviz-pure")
    # pip puts it beside the interpreter (a virtualenv's bin), or in sysconfig's scripts
    assert Path(program).parent in [Path(sys.executable).parent] + \
        [Path(d) for d in viz.layout._scripts_dirs()]


@posix_only
def test_system_dot_comes_first_and_alone_writes_pdf(bin_dir):
    dot = str(fake_dot(bin_dir, ""))
    assert find_programs("svg")[0] == dot and "graphviz-pure" in find_programs("svg")[1]
    assert find_programs("pdf") == [dot]


@pytest.mark.parametrize("fmt, message", [
    ("svg", "no layout program found.*pip install graphviz-pure"),
    ("pdf", "PDF output needs Graphviz's `dot`"),
])
def test_no_program_says_what_to_install(bin_dir, monkeypatch, fmt, message):
    monkeypatch.setattr(viz.layout, "_scripts_dirs", lambda: [str(bin_dir)])
    with pytest.raises(RendererNotFound, match=message):
        find_programs(fmt)


def test_layout_errors_carry_the_program_message():
    with pytest.raises(RuntimeError, match="syntax error"):
        layout("digraph { a -> }", "svg")


@posix_only
def test_a_hanging_program_is_stopped_at_the_timeout(tmp_path):
    slow = fake_dot(tmp_path, "exec sleep 10")  # exec: the timeout's kill reaches sleep
    with pytest.raises(TimeoutError, match="took more than 0.3 s.*max_nodes"):
        layout("digraph { a }", "svg", timeout=0.3, program=str(slow))


@posix_only
@pytest.mark.parametrize("script", ["exec sleep 10", "echo 'trouble in init_rank' >&2; exit 1"],
                         ids=["times out", "fails"])
def test_when_system_dot_times_out_or_fails_graphviz_pure_draws(bin_dir, script):
    fake_dot(bin_dir, script)
    svg = layout('digraph { a -> b [label="edge"] }', "svg", timeout=1.0)
    texts = [t.text for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert ET.fromstring(svg).tag == SVG_ROOT and {"a", "b", "edge"} <= set(texts)


@posix_only
def test_when_every_program_fails_both_reasons_are_given(bin_dir):
    fake_dot(bin_dir, "echo 'dot gave up' >&2; exit 1")
    with pytest.raises(RuntimeError, match="dot gave up.*; then .*graphviz-pure.*syntax error"):
        layout("digraph { a -> }", "svg")


@pytest.mark.parametrize("max_pixels", [0, -5, 2.5, "4000"])
def test_a_bad_max_pixels_is_named(max_pixels):
    with pytest.raises(ValueError, match="max_pixels must be a positive int or None"):
        layout("digraph { a }", "png", max_pixels=max_pixels)


def chain_source(nodes: int) -> str:
    """DOT source of a chain of `nodes` record nodes, written as graphviz writes it."""
    lines = [f'\tv{i} [label="v{i} | data 1" shape=record]' for i in range(nodes)]
    lines += [f"\tv{i} -> v{i + 1}" for i in range(nodes - 1)]
    return "digraph {\n\tgraph [rankdir=LR]\n" + "\n".join(lines) + "\n}\n"


def test_graph_size_counts_node_and_edge_statements():
    assert graph_size(chain_source(5)) == (5, 4)
    assert graph_size('digraph {\n\tnode [shape=box]\n\t"a b" [label="x -> y"]\n'
                      '\t"a b" -> c [style=dashed]\n}') == (1, 1)


@pytest.fixture
def runs(monkeypatch) -> list:
    """The layout programs' runs, each as what had been printed on stderr when it started;
    no program really runs."""
    calls = []

    def fake_run(program, source, fmt, timeout, max_pixels):
        calls.append(sys.stderr.getvalue() if hasattr(sys.stderr, "getvalue") else "")
        return b"<svg/>"
    monkeypatch.setattr(viz.layout, "_run", fake_run)
    return calls


def test_a_small_graph_is_laid_out_without_a_word(runs, capsys):
    layout(chain_source(QUIET_NODES), "svg", program="dot")
    assert len(runs) == 1 and capsys.readouterr().err == ""


def test_a_big_graph_is_announced_before_the_layout_starts(runs, capsys):
    layout(chain_source(QUIET_NODES + 1), "svg", program="dot")
    err = capsys.readouterr().err
    assert err.startswith(f"viz: laying out {QUIET_NODES + 1:,} nodes and {QUIET_NODES:,} "
                          "edges, which can take up to a minute")
    assert "max_nodes=2000" in err and len(runs) == 1 and err in runs[0]  # said first


def test_a_huge_graph_is_refused_up_front_unless_the_time_is_allowed(runs, capsys):
    with pytest.raises(LayoutTooSlow, match=r"a graph of 10,001 nodes and 10,000 edges can take "
                       r"many minutes.*max_nodes=2000.*timeout=300 or more"):
        layout(chain_source(SLOW_NODES + 1), "svg", timeout=60, program="dot")
    assert runs == [] and capsys.readouterr().err == ""
    layout(chain_source(SLOW_NODES + 1), "svg", timeout=SLOW_TIMEOUT, program="dot")
    assert len(runs) == 1 and "up to many minutes" in capsys.readouterr().err


def test_render_of_a_huge_graph_keeps_its_source_and_gives_the_advice(tmp_path, runs):
    from viz import render
    from engine import Value
    v = Value(0.0)
    for _ in range(SLOW_NODES):
        v = v + 1.0
    with pytest.raises(LayoutTooSlow, match="max_nodes=2000.*saved in .*chain.dot"):
        render(v, tmp_path / "chain.svg", max_nodes=None)
    assert runs == [] and (tmp_path / "chain.dot").exists()
