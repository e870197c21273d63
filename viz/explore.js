// explore.js: replays a recorded forward and backward pass on the graph's SVG, step by step.
//
// viz/explore.py inlines this file into the page after the JSON it recorded
// (script#explore-data). Nothing here computes a gradient: every number shown comes from that
// JSON, which holds each parent's grad before and after the engine's own backward rule ran.
// The SVG is draw_dot's: node v{i} is data.nodes[i], op{i} is the op that made it, and edges
// carry titles such as "v3->op1", which is how the elements are found here.
"use strict";
(function () {
  const SVGNS = "http://www.w3.org/2000/svg";
  const PLAY_MS = 700;
  const FIT_NODES = 60; // graphs this small start fitted to the pane, larger ones at full size
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

  const BADGE_ROOM = 14; // room under the lowest nodes for their badges
  const vb = svg.viewBox.baseVal;
  svg.setAttribute("viewBox", [vb.x, vb.y, vb.width, vb.height + BADGE_ROOM].join(" "));
  const height = parseFloat(svg.getAttribute("height"));
  if (height) svg.setAttribute("height", height + BADGE_ROOM + "pt");

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
      class: "badge", x: bb.x + bb.width / 2, y: bb.y + bb.height + 10,
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
    const parts = [tspan(null, node.name === node.label ? "" : node.name + " \u00b7 ")];
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

  // scroll the graph so that a node is in sight, if it is not
  function bringIntoView(element) {
    const r = element.getBoundingClientRect();
    const c = graphPane.getBoundingClientRect();
    if (r.left < c.left || r.right > c.right || r.top < c.top || r.bottom > c.bottom) {
      element.scrollIntoView({ block: "center", inline: "center" });
    }
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
    const focus = !step ? null : step.node !== null ? step.node : step.entries[0].node;
    if (focus !== null) bringIntoView(view[focus].box);
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
      if (nth > 1) {
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
    if (typeof d !== "object") return String(d);
    if (d.mean === undefined) return "empty";
    const stats = "mean " + fmt(d.mean) + ", std " + fmt(d.std) + ", min " + fmt(d.min) +
      ", max " + fmt(d.max);
    const size = d.shape.reduce((a, b) => a * b, 1);
    const first = size > d.entries.length ? "first entries " : "entries ";
    return stats + "; " + first + "[" + d.entries.map(fmt).join(", ") + "]";
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
      rows.push(recordRow("shape", "(" + node.shape.join(", ") + ") " + node.data.dtype));
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
  document.addEventListener("keydown", (event) => {
    if (event.target === slider) return; // the slider's own arrow keys move it
    const actions = {
      ArrowRight: () => go(at + 1),
      ArrowLeft: () => go(at - 1),
      Home: () => { stop(); go(0); },
      End: () => go(steps.length),
      " ": play,
    };
    const action = actions[event.key];
    const clicks = ["BUTTON", "INPUT"].includes(event.target.tagName); // space clicks these
    if (!action || (event.key === " " && clicks)) return;
    event.preventDefault();
    action();
  });

  // fitting the pane may enlarge a small graph, up to twice its size
  canvas.style.setProperty("--fit-max", 2 * svg.width.baseVal.value + "px");
  const fit = document.getElementById("fit");
  const applyFit = () => graphPane.classList.toggle("fit", fit.checked);
  fit.checked = nodes.length <= FIT_NODES;
  fit.addEventListener("change", applyFit);
  applyFit();

  nodes.forEach((_, i) => drawNode(i));
  go(0);
  window.explorer = { go: go, get step() { return at; }, total: steps.length };
})();
