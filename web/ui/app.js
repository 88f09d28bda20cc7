// Vigil dashboard. Everything shown comes from the API and may have been
// written by an attacker (paths, titles, evidence, actor names): it reaches
// the page only through textContent and text nodes, never as HTML.
"use strict";

(function () {
  const api = "/api/v1/";

  // el builds an element; string children become text nodes.
  function el(tag, cls, ...children) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function td(...children) { return el("td", "", ...children); }

  function fill(tableId, rows, empty) {
    const body = document.querySelector("#" + tableId + " tbody");
    const cols = document.querySelectorAll("#" + tableId + " thead th").length;
    body.replaceChildren();
    if (rows.length === 0) {
      const cell = td(empty);
      cell.colSpan = cols;
      cell.className = "empty";
      body.append(el("tr", "", cell));
      return;
    }
    for (const r of rows) body.append(r);
  }

  function when(t) {
    if (!t || t.startsWith("0001-")) return "";
    const d = new Date(t);
    return isNaN(d) ? String(t) : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
  }

  function actorKey(a) {
    if (!a) return "";
    if (a.principal) return "principal:" + a.principal;
    if (a.addr) return "addr:" + a.addr;
    if (a.fingerprint) return "fingerprint:" + a.fingerprint;
    return "anonymous";
  }

  function counts(m) {
    return Object.keys(m || {}).sort().map((k) => k + "×" + m[k]).join(" ");
  }

  function sev(s) { return el("span", "sev sev-" + String(s).replace(/[^a-z]/g, ""), s); }

  function setError(id, msg) { document.getElementById(id).textContent = msg || ""; }

  class APIError extends Error {}

  // call fetches an API route with the session cookie. Writes carry the
  // X-Vigil-CSRF header, which a cross-site page cannot add.
  async function call(method, path, body) {
    const opts = { method, credentials: "same-origin", headers: {} };
    if (method !== "GET") opts.headers["X-Vigil-CSRF"] = "1";
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(api + path, opts);
    if (res.status === 401) {
      window.location.assign("/");
      throw new APIError("signed out");
    }
    if (res.status === 204) return null;
    let data = null;
    try { data = await res.json(); } catch (e) { /* not JSON */ }
    if (!res.ok) {
      const m = data && data.error ? data.error.message : "HTTP " + res.status;
      throw new APIError(m);
    }
    return data;
  }

  async function loadSummary() {
    const s = await call("GET", "summary");
    const card = (label, value) => el("div", "card", el("span", "value", value), el("span", "label", label));
    const cards = [
      card("findings" + (s.truncated ? " (newest counted)" : ""), s.findings),
      card("endpoints", s.endpoints),
      card("incidents", s.incidents),
      card("active actions", s.active_actions),
    ];
    document.getElementById("summary-cards").replaceChildren(...cards);
    const rows = (m, first) => Object.keys(m).map((k) => el("tr", "", td(first(k)), td(m[k])));
    const order = ["critical", "high", "medium", "low", "info"];
    fill("by-severity", order.filter((k) => k in s.by_severity).map((k) => el("tr", "", td(sev(k)), td(s.by_severity[k]))), "none");
    fill("by-area", rows(s.by_area, (k) => k), "none");
    const det = Object.keys(s.by_detector).sort((a, b) => s.by_detector[b] - s.by_detector[a]);
    fill("by-detector", det.map((k) => el("tr", "", td(k), td(s.by_detector[k]))), "none");
  }

  function evidence(ev) {
    if (!ev || ev.length === 0) return "";
    const ul = el("ul", "evidence");
    for (const e of ev) {
      const li = el("li", "", el("code", "", e.where || ""));
      if (e.value) li.append(" = ", el("code", "value", e.value));
      if (e.why) li.append(" — ", e.why);
      ul.append(li);
    }
    return ul;
  }

  async function loadFindings() {
    const form = document.getElementById("finding-filter");
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (String(v).trim() !== "") params.set(k, String(v).trim());
    setError("findings-error", "");
    let data;
    try {
      data = await call("GET", "findings?" + params.toString());
    } catch (e) {
      setError("findings-error", e.message);
      fill("findings-table", [], "");
      return;
    }
    const rows = data.findings.map((f) => {
      const ep = f.endpoint || {};
      const tr = el("tr", "finding",
        td(when(f.time)), td(sev(f.severity)), td(el("code", "", f.detector)), td(f.category || ""),
        td(f.area || ""), td(ep.method ? ep.method + " " + (ep.host || "") + ep.template : ""),
        td(el("code", "", actorKey(f.actor))), td(el("span", "title", f.title)), td(evidence(f.evidence)));
      tr.dataset.id = f.id;
      return tr;
    });
    fill("findings-table", rows, "No findings match.");
  }

  async function showSamples(ep) {
    const box = document.getElementById("samples");
    box.hidden = false;
    document.getElementById("samples-title").textContent = "Samples of " + ep.method + " " + ep.host + ep.template;
    const list = document.getElementById("samples-list");
    list.replaceChildren();
    setError("samples-error", "");
    const params = new URLSearchParams({ method: ep.method, path: ep.template, host: ep.host || "" });
    let data;
    try {
      data = await call("GET", "endpoints/samples?" + params.toString());
    } catch (e) {
      setError("samples-error", e.message);
      return;
    }
    if (data.samples.length === 0) list.append(el("p", "empty", "No samples kept."));
    for (const s of data.samples) {
      const x = s.exchange || {};
      const req = x.request || {};
      const res = x.response || {};
      const head = (x.time ? when(x.time) + "  " : "") + (req.method || "") + " " + (req.url || "") +
        (res.status ? "  → " + res.status : "") + "  " + actorKey(s.actor);
      list.append(el("details", "sample", el("summary", "", head), el("pre", "", JSON.stringify(x, null, 2))));
    }
  }

  async function loadEndpoints() {
    const data = await call("GET", "endpoints");
    const rows = data.endpoints.map((e) => {
      const btn = el("button", "", "Samples");
      btn.type = "button";
      btn.addEventListener("click", () => { showSamples(e); });
      return el("tr", "",
        td(e.method), td(e.host), td(el("code", "", e.template)), td(e.count),
        td(counts(e.statuses)), td(counts(e.auth)), td(when(e.first_seen)), td(when(e.last_seen)), td(btn));
    });
    fill("endpoints-table", rows, "No endpoints seen yet.");
  }

  async function loadIncidents() {
    const data = await call("GET", "incidents");
    // Incidents merged into another are kept for the record; the list leaves them out.
    const rows = data.incidents.filter((i) => !i.merged_into).map((i) => el("tr", "",
      td(when(i.last_seen)), td(sev(i.severity)), td((i.stages || [i.stage]).join(" → ")), td(Number(i.score).toFixed(1)),
      td(el("code", "", i.actor_key)), td(i.title), td((i.areas || []).join(", ")), td(i.findings || (i.finding_ids || []).length)));
    fill("incidents-table", rows, "No incidents.");
  }

  function actionDetail(a) {
    if (a.kind === "rate-limit") return a.rate + " req/s";
    if (a.kind === "tarpit") return (a.delay / 1e9) + " s delay";
    return "";
  }

  async function loadActions() {
    const data = await call("GET", "actions");
    const rows = data.actions.map((a) => {
      const btn = el("button", "lift", "Lift");
      btn.type = "button";
      btn.addEventListener("click", async () => {
        if (!window.confirm("Lift " + a.kind + " on " + a.key + "?")) return;
        setError("actions-error", "");
        try {
          await call("DELETE", "actions/" + encodeURIComponent(a.id));
        } catch (e) {
          setError("actions-error", e.message);
        }
        await refresh();
      });
      return el("tr", a.active ? "active" : "inactive",
        td(a.kind), td(el("code", "", a.key)), td(when(a.created)), td(when(a.until)),
        td(a.active ? "yes" : "no"), td(a.reason), td(actionDetail(a)), td(btn));
    });
    fill("actions-table", rows, "No actions.");
  }

  async function createAction(ev) {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const body = { kind: f.get("kind"), key: String(f.get("key")).trim(), duration: String(f.get("duration")).trim() };
    const reason = String(f.get("reason")).trim();
    if (reason) body.reason = reason;
    if (body.kind === "rate-limit") body.rate = Number(f.get("rate"));
    if (body.kind === "tarpit") body.delay = String(f.get("delay")).trim();
    setError("actions-error", "");
    try {
      await call("POST", "actions", body);
      ev.target.reset();
    } catch (e) {
      setError("actions-error", e.message);
    }
    await refresh();
  }

  let busy = false;
  async function refresh() {
    if (busy) return;
    busy = true;
    const status = document.getElementById("status");
    status.textContent = "loading…";
    document.body.dataset.state = "loading";
    const results = await Promise.allSettled([loadSummary(), loadFindings(), loadEndpoints(), loadIncidents(), loadActions()]);
    const failed = results.filter((r) => r.status === "rejected");
    if (failed.length > 0) {
      status.textContent = "error: " + failed[0].reason.message;
      document.body.dataset.state = "error";
    } else {
      status.textContent = "updated " + when(new Date().toISOString());
      document.body.dataset.state = "ready";
    }
    busy = false;
  }

  document.getElementById("refresh").addEventListener("click", refresh);
  document.getElementById("finding-filter").addEventListener("submit", (ev) => { ev.preventDefault(); loadFindings(); });
  document.getElementById("action-form").addEventListener("submit", createAction);
  refresh();
  window.setInterval(refresh, 30000);
})();
