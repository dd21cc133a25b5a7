// The live topology page: polls /api/topology every second and redraws the SVG when the
// document changed. Switches sit on a circle in datapath-id order (a deterministic layout,
// so the same topology always looks the same), links join them, hosts fan out from their
// switch. Everything that comes from the network (names, descriptions) is set as text or
// attribute values, never parsed as markup.
//
// Elements a test (or a user's script) can rely on:
//   <svg id="topology" data-seq data-switches data-links data-hosts>
//   <g class="switch" data-dpid="00000000000000c1">
//   <line class="link" data-src="<dpid>" data-src-port data-dst="<dpid>" data-dst-port
//         data-directions="1|2">   (one line per cable; data-src is the smaller end)
//   <g class="host" data-mac data-ipv4 data-dpid data-port>
"use strict";
(function () {
  var NS = "http://www.w3.org/2000/svg";
  var W = 1000, H = 700, CX = W / 2, CY = H / 2;
  var svg = document.getElementById("topology");
  var status = document.getElementById("status");
  var lastText = null;

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) {
      if (Object.prototype.hasOwnProperty.call(attrs, k)) {
        e.setAttribute(k, String(attrs[k]));
      }
    }
    if (parent) parent.appendChild(e);
    return e;
  }

  function text(parent, x, y, s, anchor) {
    var t = el("text", { x: x, y: y, "text-anchor": anchor || "middle" }, parent);
    t.textContent = s;
    return t;
  }

  // Positions of the switches: a circle, first switch at the top, clockwise.
  function layout(switches) {
    var pos = {};
    var n = switches.length;
    var r = n <= 1 ? 0 : Math.min(250, 70 + 35 * n);
    switches.forEach(function (s, i) {
      var a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(n, 1);
      pos[s.dpid] = { x: CX + r * Math.cos(a), y: CY + r * Math.sin(a), angle: a };
    });
    return pos;
  }

  function end(l) {
    return l.dpid + ":" + l.port;
  }

  function draw(topo) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var switches = (topo.switches || []).slice().sort(function (a, b) {
      return a.dpid < b.dpid ? -1 : a.dpid > b.dpid ? 1 : 0;
    });
    var pos = layout(switches);
    var linkLayer = el("g", { id: "links" }, svg);
    var hostLayer = el("g", { id: "hosts" }, svg);
    var switchLayer = el("g", { id: "switches" }, svg);

    // One line per cable: the two directions of a link share it.
    var cables = {};
    var cableList = [];
    (topo.links || []).forEach(function (l) {
      var a = l.src, b = l.dst;
      if (end(b) < end(a)) { var t = a; a = b; b = t; }
      var key = end(a) + "-" + end(b);
      if (cables[key]) { cables[key].directions += 1; return; }
      cables[key] = { a: a, b: b, directions: 1 };
      cableList.push(cables[key]);
    });
    cableList.forEach(function (c) {
      var p = pos[c.a.dpid], q = pos[c.b.dpid];
      if (!p || !q) return;
      var line = el("line", {
        "class": "link", x1: p.x, y1: p.y, x2: q.x, y2: q.y,
        "data-src": c.a.dpid, "data-src-port": c.a.port,
        "data-dst": c.b.dpid, "data-dst-port": c.b.port,
        "data-directions": c.directions
      }, linkLayer);
      el("title", {}, line).textContent =
        c.a.dpid + " port " + c.a.port + " \u2194 " + c.b.dpid + " port " + c.b.port;
    });

    // Hosts fan out from their switch, away from the centre.
    var bySwitch = {};
    (topo.hosts || []).forEach(function (h) {
      var d = h.location && h.location.dpid;
      (bySwitch[d] = bySwitch[d] || []).push(h);
    });
    Object.keys(bySwitch).forEach(function (d) {
      var p = pos[d];
      var list = bySwitch[d];
      list.forEach(function (h, i) {
        var g = el("g", {
          "class": "host", "data-mac": h.mac, "data-ipv4": h.ipv4 || "",
          "data-dpid": d, "data-port": h.location ? h.location.port : ""
        }, hostLayer);
        if (!p) return;
        var k = list.length;
        var spread = switches.length <= 1 ? 2 * Math.PI : Math.min(Math.PI / 1.5, 0.5 * k);
        var base = switches.length <= 1 ? -Math.PI / 2 : p.angle;
        var a = k <= 1 ? base : base - spread / 2 + (spread * i) / (switches.length <= 1 ? k : k - 1);
        var dist = 110 + (i % 2) * 25;
        var x = p.x + dist * Math.cos(a), y = p.y + dist * Math.sin(a);
        el("line", { "class": "host-link", x1: p.x, y1: p.y, x2: x, y2: y }, g);
        el("circle", { cx: x, cy: y, r: 9 }, g);
        var label = [];
        if (h.names && h.names.length) label.push(h.names[0]);
        if (h.ipv4) label.push(h.ipv4);
        label.push(h.mac);
        // Labels on the far side of the host, away from the line to its switch.
        var above = y < p.y - 1;
        label.forEach(function (s, j) {
          text(g, x, above ? y - 14 - 13 * (label.length - 1 - j) : y + 22 + 13 * j, s);
        });
        el("title", {}, g).textContent = h.mac + (h.ipv4 ? " " + h.ipv4 : "") +
          " at " + d + " port " + (h.location ? h.location.port : "?");
      });
    });

    switches.forEach(function (s) {
      var p = pos[s.dpid];
      var g = el("g", { "class": "switch", "data-dpid": s.dpid, "data-version": s.version }, switchLayer);
      el("rect", { x: p.x - 70, y: p.y - 16, width: 140, height: 32, rx: 6 }, g);
      text(g, p.x, p.y + 4, s.dpid);
      var ports = (s.ports || []).filter(function (x) { return x.no < 0xffffff00; }).length;
      el("title", {}, g).textContent = "datapath " + s.dpid + ", OpenFlow " + s.version +
        ", " + ports + " ports" + (s.desc && s.desc.dp_desc ? ", " + s.desc.dp_desc : "");
    });

    if (!switches.length) {
      el("text", { "class": "empty", x: CX, y: CY, "text-anchor": "middle" }, svg).textContent =
        "no switches connected";
    }
    svg.setAttribute("data-seq", topo.seq);
    svg.setAttribute("data-switches", switches.length);
    svg.setAttribute("data-links", cableList.length);
    svg.setAttribute("data-hosts", (topo.hosts || []).length);
    return { switches: switches.length, cables: cableList.length, hosts: (topo.hosts || []).length };
  }

  function poll() {
    fetch("/api/topology", { cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      })
      .then(function (t) {
        if (t !== lastText) {
          var topo = JSON.parse(t);
          var n = draw(topo);
          lastText = t;
          status.textContent = n.switches + " switches, " + n.cables + " links, " + n.hosts +
            " hosts; change " + topo.seq;
        }
        status.className = "";
      })
      .catch(function (e) {
        status.textContent = "cannot reach the controller: " + e.message;
        status.className = "error";
      })
      .then(function () { setTimeout(poll, 1000); });
  }

  poll();
})();
