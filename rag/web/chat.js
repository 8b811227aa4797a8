// The conversation view: past conversations, streamed answers with each [n] turned into a
// button, and the dialog that shows a cited source. Text from the server is only ever set with
// textContent.

import {
  $, ApiError, api, describeError, el, fail, handle, headers, request, state,
} from "./api.js";

// No event from the server for this long: the answer is given up as timed out.
const STREAM_IDLE_MS = 120000;

// -- conversations ----------------------------------------------------------------------------

export async function loadConversations() {
  const list = $("conversation-list");
  const conversations = await api("/v1/conversations");
  list.replaceChildren();
  for (const c of conversations) {
    const item = el("li", { "data-id": String(c.id) });
    const open = el("button", { type: "button", class: "conversation" }, c.title || "Untitled");
    if (c.id === state.conversationId) open.setAttribute("aria-current", "true");
    open.addEventListener("click", () => openConversation(c.id));
    const remove = el("button", { type: "button", class: "delete",
      "aria-label": "Delete conversation: " + (c.title || "Untitled") }, "×");
    remove.addEventListener("click", () => deleteConversation(c.id));
    item.append(open, remove);
    list.append(item);
  }
  $("conversations-empty").hidden = conversations.length > 0;
}

async function openConversation(id) {
  $("chat-status").textContent = "";
  try {
    const conversation = await api("/v1/conversations/" + id);
    state.conversationId = id;
    $("messages").replaceChildren();
    for (const m of conversation.messages) {
      if (m.role === "user") addQuestion(m.content);
      else renderAnswer(addAnswer(), m.content, m.citations, m.found, "done");
    }
    $("intro").hidden = conversation.messages.length > 0;
    await loadConversations();
    $("question").focus();
  } catch (err) {
    handle(err, "chat-status");
  }
}

async function deleteConversation(id) {
  try {
    await api("/v1/conversations/" + id, { method: "DELETE" });
    if (state.conversationId === id) newChat();
    await loadConversations();
    $("new-chat").focus();
  } catch (err) {
    handle(err, "chat-status");
  }
}

export function newChat() {
  state.conversationId = null;
  $("messages").replaceChildren();
  $("intro").hidden = false;
  $("chat-status").textContent = "";
  for (const b of document.querySelectorAll(".conversation[aria-current]")) {
    b.removeAttribute("aria-current");
  }
  $("question").focus();
}

// -- messages ---------------------------------------------------------------------------------

function addQuestion(text) {
  const item = el("li", { class: "message question" });
  item.append(el("p", { class: "who-said" }, "You"), el("p", { class: "text" }, text));
  $("messages").append(item);
  item.scrollIntoView({ block: "end" });
}

function addAnswer() {
  const item = el("li", { class: "message answer", "data-state": "streaming" });
  item.append(el("p", { class: "who-said" }, "Answer"), el("p", { class: "text" }));
  $("messages").append(item);
  return item;
}

// The answer's text with each [n] turned into a button opening source n, and each sentence the
// grounding check could not support (rag/grounding.py) marked, with why, in plain words.
function renderText(target, text, citations, sentences, quotes) {
  target.replaceChildren();
  let last = 0;
  for (const sentence of sentences || []) {
    if (sentence.grounded) continue;
    const at = text.indexOf(sentence.text, last);
    if (at === -1) continue;
    appendCited(target, text.slice(last, at), citations, quotes);
    const marked = el("span", { class: "unsupported", title: sentence.reason });
    appendCited(marked, sentence.text, citations, quotes);
    target.append(marked, el("span", { class: "unsupported-note" },
      " (not supported by the sources: " + sentence.reason + ")"));
    last = at + sentence.text.length;
  }
  appendCited(target, text.slice(last), citations, quotes);
}

function appendCited(target, text, citations, quotes) {
  const byN = new Map(citations.map((c) => [c.n, c]));
  let last = 0;
  for (const match of text.matchAll(/\[(\d+)\]/g)) {
    const citation = byN.get(Number(match[1]));
    if (!citation) continue;
    target.append(text.slice(last, match.index), citeButton(citation, "inline", quotes));
    last = match.index + match[0].length;
  }
  target.append(text.slice(last));
}

function citeButton(citation, kind, quotes) {
  const button = el("button", {
    type: "button",
    class: "cite " + kind,
    "data-n": String(citation.n),
    "aria-label": "Source " + citation.n + ": " + sourceLabel(citation) + ", page " + citation.page,
  }, String(citation.n));
  button.addEventListener("click", () => openSource(citation, button, quotes || []));
  return button;
}

// "Title (file.pdf)": the file name (as readers see it, anonymized) tells apart documents of
// one title. Answers stored before citations carried it take it from the path.
function sourceLabel(citation) {
  const name = citation.file_name || (citation.path || "").split("/").pop();
  if (!name || name === citation.title) return citation.title || name;
  return (citation.title || "Untitled") + " (" + name + ")";
}

// The sources' own words that answer (rag/quotes.py), shown as soon as they arrive, before
// the model's answer: each quote with the button opening its source, where it is highlighted.
function renderQuotes(item, quotes, citations) {
  const byN = new Map(citations.map((c) => [c.n, c]));
  const shown = quotes.filter((q) => byN.has(q.citation));
  item.querySelector(".quotes")?.remove();
  if (!shown.length) return;
  const block = el("div", { class: "quotes" });
  block.append(el("p", { class: "quotes-label" }, "In the sources' words:"));
  const list = el("ul", { class: "quote-list" });
  for (const quote of shown) {
    const entry = el("li", { class: "quote" });
    entry.append(el("q", {}, quote.text), " ", citeButton(byN.get(quote.citation), "quoted", quotes));
    list.append(entry);
  }
  block.append(list);
  item.querySelector(".text").after(block);
}

function renderAnswer(item, text, citations, found, phase, sentences, quotes) {
  item.dataset.state = phase;
  item.classList.toggle("not-found", !found);
  const target = item.querySelector(".text");
  if (!found) {
    item.querySelector(".who-said").textContent = "Not in the documents";
    target.textContent = text;
  } else {
    renderText(target, text, citations, sentences, quotes);
  }
  let sources = item.querySelector(".sources");
  if (found && citations.length && !sources) {
    sources = el("div", { class: "sources" });
    sources.append(el("span", { class: "sources-label" }, "Sources:"));
    const list = el("ol", { class: "source-list" });
    for (const c of citations) {
      const entry = el("li");
      entry.append(citeButton(c, "listed", quotes), " ", el("span", {}, sourceLabel(c) + ", p. " + c.page));
      list.append(entry);
    }
    sources.append(list);
    item.append(sources);
  }
}

// Server-sent events from a fetch body: yields {event, data}.
async function* events(response, controller) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let idle = setTimeout(() => controller.abort(), STREAM_IDLE_MS);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(), STREAM_IDLE_MS);
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) !== -1) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const fields = {};
        for (const line of block.split("\n")) {
          const at = line.indexOf(": ");
          if (at > 0) fields[line.slice(0, at)] = line.slice(at + 2);
        }
        if (fields.event) yield { event: fields.event, data: JSON.parse(fields.data || "{}") };
      }
    }
  } finally {
    clearTimeout(idle);
  }
}

// Asks in the open conversation (made first when there is none) and streams the answer in.
export async function ask(question) {
  $("chat-status").textContent = "";
  $("intro").hidden = true;
  if (state.conversationId === null) {
    const created = await api("/v1/conversations", { method: "POST", body: "{}" });
    state.conversationId = created.id;
  }
  addQuestion(question);
  const item = addAnswer();
  const controller = new AbortController();
  let response;
  try {
    response = await fetch("/v1/conversations/" + state.conversationId + "/messages", {
      method: "POST",
      headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify({ question }),
      signal: controller.signal,
    });
  } catch (err) {
    item.remove();
    throw new ApiError(-1, "network");
  }
  if (!response.ok) {
    item.remove();
    await fail(response);
  }
  let text = "";
  let citations = [];
  let found = true;
  let quotes = [];
  try {
    for await (const { event, data } of events(response, controller)) {
      if (event === "citations") {
        citations = data.citations;
        found = data.found;
      } else if (event === "quotes") {
        quotes = data.quotes;
        if (found) renderQuotes(item, quotes, citations);
      } else if (event === "token") {
        text += data.text;
        renderAnswer(item, text, citations, found, "streaming", [], quotes);
      } else if (event === "done") {
        renderAnswer(item, data.answer, data.citations, data.found, "done", data.sentences,
          quotes);
      } else if (event === "error") {
        throw new ApiError(data.status, data.message);
      }
    }
  } catch (err) {
    item.dataset.state = "failed";
    throw err.name === "AbortError" ? new ApiError(0, "timeout") : err;
  }
  if (item.dataset.state !== "done") throw new ApiError(0, "timeout");
}

// -- sources ----------------------------------------------------------------------------------

function openSource(citation, opener, quotes) {
  $("source-n").textContent = "Source " + citation.n;
  $("source-title").textContent = citation.title || citation.path;
  $("source-page").textContent = "Page " + citation.page;
  $("source-path").textContent = citation.path;
  showPassage($("source-passage"), citation.snippet,
    quotes.filter((q) => q.citation === citation.n));
  $("source-error").textContent = "";
  const link = $("source-open");
  link.href = "/v1/documents/" + citation.document_id + "/file#page=" + citation.page;
  link.textContent = "Open the original at page " + citation.page;
  link.dataset.documentId = String(citation.document_id);
  link.dataset.page = String(citation.page);
  const dialog = $("source");
  dialog.showModal();
  dialog.addEventListener("close", () => opener.focus(), { once: true });
}

// The passage's start (the citation's snippet) with its quotes highlighted. A quote's offsets
// are in the whole passage, whitespace collapsed, which the snippet begins: one past the
// snippet's end is shown after it, highlighted on its own.
function showPassage(target, snippet, quotes) {
  const shown = snippet.endsWith(" …") ? snippet.slice(0, -2) : snippet;
  target.replaceChildren();
  let last = 0;
  const later = [];
  for (const quote of [...quotes].sort((a, b) => a.start - b.start)) {
    if (quote.start < last) continue;
    // In the snippet, or begun there (the snippet's rest is its start).
    const inside = quote.start < shown.length
      && quote.text.startsWith(shown.slice(quote.start, quote.end));
    if (inside) {
      target.append(shown.slice(last, quote.start), el("mark", { class: "quote-mark" }, quote.text));
      last = Math.min(quote.end, shown.length);
    } else {
      later.push(quote);
    }
  }
  target.append(shown.slice(last));
  if (shown !== snippet && last < shown.length) target.append(" …");
  for (const quote of later) {
    target.append(" ", el("mark", { class: "quote-mark" }, quote.text), " …");
  }
}

// The "Open the original" link's click. A plain link cannot carry a pasted key, and a file
// fetched into a blob: URL would run in this page's origin. So the page asks for a short-lived
// file link (a ticket in the URL) and opens that: the browser gets the service's own headers,
// which show PDFs (at the cited #page) and text, and make anything else a download.
export async function openOriginal(event) {
  event.preventDefault();
  const link = event.currentTarget;
  const opened = window.open("", "_blank"); // now, while the click still counts as the user's
  try {
    const file = await api("/v1/documents/" + link.dataset.documentId + "/file-link",
      { method: "POST" });
    if (file.inline) {
      if (opened) {
        opened.opener = null;
        opened.location.href = file.url + "#page=" + link.dataset.page;
      }
    } else {
      if (opened) opened.close();
      const download = document.createElement("a");
      download.href = file.url;
      download.download = "";
      document.body.append(download);
      download.click();
      download.remove();
    }
  } catch (err) {
    if (opened) opened.close();
    $("source-error").textContent = err instanceof ApiError && err.status === 404
      ? "The service cannot serve the original of this document."
      : err instanceof ApiError && err.status === 403
        ? "Original files are not available to you: " + err.message
        : describeError(err);
  }
}
