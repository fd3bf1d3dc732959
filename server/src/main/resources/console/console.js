// Tandem web console: hash-routed pages over the node's JSON API (/api/...), re-read every few seconds.
// No framework: every value reaches the page through textContent, never as HTML.
"use strict";

const POLL_MS = 3000;
const view = document.getElementById("view");
const statusLine = document.getElementById("status");
let pollTimer = null;
let renderSeq = 0;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "onclick" || name === "onsubmit" || name === "onchange") node[name] = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function table(id, headers, rows) {
  return el("table", {id},
    el("thead", {}, el("tr", {}, headers.map(h => el("th", {class: h.num ? "num" : null}, h.label || h)))),
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", {colspan: headers.length, class: "muted"}, "none"))));
}

function td(value, cls) {
  return el("td", {class: cls}, value === null || value === undefined ? el("span", {class: "muted"}, "-") : value);
}

function card(label, value, cls, id) {
  return el("div", {class: "card", id}, el("div", {class: "value " + (cls || "")}, value), el("div", {class: "label"}, label));
}

function errorBox(message) {
  return el("div", {class: "error-box"}, message);
}

async function api(path) {
  const response = await fetch("api/" + path, {cache: "no-store"});
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

/** Bytes as the API shows them: text or hex, with the length when cut. */
function bytes(shown) {
  if (shown === null || shown === undefined) return el("span", {class: "muted"}, "null");
  const parts = [el("span", {class: "bytes mono"}, shown.shown)];
  if (shown.encoding === "hex") parts.unshift(el("span", {class: "tag"}, "hex"), " ");
  if (shown.truncated) parts.push(" ", el("span", {class: "tag"}, "… " + shown.length + " bytes"));
  return parts;
}

function shownOf(shown, total) {
  return shown < total ? el("div", {class: "muted"}, "the first " + shown + " of " + total) : null;
}

function link(href, text, cls) {
  return el("a", {href, class: cls}, text);
}

// ---- pages ---------------------------------------------------------------------------------------------------------

async function overviewPage() {
  const o = await api("overview");
  const out = [el("h1", {}, "Overview")];
  if (o.kafka) {
    out.push(el("h2", {}, "Kafka"));
    if (o.kafka.error) out.push(errorBox(o.kafka.error));
    else {
      const k = o.kafka;
      out.push(el("div", {class: "cards"},
        card("brokers", k.brokers.length, null, "card-brokers"),
        card("controller", k.controllerId < 0 ? "none" : k.controllerId, k.controllerId < 0 ? "bad" : null),
        card("topics", k.topics), card("partitions", k.partitions),
        card("under-replicated", k.underReplicatedPartitions, k.underReplicatedPartitions ? "bad" : "ok"),
        card("offline", k.offlinePartitions, k.offlinePartitions ? "bad" : "ok")));
      out.push(el("div", {class: "muted"}, "cluster " + (k.clusterId || "(no id)") + " · " + k.bootstrapServers));
      out.push(table("brokers", ["Broker", "Host", "Port", "Rack", "Role", {label: "Leader of", num: true}],
        k.brokers.map(b => el("tr", {}, td(b.id), td(b.host), td(b.port), td(b.rack),
          td(b.controller ? "controller" : "broker"), td(b.leaderPartitions, "num")))));
    }
  }
  if (o.zookeeper) {
    out.push(el("h2", {}, "ZooKeeper ensemble"));
    if (o.zookeeper.error) out.push(errorBox(o.zookeeper.error));
    else out.push(table("ensemble", ["Server", "Mode", "Version", "Zxid", {label: "Znodes", num: true},
        {label: "Connections", num: true}, "Latency min/avg/max"],
      o.zookeeper.members.map(m => m.error
        ? el("tr", {}, td(m.server), el("td", {class: "bad", colspan: 6}, m.error))
        : el("tr", {}, td(m.server), td(m.mode, "ok"), td(m.version), td(m.zxid, "mono"), td(m.nodeCount, "num"),
          td(m.connections, "num"), td(m.latency)))));
  }
  return out;
}

async function topicsPage() {
  const listing = await api("topics");
  const topics = listing.topics;
  return [el("h1", {}, "Topics"), shownOf(topics.length, listing.total),
    table("topics", ["Topic", {label: "Partitions", num: true}, {label: "Replication", num: true},
        {label: "Under-replicated", num: true}, {label: "Messages", num: true}, ""],
      topics.map(t => el("tr", {},
        td([link("#/topic/" + encodeURIComponent(t.name), t.name, "topic-link"),
          t.internal ? [" ", el("span", {class: "tag"}, "internal")] : null]),
        td(t.partitions, "num"), td(t.replicationFactor, "num"),
        td(t.underReplicatedPartitions, "num " + (t.underReplicatedPartitions ? "bad" : "")),
        td(t.messages, "num"),
        td(link("#/messages/" + encodeURIComponent(t.name), "messages"))))),
  ];
}

async function topicPage(name) {
  const t = await api("topic?name=" + encodeURIComponent(name));
  const configs = Object.entries(t.configs);
  return [el("h1", {}, "Topic ", el("span", {id: "topic-name"}, t.name)),
    el("div", {class: "muted"}, "id " + (t.topicId || "-")),
    el("p", {}, link("#/messages/" + encodeURIComponent(t.name), "Browse messages →", "messages-link")),
    el("h2", {}, "Partitions"),
    table("partitions", ["Partition", "Leader", "Epoch", "Replicas", "ISR", {label: "Log start", num: true},
        {label: "High watermark", num: true}, {label: "Messages", num: true}, ""],
      t.partitions.map(p => el("tr", {}, td(p.partition), td(p.leader < 0 ? "none" : p.leader, p.leader < 0 ? "bad" : null),
        td(p.leaderEpoch), td(p.replicas.join(",")),
        td(p.isr.join(","), p.isr.length < p.replicas.length ? "bad" : null),
        td(p.logStartOffset, "num"), td(p.highWatermark, "num"),
        td(p.highWatermark === null ? null : p.highWatermark - p.logStartOffset, "num"),
        td(link("#/messages/" + encodeURIComponent(t.name) + "?partition=" + p.partition, "browse"))))),
    el("h2", {}, "Config overrides"),
    table("configs", ["Key", "Value"], configs.map(([k, v]) => el("tr", {}, td(k, "mono"), td(v, "mono")))),
  ];
}

async function messagesPage(name, params) {
  const partition = params.get("partition") || "0";
  const offset = params.get("offset") || "";
  const count = params.get("count") || "20";
  const format = params.get("format") || "text";
  let query = "messages?topic=" + encodeURIComponent(name) + "&partition=" + encodeURIComponent(partition)
    + "&count=" + encodeURIComponent(count) + "&format=" + encodeURIComponent(format);
  if (offset !== "") query += "&offset=" + encodeURIComponent(offset);
  const form = el("form", {class: "browse", id: "browse-form", onsubmit: event => {
    event.preventDefault();
    const data = new URLSearchParams(new FormData(form));
    if (!data.get("offset")) data.delete("offset");
    location.hash = "#/messages/" + encodeURIComponent(name) + "?" + data.toString();
  }},
    el("label", {}, "Partition", el("input", {name: "partition", id: "browse-partition", type: "number", min: 0, value: partition})),
    el("label", {}, "Offset (empty: latest)", el("input", {name: "offset", id: "browse-offset", type: "number", min: 0, value: offset})),
    el("label", {}, "Count", el("input", {name: "count", id: "browse-count", type: "number", min: 1, max: 200, value: count})),
    el("label", {}, "Show as", el("select", {name: "format", id: "browse-format"},
      el("option", {value: "text", selected: format === "text"}, "text (hex if binary)"),
      el("option", {value: "hex", selected: format === "hex"}, "hex"))),
    el("button", {type: "submit", id: "browse-submit"}, "Show"));
  const header = [el("h1", {}, "Messages of ", link("#/topic/" + encodeURIComponent(name), name)), form];
  let m;
  try {
    m = await api(query);
  } catch (e) {
    return [header, errorBox(e.message)];
  }
  return [header,
    el("div", {class: "muted", id: "browse-range"}, "partition " + m.partition + " of " + m.partitions
      + " · log start " + m.logStartOffset + " · high watermark " + m.highWatermark + " · showing " + m.records.length
      + " from offset " + m.from),
    table("messages", [{label: "Offset", num: true}, "Timestamp", "Key", "Value", "Headers"],
      m.records.map(r => el("tr", {}, td(r.offset, "num"),
        td(new Date(r.timestamp).toISOString().replace("T", " ").replace("Z", "") + (r.timestampType === "LogAppendTime" ? " (append)" : "")),
        td(bytes(r.key)), td(bytes(r.value)),
        td(r.headers.length ? r.headers.map(h => el("div", {}, el("span", {class: "mono"}, h.key + ": "), bytes(h.value)))
          : null)))),
    m.nextOffset < m.highWatermark ? el("p", {}, link("#/messages/" + encodeURIComponent(name) + "?partition=" + m.partition
      + "&offset=" + m.nextOffset + "&count=" + count + "&format=" + format, "Next " + count + " →", "next-link")) : null,
  ];
}

async function groupsPage() {
  const listing = await api("groups");
  const groups = listing.groups;
  return [el("h1", {}, "Consumer groups"), shownOf(groups.length, listing.total),
    table("groups", ["Group", "State", "Protocol type"],
      groups.map(g => el("tr", {}, td(link("#/group/" + encodeURIComponent(g.groupId), g.groupId, "group-link")),
        td(g.state), td(g.protocolType || null))))];
}

async function groupPage(id) {
  const g = await api("group?id=" + encodeURIComponent(id));
  return [el("h1", {}, "Group ", el("span", {id: "group-name"}, g.groupId)),
    el("div", {class: "cards"}, card("state", g.state), card("members", g.members.length),
      card("total lag", g.totalLag, g.totalLag ? "bad" : "ok", "group-lag"), card("coordinator", g.coordinator)),
    el("h2", {}, "Lag per partition"),
    table("group-partitions", ["Topic", "Partition", {label: "Committed", num: true}, {label: "Log end", num: true},
        {label: "Lag", num: true}, "Consumer", "Client id", "Host"],
      g.partitions.map(p => el("tr", {}, td(link("#/topic/" + encodeURIComponent(p.topic), p.topic)), td(p.partition),
        td(p.currentOffset, "num"), td(p.logEndOffset, "num"), td(p.lag, "num lag " + (p.lag ? "bad" : "")),
        td(p.consumerId, "mono"), td(p.clientId), td(p.host)))),
    el("h2", {}, "Members"),
    table("group-members", ["Member", "Client id", "Host", "Assignment"],
      g.members.map(m => el("tr", {}, td(m.memberId, "mono"), td(m.clientId), td(m.host), td(m.assignment.join(", ")))))];
}

function znodeHref(path) {
  return "#/znodes" + path.split("/").map(encodeURIComponent).join("/");
}

async function znodePage(path, params) {
  const format = params.get("format") || "text";
  const z = await api("znode?path=" + encodeURIComponent(path) + "&format=" + format);
  const crumbs = [link(znodeHref("/"), "/")];
  let prefix = "";
  path.split("/").filter(p => p).forEach((part, i) => {
    prefix += "/" + part;
    crumbs.push(i > 0 ? "/" : null, link(znodeHref(prefix), part));
  });
  const childPath = name => (path === "/" ? "" : path) + "/" + name;
  const stat = Object.entries(z.stat).map(([k, v]) => el("tr", {}, td(k, "mono"),
    td(k.endsWith("time") ? v + "  (" + new Date(v).toISOString() + ")" : v, "mono")));
  return [el("h1", {}, "ZooKeeper"),
    el("div", {class: "crumbs mono", id: "znode-path"}, crumbs),
    el("div", {class: "split"},
      el("div", {class: "tree"}, el("h2", {}, "Children (" + z.childCount + ")"),
        el("ul", {class: "children", id: "znode-children"}, z.children.length ? z.children.map(c =>
          el("li", {}, link(znodeHref(childPath(c)), c, "znode-link"))) : el("li", {class: "muted"}, "none"))),
      el("div", {class: "details"},
        el("h2", {}, "Data ", link(znodeHref(path) + "?format=" + (format === "hex" ? "text" : "hex"),
          format === "hex" ? "(as text)" : "(as hex)")),
        el("pre", {id: "znode-data"}, z.data === null ? "null" : z.data.shown),
        z.data && z.data.truncated ? el("div", {class: "muted"}, "first bytes of " + z.data.length) : null,
        el("h2", {}, "Stat"), table("znode-stat", ["Field", "Value"], stat),
        el("h2", {}, "ACL"), table("znode-acl", ["Scheme", "Id", "Perms"],
          z.acl.map(a => el("tr", {}, td(a.scheme), td(a.id, "mono"), td(a.perms, "mono"))))))];
}

// ---- routing and polling -------------------------------------------------------------------------------------------

function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, queryString] = hash.split("?");
  const params = new URLSearchParams(queryString || "");
  const segments = path.split("/");
  const rest = decodeURIComponent(segments.slice(2).join("/"));
  switch (segments[1]) {
    case "topics": return {nav: "topics", render: () => topicsPage(), poll: true};
    case "topic": return {nav: "topics", render: () => topicPage(rest), poll: true};
    case "messages": return {nav: "topics", render: () => messagesPage(rest, params), poll: false};
    case "groups": return {nav: "groups", render: () => groupsPage(), poll: true};
    case "group": return {nav: "groups", render: () => groupPage(rest), poll: true};
    case "znodes": {
      const znode = "/" + segments.slice(2).filter(p => p).map(decodeURIComponent).join("/");
      return {nav: "znodes", render: () => znodePage(znode, params), poll: true};
    }
    default: return {nav: "overview", render: () => overviewPage(), poll: true};
  }
}

async function show() {
  clearTimeout(pollTimer);
  const current = route();
  const seq = ++renderSeq;
  for (const a of document.querySelectorAll("header nav a")) a.classList.toggle("active", a.id === "nav-" + current.nav);
  let content;
  try {
    content = await current.render();
    statusLine.textContent = (current.poll ? "live · " : "") + "updated " + new Date().toLocaleTimeString();
    statusLine.classList.remove("error");
  } catch (e) {
    content = [errorBox(e.message)];
    statusLine.textContent = "error · " + new Date().toLocaleTimeString();
    statusLine.classList.add("error");
  }
  if (seq !== renderSeq) return; // a newer page replaced this one while it loaded
  view.replaceChildren(...[content].flat(2).filter(c => c !== null && c !== undefined));
  view.dataset.loaded = String(seq);
  if (current.poll) pollTimer = setTimeout(show, POLL_MS);
}

window.addEventListener("hashchange", show);
show();
