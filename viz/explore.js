// explore.js: replays a recorded forward and backward pass on the graph's SVG, step by step.
//
// viz/explore.py inlines this file into the page after the JSON it recorded
// (script#explore-data). Nothing here computes a gradient: every number shown comes from that
// JSON, which holds each parent's grad before and after the engine's own backward rule ran.
// The SVG is draw_dot's: node v{i} is data.nodes[i], op{i} is the op that made it, and edges
// carry titles such as "v3->op1", which is how the elements are found here.
//
// The view: the graph is drawn at a zoom (CSS pixels per SVG unit) and scrolled in its pane.
// Following a step keeps its nodes in sight at a zoom where their text is at least
// MIN_TEXT_PX tall, rather than shrinking the whole graph into the pane; the reader zooms
// (buttons, + and -, Ctrl + wheel) and pans (drag, scroll bars) at will.
"use strict";
(function () {
  const SVGNS = "http://www.w3.org/2000/svg";
  const PLAY_MS = 700;
  const MIN_TEXT_PX = 11; // the smallest text a step's nodes are shown at while following
  const MAX_ZOOM = 4;
  const NATURAL = 4 / 3; // CSS pixels per SVG unit (a point) at the size Graphviz drew
  const data = JSON.parse(document.getElementById("explore-data").textContent);
  const nodes = data.nodes;
  const steps = data.steps;
  const graphPane = document.getElementById("graph");
  const svg = graphPane.querySelector("svg");
  const forwardCount = steps.filter((s) => s.kind === "forward").length;

  // --- numbers as text ---

  // 4 significant digits and a real minus sign; nan and inf arrive as strings
  function fmt(x) {
    if (typeof x === "string") return x;
    return String(Number(x.toPrecision(4))).replace(/-/g, "\u2212");
  }

  function fmtGrad(g) {
    if (g === null) return "none";
    if (typeof g === "object") return "\u2016g\u2016 " + fmt(g.norm) + ", mean " + fmt(g.mean);
    return fmt(g);
  }

  function ordinal(n) {
    return n + (n === 1 ? "st" : n === 2 ? "nd" : n === 3 ? "rd" : "th");
  }

  // a DOM element with attributes and children (strings become text, never HTML)
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const c of children) e.append(c);
    return e;
  }

  // --- the SVG elements of every node ---

  const byTitle = new Map(); // title -> every g with it (an edge drawn twice for a * a)
  for (const g of svg.querySelectorAll("g.node, g.edge")) {
    const title = g.querySelector("title");
    if (!title) continue;
    const key = title.textContent;
    if (!byTitle.has(key)) byTitle.set(key, []);
    byTitle.get(key).push(g);
  }
  const find = (title) => byTitle.get(title) || [];

  const children = nodes.map(() => []);
  const view = nodes.map((node, i) => {
    const box = find("v" + i)[0];
    const parentEdges = node.parents.flatMap(
      (p) => find((p === null ? "cut" : "v" + p) + "->op" + i));
    const ownEdge = find("op" + i + "->v" + i);
    for (const p of node.parents) {
      if (p !== null && !children[p].includes(i)) children[p].push(i);
    }
    return {
      box: box,
      op: find("op" + i)[0] || null,
      parentEdges: parentEdges,
      all: [box, ...find("op" + i), ...ownEdge, ...parentEdges],
      badge: null,
    };
  });

  // --- an overlay for everything that changes while stepping: grad badges, highlights ---
  // Any change inside the graph's own SVG makes the browser repaint all of it (thousands of
  // elements for 500 nodes); the overlay, a second SVG over the first with the same
  // coordinates, is small, so a backward step repaints little. Only forward steps, which
  // reveal nodes, touch the graph itself. Each SVG is its own composited layer (the page's
  // style sheet), so a change in one never repaints the other: in headless Chromium that
  // took the slowest step of a 500-node page from about 100 ms to about 30 ms.

  const BADGE_ROOM = 16; // room under the lowest nodes for their badges
  const vb = svg.viewBox.baseVal;
  svg.setAttribute("viewBox", [vb.x, vb.y, vb.width, vb.height + BADGE_ROOM].join(" "));
  const graphWidth = vb.width;
  const graphHeight = vb.height;

  const canvas = el("div", { id: "canvas" });
  svg.before(canvas);
  const overlay = document.createElementNS(SVGNS, "svg");
  overlay.setAttribute("class", "overlay");
  overlay.setAttribute("viewBox", svg.getAttribute("viewBox"));
  canvas.append(svg, overlay);
  function layer() {
    const g = document.createElementNS(SVGNS, "g");
    g.setAttribute("transform", svg.querySelector("g.graph").getAttribute("transform"));
    overlay.append(g);
    return g;
  }
  const marks = layer(); // highlights of the current step and the selected node
  const badges = layer();

  function svgElement(tag, attrs) {
    const e = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  }

  // boxes never move, so each is measured once: getBBox() after a step has changed the
  // page would make the browser lay it out again there and then
  const boxes = new Map();
  function bbox(element) {
    if (!boxes.has(element)) boxes.set(element, element.getBBox());
    return boxes.get(element);
  }

  nodes.forEach((node, i) => {
    const bb = bbox(view[i].box);
    view[i].badge = svgElement("text", {
      class: "badge", x: bb.x + bb.width / 2, y: bb.y + bb.height + 12,
      "text-anchor": "middle", "data-node": i,
    });
    badges.append(view[i].badge);
    view[i].box.addEventListener("click", () => select(i));
    if (view[i].op) view[i].op.addEventListener("click", () => select(i));
  });

  // an outline around a node's box or op, or a copy of an edge, drawn on the overlay
  function outline(element, cls) {
    if (element.classList.contains("edge")) {
      const copy = element.cloneNode(true);
      copy.querySelector("title").remove();
      copy.removeAttribute("id");
      copy.setAttribute("class", "mark " + cls);
      return copy;
    }
    const bb = bbox(element);
    const pad = 2;
    return svgElement("rect", {
      class: "mark " + cls, x: bb.x - pad, y: bb.y - pad, width: bb.width + 2 * pad,
      height: bb.height + 2 * pad, rx: element.querySelector("ellipse") ? bb.height / 2 + pad : 0,
    });
  }

  // --- the replay's state: steps[0 .. at-1] are applied ---

  let at = 0;
  let selected = null;
  let timer = null;
  const grad = nodes.map((n) => n.zero);
  const count = nodes.map(() => 0); // contributions received so far
  const shown = nodes.map(() => false);
  let fresh = []; // badges that changed in the current step

  function tspan(cls, text) {
    const t = document.createElementNS(SVGNS, "tspan");
    if (cls) t.setAttribute("class", cls);
    t.textContent = text;
    return t;
  }

  function drawBadge(i) {
    const node = nodes[i];
    const g = grad[i];
    // the name the picture does not show already: an unnamed node's v3, a shared name's (v3)
    const parts = [tspan(null, node.name === node.shown ? "" : node.name + " \u00b7 ")];
    if (g !== null && typeof g === "object") {
      parts.push(tspan(null, "\u2016grad\u2016 "), tspan("gnorm", fmt(g.norm)),
        tspan(null, " mean "), tspan("gmean", fmt(g.mean)));
    } else {
      parts.push(tspan(null, "grad "), tspan(g === null ? "gnone" : "gvalue", fmtGrad(g)));
    }
    if (count[i] > 1) parts.push(tspan("gcount", " (" + count[i] + " contributions)"));
    view[i].badge.replaceChildren(...parts);
    view[i].badge.classList.toggle("pending", !shown[i]);
  }

  function drawNode(i) {
    // the graph's own SVG is touched only when a node is revealed or hidden (see above)
    if (view[i].all[0].classList.contains("pending") === shown[i]) {
      for (const e of view[i].all) e.classList.toggle("pending", !shown[i]);
    }
    drawBadge(i);
  }

  // apply steps[k] (dir = +1) or undo it (dir = -1); returns the nodes it changed
  function apply(k, dir) {
    const step = steps[k];
    if (step.kind === "forward") {
      shown[step.node] = dir > 0;
      return [step.node];
    }
    for (const e of step.entries) {
      grad[e.node] = dir > 0 ? e.after : e.before;
      count[e.node] += dir;
    }
    return step.entries.map((e) => e.node);
  }

  // --- the view: zoom, pan, and following the steps ---

  const followBox = document.getElementById("follow");
  let zoom = 1;
  let whole = false; // the reader asked for the whole graph: resizing the window keeps it so

  // the zoom at which the smallest text of these elements shows at MIN_TEXT_PX
  function readableZoom(elements) {
    const sizes = elements
      .flatMap((e) => (e.tagName === "text" ? [e] : [...e.querySelectorAll("text")]))
      .map((t) => parseFloat(t.getAttribute("font-size") || getComputedStyle(t).fontSize))
      .filter((size) => size > 0);
    return MIN_TEXT_PX / Math.min(...sizes);
  }
  // the zoom at which every node's, op's and badge's text can be read
  const readable = readableZoom(view.flatMap((v) => [v.box, v.op].filter((e) => e))
    .concat([view[0].badge]));

  function setZoom(z, atX, atY) {
    // keep the graph point under (atX, atY), client coordinates, where it is
    z = Math.min(MAX_ZOOM, Math.max(0.02, z));
    const pane = graphPane.getBoundingClientRect();
    const x = atX === undefined ? pane.left + graphPane.clientWidth / 2 : atX;
    const y = atY === undefined ? pane.top + graphPane.clientHeight / 2 : atY;
    const c = canvas.getBoundingClientRect();
    const ux = (x - c.left) / zoom;
    const uy = (y - c.top) / zoom;
    zoom = z;
    svg.style.width = graphWidth * z + "px";
    svg.style.height = (graphHeight + BADGE_ROOM) * z + "px";
    graphPane.scrollLeft = canvas.offsetLeft + ux * z - (x - pane.left);
    graphPane.scrollTop = canvas.offsetTop + uy * z - (y - pane.top);
    document.getElementById("zoom").textContent = Math.round((100 * z) / NATURAL) + "%";
  }

  // the zoom at which the whole graph fits the pane (at most twice its natural size)
  function wholeZoom() {
    const margin = 2 * canvas.offsetLeft;
    return Math.min(2 * NATURAL, (graphPane.clientWidth - margin) / graphWidth,
      (graphPane.clientHeight - margin) / (graphHeight + BADGE_ROOM));
  }

  function showWhole() {
    setZoom(wholeZoom());
    graphPane.scrollLeft = 0;
    graphPane.scrollTop = 0;
    whole = true;
  }

  // the part of the pane's client area that shows the graph
  function paneArea() {
    const r = graphPane.getBoundingClientRect();
    return { left: r.left, top: r.top, right: r.left + graphPane.clientWidth,
      bottom: r.top + graphPane.clientHeight };
  }

  function union(rects) {
    return {
      left: Math.min(...rects.map((r) => r.left)), top: Math.min(...rects.map((r) => r.top)),
      right: Math.max(...rects.map((r) => r.right)),
      bottom: Math.max(...rects.map((r) => r.bottom)),
    };
  }

  // bring elements into sight at a readable zoom: all of them when they fit, else the first
  // (the step's own node); the view moves only when something is out of sight
  function follow(elements) {
    if (!followBox.checked || !elements.length) return;
    const pad = 12;
    let area = paneArea();
    let box = union(elements.map((e) => e.getBoundingClientRect()));
    const fit = (r) => Math.min((area.right - area.left - 2 * pad) / (r.right - r.left),
      (area.bottom - area.top - 2 * pad) / (r.bottom - r.top));
    // zoom out to fit them while their text stays readable; zoom in until it is. The step's
    // own node, when it is wider than the pane at that zoom (a narrow window), may go
    // smaller, as long as its own text stays readable (its op's and badge's a little less)
    const least = Math.min(readable, Math.max(readableZoom([elements[0]]),
      zoom * fit(elements[0].getBoundingClientRect())));
    const target = Math.max(least, Math.min(zoom, zoom * fit(box)));
    if (target !== zoom) {
      const first = elements[0].getBoundingClientRect();
      setZoom(target, (first.left + first.right) / 2, (first.top + first.bottom) / 2);
      whole = false;
      area = paneArea();
      box = union(elements.map((e) => e.getBoundingClientRect()));
    }
    if (box.right - box.left > area.right - area.left - 2 * pad ||
        box.bottom - box.top > area.bottom - area.top - 2 * pad) {
      box = elements[0].getBoundingClientRect();
    }
    if (box.left >= area.left + pad && box.right <= area.right - pad &&
        box.top >= area.top + pad && box.bottom <= area.bottom - pad) return;
    graphPane.scrollLeft += (box.left + box.right - area.left - area.right) / 2;
    graphPane.scrollTop += (box.top + box.bottom - area.top - area.bottom) / 2;
  }

  // what a step shows: its node, the op that made it, and the nodes it sends gradient to
  function stepElements(step) {
    const focus = [];
    if (step.node !== null) {
      const v = view[step.node];
      focus.push(v.box, v.badge);
      if (v.op) focus.push(v.op);
    }
    for (const e of step.entries || []) focus.push(view[e.node].box, view[e.node].badge);
    return focus;
  }

  function highlight() {
    for (const b of fresh) b.classList.remove("fresh");
    fresh = [];
    const drawn = [];
    if (selected !== null) drawn.push(outline(view[selected].box, "selected"));
    const step = at > 0 ? steps[at - 1] : null;
    if (step && step.node !== null) {
      const v = view[step.node];
      if (step.kind === "backward") drawn.push(...v.parentEdges.map((e) => outline(e, "flow")));
      drawn.push(outline(v.box, "active"));
      if (v.op) drawn.push(outline(v.op, "active"));
    }
    for (const e of (step && step.entries) || []) {
      drawn.push(outline(view[e.node].box, "receiving"));
      view[e.node].badge.classList.add("fresh");
      fresh.push(view[e.node].badge);
    }
    marks.replaceChildren(...drawn);
    if (step) follow(stepElements(step));
  }

  function nodeLink(i) {
    const a = el("a", { class: "node-link" }, nodes[i].name);
    a.addEventListener("click", () => select(i));
    return a;
  }

  function drawStep() {
    const panel = document.getElementById("step");
    if (at === 0) {
      panel.replaceChildren(el("h2", {}, "Start"), el("p", {},
        "The forward pass computes every node from its parents; the backward pass then " +
        "runs each node's rule, in reverse order, adding its gradient times the local " +
        "derivative into its parents' grads. Press \u2192 or Next to step, or click a node."));
      return;
    }
    const step = steps[at - 1];
    const phase = step.kind === "forward"
      ? "Forward " + at + " / " + forwardCount
      : "Backward " + (at - forwardCount) + " / " + (steps.length - forwardCount);
    const parts = [el("h2", {}, phase), el("p", {}, step.text)];
    for (const e of step.entries || []) {
      const nth = count[e.node];
      const change = el("div", { class: "change" }, nodeLink(e.node),
        ".grad " + fmtGrad(e.before) + " \u2192 " + fmtGrad(e.after));
      if (nth > 1 && !e.nothing) { // a contribution of zeros is no news
        change.append(" ", el("span", { class: "nth" }, "(" + ordinal(nth) + " contribution: " +
          nodes[e.node].name + " is used more than once, and its gradients add up)"));
      }
      parts.push(el("div", { class: "rule" }, e.rule), change);
    }
    panel.replaceChildren(...parts);
  }

  function recordRow(name, ...value) {
    return el("tr", {}, el("td", {}, name), el("td", {}, ...value));
  }

  function dataText(d) {
    if (typeof d !== "object") return fmt(d);
    if (!d.entries) return "empty";
    // stats are of the finite entries; nan, inf and -inf ones (a mask's) are counted apart
    const parts = d.mean === undefined ? [] : ["mean " + fmt(d.mean) + ", std " + fmt(d.std) +
      ", min " + fmt(d.min) + ", max " + fmt(d.max)];
    for (const k of ["nan", "inf", "-inf"]) {
      if (d[k]) parts.push(d[k].toLocaleString("en") + " " + k.replace("-", "\u2212"));
    }
    const size = d.shape.reduce((a, b) => a * b, 1);
    const first = size > d.entries.length ? "first entries " : "entries ";
    parts.push(first + "[" + d.entries.map(fmt).join(", ") + "]");
    return parts.join("; ");
  }

  function drawRecord() {
    const panel = document.getElementById("record");
    if (selected === null) {
      panel.replaceChildren();
      return;
    }
    const i = selected;
    const node = nodes[i];
    const links = (list) => list.length
      ? list.flatMap((p, k) => [k ? ", " : "", p === null ? "\u2026 (past the cut)" : nodeLink(p)])
      : ["none"];
    const received = [];
    for (let k = 0; k < at; k++) {
      for (const e of steps[k].entries || []) {
        if (e.node === i) received.push(el("div", { class: "rule" }, e.rule));
      }
    }
    const rows = [
      recordRow("name", node.name),
      recordRow("label", node.label || "(none)"),
      recordRow("op", node.op || "(leaf)"),
    ];
    if (node.tensor) {
      rows.push(recordRow("shape", "(" + node.data.shape.join(", ") + ") " + node.data.dtype));
    }
    rows.push(
      recordRow("data", dataText(node.data)),
      recordRow("grad now", fmtGrad(grad[i])),
      recordRow("grad at the end", fmtGrad(node.final)),
      recordRow("parents", ...links(node.parents)),
      recordRow("used by", ...links(children[i])));
    panel.replaceChildren(el("h2", {}, "Node " + node.name),
      el("table", { class: "record" }, ...rows),
      el("h2", {}, "Contributions so far: " + received.length), ...received);
  }

  function select(i) {
    selected = i;
    highlight();
    drawRecord();
  }

  // --- moving through the steps ---

  function go(target) {
    target = Math.max(0, Math.min(steps.length, target));
    const changed = new Set();
    while (at < target) apply(at++, +1).forEach((i) => changed.add(i));
    while (at > target) apply(--at, -1).forEach((i) => changed.add(i));
    changed.forEach(drawNode);
    highlight();
    drawStep();
    if (selected !== null) drawRecord();
    document.getElementById("slider").value = at;
    document.getElementById("counter").textContent = "step " + at + " / " + steps.length;
    document.getElementById("prev").disabled = at === 0;
    document.getElementById("next").disabled = at === steps.length;
  }

  function stop() {
    clearInterval(timer);
    timer = null;
    document.getElementById("play").textContent = "Play";
  }

  function play() {
    if (timer !== null) return stop();
    if (at === steps.length) go(0);
    document.getElementById("play").textContent = "Pause";
    timer = setInterval(() => (at < steps.length ? go(at + 1) : stop()), PLAY_MS);
  }

  document.getElementById("next").addEventListener("click", () => go(at + 1));
  document.getElementById("prev").addEventListener("click", () => go(at - 1));
  document.getElementById("reset").addEventListener("click", () => { stop(); go(0); });
  document.getElementById("play").addEventListener("click", play);
  const slider = document.getElementById("slider");
  slider.max = steps.length;
  slider.addEventListener("input", () => go(Number(slider.value)));
  const zoomBy = (factor) => { whole = false; setZoom(zoom * factor); };
  document.getElementById("zoom-in").addEventListener("click", () => zoomBy(1.25));
  document.getElementById("zoom-out").addEventListener("click", () => zoomBy(0.8));
  document.getElementById("whole").addEventListener("click", showWhole);
  followBox.addEventListener("change", () => followBox.checked && highlight());
  document.addEventListener("keydown", (event) => {
    if (event.target === slider) return; // the slider's own arrow keys move it
    const actions = {
      ArrowRight: () => go(at + 1),
      ArrowLeft: () => go(at - 1),
      Home: () => { stop(); go(0); },
      End: () => go(steps.length),
      " ": play,
      "+": () => zoomBy(1.25),
      "=": () => zoomBy(1.25),
      "-": () => zoomBy(0.8),
      "0": showWhole,
      f: () => { followBox.checked = !followBox.checked; followBox.dispatchEvent(new Event("change")); },
    };
    const action = actions[event.key];
    const clicks = ["BUTTON", "INPUT"].includes(event.target.tagName); // space clicks these
    if (!action || (event.key === " " && clicks)) return;
    event.preventDefault();
    action();
  });

  // Ctrl + wheel (and a touchpad's pinch) zooms where the pointer is; a drag pans
  graphPane.addEventListener("wheel", (event) => {
    if (!event.ctrlKey) return; // a plain wheel scrolls
    event.preventDefault();
    whole = false;
    setZoom(zoom * Math.exp(-event.deltaY / 300), event.clientX, event.clientY);
  }, { passive: false });
  let drag = null;
  graphPane.addEventListener("pointerdown", (event) => {
    // the left button, not on a scroll bar (outside the client area)
    if (event.button !== 0 || event.offsetX > graphPane.clientWidth ||
        event.offsetY > graphPane.clientHeight) return;
    drag = { x: event.clientX, y: event.clientY, left: graphPane.scrollLeft,
      top: graphPane.scrollTop, moved: false };
  });
  graphPane.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (!drag.moved && Math.hypot(dx, dy) < 4) return; // a click, so far
    if (!drag.moved) graphPane.setPointerCapture(event.pointerId);
    drag.moved = true;
    graphPane.classList.add("panning");
    graphPane.scrollLeft = drag.left - dx;
    graphPane.scrollTop = drag.top - dy;
  });
  const endDrag = () => {
    const dragged = drag && drag.moved;
    drag = null;
    graphPane.classList.remove("panning");
    if (dragged) { // the click that ends a drag selects nothing
      window.addEventListener("click", (e) => e.stopPropagation(), { capture: true, once: true });
    }
  };
  graphPane.addEventListener("pointerup", endDrag);
  graphPane.addEventListener("pointercancel", endDrag);
  window.addEventListener("resize", () => {
    if (whole) showWhole();
    else highlight();
  });

  nodes.forEach((_, i) => drawNode(i));
  // open on the whole graph when its text can be read so, else readable where stepping starts
  if (wholeZoom() >= readable) {
    showWhole();
  } else {
    setZoom(readable);
    follow(stepElements(steps[0]));
  }
  go(0);
  window.explorer = {
    go: go, get step() { return at; }, total: steps.length,
    get zoom() { return zoom; }, readable: readable, minTextPx: MIN_TEXT_PX,
  };
})();
