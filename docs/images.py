"""Remake the pictures in docs/ from the code the README shows, so they show what it does.

    python docs/images.py                 every picture
    python docs/images.py explore.png     just that one

value_graph.png  the graph the README's "Its graph as a picture" code renders
explore.png      the page its "Watch backprop happen" code writes, in headless Chromium at
                 its last step with `a` selected (needs Playwright and a system Chromium)
mnist_curves.png the curves that `python -m demos.mnist`, the README's first command, draws

Each picture carries, as a PNG text chunk, what it was made from: the graph's DOT source
(every name, number and the legend's words) for the two graphs, the command for the
curves. tests/test_images.py runs the README's code again and checks that it still makes
exactly that, so a picture that no longer matches the README fails the suite.
"""
from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the checkout's packages

import viz  # noqa: E402
from engine.atomic import write_bytes  # noqa: E402
from viz.browser import NoBrowser, headless_chromium  # noqa: E402

DOCS = ROOT / "docs"
README = ROOT / "README.md"
KEY = "made-from"  # the PNG text chunk's keyword
WINDOW = {"width": 1280, "height": 560}  # the explorer's screenshot


def readme_code(image: str) -> str:
    """The README's last Python block before it shows docs/`image`."""
    text = README.read_text(encoding="utf-8")
    shown = text.index(f"(docs/{image})")
    blocks = re.findall(r"^```python\n(.*?)^```", text[:shown], re.DOTALL | re.MULTILINE)
    if not blocks:
        raise ValueError(f"README.md shows docs/{image} after no Python block")
    return blocks[-1]


def run_readme_code(image: str, folder: Path) -> tuple[str, Any, dict]:
    """Run the code before `image` in `folder`; (viz function, root, options) of its last
    draw_dot, render or explore call."""
    calls = []
    originals = {name: getattr(viz, name) for name in ("draw_dot", "render", "explore")}

    def recording(name: str) -> Any:
        def call(root: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append((name, root, kwargs))
            return originals[name](root, *args, **kwargs)
        return call
    cwd = Path.cwd()
    try:
        os.chdir(folder)
        for name in originals:
            setattr(viz, name, recording(name))
        exec(readme_code(image), {"__name__": "__readme__"})
    finally:
        os.chdir(cwd)
        for name, fn in originals.items():
            setattr(viz, name, fn)
    if not calls:
        raise ValueError(f"the README's code before docs/{image} draws no graph")
    return calls[-1]


def graph_source(image: str) -> str:
    """What a graph picture shows: the DOT source of the graph the README's code draws
    (for the explorer, as its page draws it)."""
    with tempfile.TemporaryDirectory() as tmp:
        name, root, options = run_readme_code(image, Path(tmp))
    draw = {k: v for k, v in options.items() if k in ("rankdir", "max_nodes", "params")}
    if name == "explore":
        draw["show_grad"] = False  # the page fills gradients in as it steps
    elif "show_grad" in options:
        draw["show_grad"] = options["show_grad"]
    return viz.draw_dot(root, **draw).source


def readme_demo() -> list[str]:
    """The demo the README's first command runs, as arguments to python: ['-m', 'demos.mnist']."""
    command = re.search(r"python -m (demos\.\w+)([^\n`&]*)", README.read_text(encoding="utf-8"))
    return ["-m", command[1], *command[2].split()]


def made_from(image: str) -> str:
    """What a picture must have been made from to be current."""
    if image == "mnist_curves.png":
        return " ".join(["python", *readme_demo()])
    return graph_source(image)


def _chunks(png: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """A PNG's chunks after its signature, each as (type, data, the whole chunk's bytes)."""
    chunks, at = [], 8
    while at < len(png):
        length, kind = struct.unpack(">I4s", png[at:at + 8])
        chunks.append((kind, png[at + 8:at + 8 + length], png[at:at + 12 + length]))
        at += 12 + length
    return chunks


def _ours(kind: bytes, data: bytes) -> bool:
    return kind == b"iTXt" and data.startswith(KEY.encode("latin-1") + b"\0")


def with_text(png: bytes, text: str) -> bytes:
    """The PNG with `text` as its iTXt chunk `KEY` (UTF-8, uncompressed), before IEND,
    in place of any it had."""
    data = KEY.encode("latin-1") + b"\0\0\0\0\0" + text.encode("utf-8")  # no compression,
    chunk = struct.pack(">I", len(data)) + b"iTXt" + data  # language or translated keyword
    chunk += struct.pack(">I", zlib.crc32(b"iTXt" + data))
    kept = [whole for kind, data_, whole in _chunks(png) if not _ours(kind, data_)]
    return png[:8] + b"".join(kept[:-1]) + chunk + kept[-1]


def text_of(png: bytes) -> str | None:
    """The text `with_text` put into a PNG, or None."""
    for kind, data, _ in _chunks(png):
        if _ours(kind, data):
            return data[len(KEY) + 5:].decode("utf-8")
    return None


def value_graph(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _, root, options = run_readme_code(out.name, Path(tmp))
        picture = viz.render(root, Path(tmp) / "graph.png", **{
            k: v for k, v in options.items() if k not in ("timeout", "max_pixels")})
        write_bytes(out, with_text(picture.read_bytes(), made_from(out.name)))


def explore_screenshot(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _, root, _ = run_readme_code(out.name, Path(tmp))
        page_path = next(Path(tmp).glob("*.html"))
        try:
            with headless_chromium() as browser:
                page = browser.new_page(viewport=WINDOW)
                page.goto(page_path.as_uri())
                page.keyboard.press("End")  # the last step: `a` gets its second contribution
                nodes = page.evaluate("JSON.parse(document.getElementById('explore-data')"
                                      ".textContent).nodes.map(n => n.name)")
                page.click(f"#graph svg g.node:has(> title:text-is('v{nodes.index('a')}'))")
                shot = page.screenshot()
        except NoBrowser as e:
            sys.exit(f"explore.png needs a browser: {e}")
    write_bytes(out, with_text(shot, made_from(out.name)))


def mnist_curves(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, *readme_demo(), "--out", tmp], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        shot = (Path(tmp) / out.name).read_bytes()
    write_bytes(out, with_text(shot, made_from(out.name)))


MAKERS = {"value_graph.png": value_graph, "explore.png": explore_screenshot,
          "mnist_curves.png": mnist_curves}


def main(argv: list[str]) -> None:
    unknown = [name for name in argv if name not in MAKERS]
    if unknown:
        sys.exit(f"docs/images.py: no picture {', '.join(unknown)}; "
                 f"the pictures are {', '.join(MAKERS)}")
    for name in argv or MAKERS:
        MAKERS[name](DOCS / name)
        print(f"wrote docs/{name}")


if __name__ == "__main__":
    main(sys.argv[1:])
