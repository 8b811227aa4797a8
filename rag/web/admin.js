// The admin view: sources with their state and a re-index button, jobs with live progress,
// and the counts of personal data found per type. Shown to admin keys only; the API checks too.
// An ES module: the API client and session come from api.js.

import { $, api, describeError, el, handle } from "./api.js";

const POLL_MS = 2000;
let timer = null;

function when(value) {
  return value ? new Date(value).toLocaleString() : "never";
}

// A route the server does not have yet is said so, instead of failing the whole view.
async function optional(path) {
  try {
    return { data: await api(path) };
  } catch (err) {
    if (err.status === 404 || err.status === 405) return { missing: true };
    throw err;
  }
}

function placeholder(tbody, columns, text) {
  const row = el("tr");
  row.append(el("td", { colspan: String(columns), class: "muted" }, text));
  tbody.replaceChildren(row);
}

function renderSources(result) {
  const tbody = $("sources").querySelector("tbody");
  if (result.missing) return placeholder(tbody, 7, "This server does not list sources.");
  if (!result.data.length) return placeholder(tbody, 7, "No sources registered yet.");
  tbody.replaceChildren();
  for (const s of result.data) {
    const row = el("tr", { "data-id": String(s.id) });
    const stateCell = el("td");
    stateCell.append(el("span", { class: "badge " + s.status }, s.status));
    if (s.error) stateCell.append(el("span", { class: "cell-error" }, " " + s.error));
    const action = el("td");
    const button = el("button", { type: "button", class: "reindex",
      "aria-label": "Re-index " + s.name }, "Re-index");
    button.addEventListener("click", () => reindex(s, button));
    action.append(button);
    row.append(el("td", {}, s.name), el("td", { class: "path" }, s.path), stateCell,
      el("td", { class: "num" }, String(s.documents ?? "")),
      el("td", { class: "num" }, String(s.chunks ?? "")),
      el("td", {}, when(s.last_scan_at)), action);
    tbody.append(row);
  }
}

function renderJobs(result) {
  const list = $("jobs");
  if (result.missing) {
    list.replaceChildren(el("li", { class: "muted" }, "This server does not list jobs."));
    return false;
  }
  if (!result.data.length) {
    list.replaceChildren(el("li", { class: "muted" }, "No jobs yet."));
    return false;
  }
  list.replaceChildren();
  let active = false;
  for (const job of result.data) {
    active = active || job.status === "queued" || job.status === "running";
    const item = el("li", { class: "job " + job.status, "data-id": String(job.id) });
    const label = "Job " + job.id + ": " + job.kind.replaceAll("_", " ");
    const head = el("p", { class: "job-head" });
    head.append(el("strong", {}, label), " ", el("span", { class: "badge " + job.status },
      job.status));
    const bar = el("progress", { id: "job-progress-" + job.id, max: String(job.total || 1),
      value: String(job.done || 0), "aria-label": label + " progress" });
    // A scan counts files; a reprocess the stored documents it makes again; a re-embed chunks.
    const unit = { reprocess: "documents", reembed: "chunks" }[job.kind] || "files";
    const files = job.total ? job.done + " of " + job.total + " " + unit : "counting " + unit;
    const detail = el("p", { class: "job-detail" },
      files + (job.chunks_written ? ", " + job.chunks_written + " chunks written" : "") +
      (job.current && job.status === "running" ? " (now: " + job.current + ")" : ""));
    item.append(head, bar, detail);
    if (job.error) item.append(el("p", { class: "cell-error" }, job.error));
    if (job.errors && job.errors.length) {
      const problems = el("details");
      problems.append(el("summary", {}, job.errors.length + " file(s) failed"));
      const list2 = el("ul");
      for (const e of job.errors) list2.append(el("li", {}, e.path + ": " + e.reason));
      problems.append(list2);
      item.append(problems);
    }
    list.append(item);
  }
  return active;
}

function renderPii(result) {
  const tbody = $("pii").querySelector("tbody");
  if (result.missing) return placeholder(tbody, 2, "This server does not list documents.");
  const totals = new Map();
  for (const doc of result.data) {
    for (const [type, n] of Object.entries(doc.pii_counts || {})) {
      totals.set(type, (totals.get(type) || 0) + n);
    }
  }
  if (!totals.size) return placeholder(tbody, 2, "None found.");
  tbody.replaceChildren();
  for (const [type, n] of [...totals].sort((a, b) => b[1] - a[1])) {
    const row = el("tr", { "data-type": type });
    row.append(el("td", {}, type), el("td", { class: "num" }, String(n)));
    tbody.append(row);
  }
}

async function refreshJobs() {
  try {
    const active = renderJobs(await optional("/v1/jobs?limit=20"));
    $("admin").dataset.jobsActive = String(active);
  } catch (err) {
    handle(err, "admin-status");
  }
}

async function load() {
  $("admin-status").textContent = "";
  try {
    const [sources, jobs, documents] = await Promise.all([
      optional("/v1/sources"), optional("/v1/jobs?limit=20"), optional("/v1/documents"),
    ]);
    renderSources(sources);
    renderJobs(jobs);
    renderPii(documents);
    $("admin").dataset.loaded = "true";
  } catch (err) {
    handle(err, "admin-status");
  }
}

async function reindex(source, button) {
  button.disabled = true;
  $("admin-status").textContent = "";
  $("admin-note").textContent = "";
  try {
    const job = await api("/v1/sources/" + source.id + "/reindex", { method: "POST" });
    $("admin-note").textContent = "Re-indexing " + source.name + ": job " + job.id + ".";
    await refreshJobs();
  } catch (err) {
    $("admin-status").textContent = "Re-indexing " + source.name + " failed: " +
      describeError(err);
  } finally {
    button.disabled = false;
  }
}

// Live progress: poll the jobs while the view is open.
document.addEventListener("rag:view", (event) => {
  clearInterval(timer);
  timer = null;
  if (event.detail !== "admin") return;
  load();
  timer = setInterval(refreshJobs, POLL_MS);
});
