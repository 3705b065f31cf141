// The proxier console: the device list, refreshed when /api/events says
// something changed (polled every 2 s while that stream is not open), and a
// parameter browser over the JSON API of the same server (README.rst, "The
// local console"). No framework, no build step; data is put in the page as
// text only. A device shown as embedded objects of the proxier's own tree
// (TR-069 Annex J.3) is browsed there, under its rows ("via=embedded").
"use strict";

const REFRESH_MS = 2000;
const EVENTS_SHOWN = 12;
const EVENT_NAMES = ["device", "online", "offline", "session", "value-change", "pending", "embedded"];
let csrf = "";
let chosen = null;
let chosenVia = "";
let polling = null;
let refreshing = null;

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

async function api(path, options) {
  const response = await fetch("/api/" + path, Object.assign({credentials: "same-origin"}, options || {}));
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = body.error || {code: response.status, string: response.statusText};
    throw Object.assign(new Error(error.string), {fault: error});
  }
  return body;
}

// the API of one device's parameters: its endpoint's, or (via "embedded") its rows of the proxier's tree
function deviceAPI(key, what, via, query) {
  const args = (via ? ["via=" + via] : []).concat(query ? [query] : []);
  return "devices/" + encodeURIComponent(key) + "/" + what + (args.length ? "?" + args.join("&") : "");
}

function faultText(fault) {
  let text = "fault " + fault.code + ": " + fault.string;
  for (const p of fault.parameterFaults || []) text += "; " + p.name + ": " + p.code + " " + p.string;
  return text;
}

function ago(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const s = Math.max(0, Math.round(Date.now() / 1000 - seconds));
  return s < 90 ? s + " s ago" : Math.round(s / 60) + " min ago";
}

function showProblem(text) {
  const p = document.getElementById("problem");
  p.textContent = text || "";
  p.hidden = !text;
}

function lastSession(cwmp) {
  const last = cwmp.lastSession;
  if (!last) return el("span", "none yet", "small");
  const cell = el("span");
  cell.append(el("span", (last.ok ? "ok" : "failed: " + last.reason) + ", " + ago(last.ended),
                 last.ok ? "" : "fault"));
  cell.append(el("div", (last.events || []).join(", "), "small"));
  for (const f of last.faults || []) cell.append(el("div", f.method + ": " + f.code + " " + f.string, "fault small"));
  return cell;
}

function noticeItem(tag, notice) {
  const node = el(tag, notice.text, "notice " + notice.kind);
  node.dataset.kind = notice.kind;
  if (notice.since) node.title = "since " + new Date(notice.since).toLocaleString();
  return node;
}

// What someone must do (press a device's button, accept a certificate), above everything else:
// about a proxied device, or one found that is not proxied until someone does it.
function showAttention(devices, pending, own) {
  const items = [];
  const about = [
    [{notices: own}, "This proxier: "],
    ...devices.map((d) => [d, d.identity.manufacturer + " " + d.identity.productClass + " (" + d.key + "): "]),
    ...pending.map((p) => [p, p.label + " (" + p.key + ", not proxied yet): "]),
  ];
  for (const [entry, who] of about) {
    for (const notice of entry.notices || []) {
      if (notice.kind !== "action") continue;
      const item = noticeItem("li", notice);
      item.prepend(el("strong", who));
      items.push(item);
    }
  }
  document.getElementById("attention").replaceChildren(...items);
  document.getElementById("attention-section").hidden = !items.length;
}

// Where a device's embedded objects are in the proxier's tree, how its last commands went, and a way there.
function embeddedCell(device) {
  const cell = el("td", null, "small embedded");
  const shown = device.embedded;
  if (!shown) return cell;
  cell.append(el("div", shown.reference));
  cell.append(el("div", shown.row));
  cell.append(el("div", "CommandProcessed: " + shown.commandProcessed +
                 (shown.commandProcessingErrMsg ? " (" + shown.commandProcessingErrMsg + ")" : ""),
                 shown.commandProcessed === "Error" ? "fault" : ""));
  cell.append(el("div", shown.lastSyncTime ? "synced " + ago(shown.lastSyncTime) : "not synced yet"));
  if (device.cwmp) {  // presented both ways: the row's click browses its Virtual CWMP Device
    const button = el("button", "Browse these", "browse-embedded");
    button.type = "button";
    button.addEventListener("click", (e) => {
      e.stopPropagation();
      browse(device.key, device.identity.serialNumber + " (embedded objects)", "embedded");
    });
    cell.append(button);
  }
  return cell;
}

// The first cells of a device's row, proxied or only found: what it is with its key under it; its state and notices.
function nameCell(label, key) {
  const cell = el("td");
  cell.append(el("div", label));
  cell.append(el("div", key, "small"));
  return cell;
}

function stateCell(state, notices) {
  const cell = el("td");
  cell.append(state);
  for (const notice of notices || []) cell.append(noticeItem("div", notice));
  return cell;
}

function deviceRow(device) {
  const row = el("tr");
  row.dataset.key = device.key;
  row.dataset.mechanism = device.mechanism;
  row.append(nameCell(device.identity.manufacturer + " " + device.identity.productClass, device.key));
  row.append(el("td", device.protocol));
  const online = device.online ? "online" : "offline";
  row.append(stateCell(el("div", online, online), device.notices));
  if (device.cwmp) {
    const waiting = [...device.cwmp.pendingEvents];
    if (device.cwmp.transfers.length) waiting.push("transfers: " + device.cwmp.transfers.join(", "));
    if (device.cwmp.inSession) waiting.push("in session");
    row.append(el("td", waiting.join(", ") || "nothing"));
    const last = el("td");
    last.append(lastSession(device.cwmp));
    row.append(last);
  } else {  // no endpoint of its own: the ACS reaches it through the proxier's
    row.append(el("td", "(through the proxier's own endpoint)", "small"));
    row.append(el("td", "", "small"));
  }
  row.append(el("td", device.connectionRequestURL, "small"));
  row.append(embeddedCell(device));
  if (chosen === device.key) row.classList.add("chosen");
  const via = device.cwmp ? "" : "embedded";
  row.addEventListener("click", () => browse(device.key, device.identity.serialNumber +
                                             (via ? " (embedded objects)" : ""), via));
  return row;
}

// A device found but not proxied (yet): no endpoint, no parameters; why, and what someone must do.
function pendingRow(found) {
  const row = el("tr");
  row.dataset.key = found.key;
  row.dataset.state = found.state;
  row.append(nameCell(found.label, found.key));
  row.append(el("td", found.protocol));
  row.append(stateCell(el("div", found.state, "pending " + found.state), found.notices));
  row.append(el("td", found.host || "", "small"));
  row.append(el("td", found.why));
  return row;
}

async function refresh() {
  try {
    const status = await api("status");
    const id = status.identity;
    document.getElementById("proxier").textContent =
      id.manufacturer + " " + id.productClass + " " + id.serialNumber + " — proxier " + status.version +
      " — ACS " + (status.acsURL || "(none)") + " — " + status.online + " of " + status.devices +
      " devices online" + (status.embedded ? " (" + status.embedded + " as embedded objects)" : "") +
      (status.pending ? ", " + status.pending + " found not proxied" : "") +
      " — up " + Math.round(status.uptime / 60) + " min";
    const own = status.notices || [];
    document.getElementById("proxier-notices").replaceChildren(...own.map((n) => noticeItem("li", n)));
    const answer = await api("devices");
    const devices = answer.devices;
    const pending = answer.pending || [];
    const body = document.querySelector("#devices tbody");
    body.replaceChildren(...devices.map(deviceRow));
    document.querySelector("#pending tbody").replaceChildren(...pending.map(pendingRow));
    document.getElementById("pending-section").hidden = !pending.length;
    showAttention(devices, pending, own);
    document.getElementById("refreshed").textContent = "updated " + new Date().toLocaleTimeString();
    showProblem("");
  } catch (e) {
    showProblem("cannot read the proxier: " + e.message);
  }
}

async function setValue(key, via, name, type, input, note) {
  note.textContent = "setting…";
  note.className = "note small";
  try {
    const answer = await api(deviceAPI(key, "values", via), {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-Proxier-CSRF": csrf},
      body: JSON.stringify({values: [{name: name, value: input.value, type: type}]}),
    });
    // Status 1 through embedded objects: in the proxier's copy, pushed to the device afterwards
    note.textContent = answer.status && answer.via === "embedded" ? "set (pushed to the device now)" :
      answer.status ? "set (applied when the device restarts)" : "set";
  } catch (e) {
    note.textContent = e.fault ? faultText(e.fault) : e.message;
    note.className = "note fault small";
  }
}

function parameterItem(key, via, info, value) {
  const item = el("li", null, "parameter");
  item.dataset.name = info.name;
  item.append(el("span", info.name.split(".").pop(), "name"));
  if (!value) {
    item.append(el("span", "(no value)", "small"));
    return item;
  }
  if (info.writable) {
    const input = el("input", null, "edit");
    input.value = value.value;
    const button = el("button", "Set");
    const note = el("span", "", "note small");
    button.addEventListener("click", () => setValue(key, via, info.name, value.type, input, note));
    item.append(input, button, el("span", value.type, "type"), note);
  } else {
    item.append(el("span", value.value, "value"), el("span", value.type, "type"));
  }
  return item;
}

async function openObject(key, via, path, list) {
  list.replaceChildren(el("li", "loading…", "small"));
  try {
    const names = (await api(deviceAPI(key, "names", via, "next=1&path=" + encodeURIComponent(path)))).names;
    const params = names.filter((n) => !n.name.endsWith("."));
    const values = {};
    // the values of this level only, at most 64 a request (the API's limit)
    for (let i = 0; i < params.length; i += 64) {
      const query = params.slice(i, i + 64).map((n) => "path=" + encodeURIComponent(n.name)).join("&");
      const answer = await api(deviceAPI(key, "values", via, query));
      for (const v of answer.values) values[v.name] = v;
    }
    const items = [];
    for (const info of names) {
      if (info.name === path) continue;
      if (info.name.endsWith(".")) items.push(objectItem(key, via, info.name, via && !path));
      else items.push(parameterItem(key, via, info, values[info.name]));
    }
    list.replaceChildren(...items);
  } catch (e) {
    list.replaceChildren(el("li", e.fault ? faultText(e.fault) : e.message, "fault"));
  }
}

function objectItem(key, via, path, full) {
  const item = el("li", null, "object");
  // a device's rows in the proxier's tree (the top of its embedded objects) by their full path
  const label = el("span", full ? path : path.split(".").slice(-2)[0] + ".", "name");
  const children = el("ul");
  label.addEventListener("click", () => {
    if (item.classList.toggle("open")) openObject(key, via, path, children);
    else children.replaceChildren();
  });
  item.append(label, children);
  return item;
}

function browse(key, label, via) {
  chosen = key;
  chosenVia = via || "";
  document.getElementById("browser").hidden = false;
  document.getElementById("browsing").textContent = label;
  openObject(key, chosenVia, "", document.getElementById("tree"));
  refresh();
}

// values the endpoint saw change, shown again where the browser shows them (not in a field being edited)
async function showChanged(key, via, names) {
  const items = [...document.querySelectorAll("#tree li.parameter")].filter(
    (li) => names.includes(li.dataset.name));
  if (key !== chosen || (via || "") !== chosenVia || !items.length) return;
  try {
    const query = items.map((li) => "path=" + encodeURIComponent(li.dataset.name)).join("&");
    const answer = await api(deviceAPI(key, "values", chosenVia, query));
    for (const v of answer.values) {
      const item = items.find((li) => li.dataset.name === v.name);
      const field = item.querySelector("input.edit") || item.querySelector(".value");
      if (field.tagName === "INPUT" && document.activeElement !== field) field.value = v.value;
      else if (field.tagName !== "INPUT") field.textContent = v.value;
    }
  } catch (e) {
    // the next look at the object shows it
  }
}

function describeEvent(name, data) {
  const who = data.key === "self" ? "the proxier" : data.key;
  if (name === "device") return who + " " + data.what;
  if (name === "session") {
    return who + ": session " + (data.what === "start" ? "started" :
      "ended " + (data.ok ? "ok" : "(" + data.reason + ")") +
      (data.events && data.events.length ? ", Inform: " + data.events.join(", ") : ""));
  }
  if (name === "value-change") return who + ": changed " + data.names.join(", ");
  if (name === "embedded") {
    return who + ": CommandProcessed " + data.commandProcessed +
      (data.commandProcessingErrMsg ? " (" + data.commandProcessingErrMsg + ")" : "");
  }
  if (name === "pending") {
    return data.key + " (" + data.protocol + ", not proxied): " +
      (data.what === "gone" ? "no longer pending" : data.what + ", " + data.state);
  }
  return who + " " + name;
}

function noteEvent(name, data) {
  const list = document.getElementById("events");
  const item = el("li", new Date().toLocaleTimeString() + " " + describeEvent(name, data));
  item.dataset.event = name;
  list.prepend(item);
  while (list.children.length > EVENTS_SHOWN) list.lastChild.remove();
  document.getElementById("events-section").hidden = false;
  if (name === "value-change") showChanged(data.key, data.via, data.names);
  clearTimeout(refreshing);
  refreshing = setTimeout(refresh, 200);  // one refresh for a burst of events
}

function setLive(live) {
  const mark = document.getElementById("live");
  mark.textContent = live ? "live" : "polling every " + REFRESH_MS / 1000 + " s";
  mark.dataset.live = live ? "yes" : "no";
  if (live && polling !== null) {
    clearInterval(polling);
    polling = null;
  } else if (!live && polling === null) {
    polling = setInterval(refresh, REFRESH_MS);
  }
}

// Server-Sent Events while the stream is open (the browser reconnects it), polling meanwhile
function listen() {
  setLive(false);
  if (!window.EventSource) return;
  const source = new EventSource("/api/events");
  source.onopen = () => {
    setLive(true);
    refresh();  // what changed while the stream was not open
  };
  source.onerror = () => setLive(false);
  for (const name of EVENT_NAMES) {
    source.addEventListener(name, (e) => noteEvent(name, JSON.parse(e.data)));
  }
}

async function start() {
  document.getElementById("own").addEventListener("click", () => browse("self", "the proxier itself", ""));
  try {
    csrf = (await api("session")).csrf;
  } catch (e) {
    showProblem("cannot open a session: " + e.message);
  }
  await refresh();
  listen();
}

document.addEventListener("DOMContentLoaded", start);
