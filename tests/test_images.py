"""docs/images.py: every picture in docs/ is what the README's code makes today, and says so."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("docs_images", ROOT / "docs" / "images.py")
images = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(images)


def test_every_picture_the_readme_shows_has_a_maker_and_every_maker_a_picture():
    shown = set(re.findall(r"\]\(docs/([\w.-]+\.png)\)", images.README.read_text()))
    assert shown == set(images.MAKERS) == {p.name for p in images.DOCS.glob("*.png")}


@pytest.mark.parametrize("image", sorted(images.MAKERS))
def test_each_picture_is_made_from_what_the_readme_shows_now(image):
    png = (images.DOCS / image).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    made = images.text_of(png)
    stale = f"docs/{image} is out of date: run `python docs/images.py {image}`"
    assert made is not None, stale
    assert made == images.made_from(image), stale


def test_the_graph_pictures_record_every_name_number_and_the_legend():
    made = images.text_of((images.DOCS / "value_graph.png").read_bytes())
    for words in ("a | data 2 | grad 4.389", "b | data -3 | grad 2", "c | data 1.389 | grad 1",
                  "label=exp", "output (root)", "input, requires grad", "intermediate"):
        assert words in made


def test_the_text_chunk_is_one_a_png_reader_finds(tmp_path):
    image = pytest.importorskip("PIL.Image", reason="Pillow (a matplotlib dependency) reads it")
    png = (images.DOCS / "value_graph.png").read_bytes()
    (tmp_path / "p.png").write_bytes(images.with_text(png, "héllo ‖g‖"))
    with image.open(tmp_path / "p.png") as opened:
        opened.load()  # checks every chunk's CRC
        assert opened.text[images.KEY] == "héllo ‖g‖"
    assert images.text_of((tmp_path / "p.png").read_bytes()) == "héllo ‖g‖"


def test_the_script_refuses_a_picture_it_does_not_make():
    with pytest.raises(SystemExit, match="no picture nope.png; the pictures are value_graph.png"):
        images.main(["nope.png"])
