// The chat page: sign-in, conversations, streamed answers with numbered sources.
// Plain JavaScript, no build step. Text from the server is only ever set with textContent.
"use strict";

(function () {
  const KEY_STORAGE = "rag.apiKey";
  // No event from the server for this long: the answer is given up as timed out.
  const STREAM_IDLE_MS = 120000;
  const REQUEST_TIMEOUT_MS = 30000;

  const $ = (id) => document.getElementById(id);
  const state = { key: sessionStorage.getItem(KEY_STORAGE), me: null, conversationId: null };

  class ApiError extends Error {
    constructor(status, message, retryAfter) {
      super(message);
      this.status = status;
      this.retryAfter = retryAfter;
    }
  }

  function headers(extra) {
    const result = Object.assign({}, extra || {});
    if (state.key) result.Authorization = "Bearer " + state.key;
    return result;
  }

  async function fail(response) {
    let message = response.statusText;
    try {
      message = (await response.json()).message || message;
    } catch (_) { /* not JSON: keep the status text */ }
    throw new ApiError(response.status, message, response.headers.get("Retry-After"));
  }

  // fetch with the key, a time limit and the service's one error shape turned into ApiError.
  async function request(path, options) {
    const opts = Object.assign({}, options || {});
    opts.headers = headers(opts.body ? { "Content-Type": "application/json" } : {});
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), opts.timeoutMs || REQUEST_TIMEOUT_MS);
    opts.signal = controller.signal;
    let response;
    try {
      response = await fetch(path, opts);
    } catch (err) {
      throw err.name === "AbortError" ? new ApiError(0, "timeout") : new ApiError(-1, "network");
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) await fail(response);
    return response;
  }

  async function api(path, options) {
    const response = await request(path, options);
    return response.status === 204 ? null : response.json();
  }

  // Errors in plain words.
  function describeError(err) {
    if (!(err instanceof ApiError)) return "Something went wrong in this page: " + err.message;
    switch (err.status) {
      case -1: return "The service cannot be reached. Check your connection and try again.";
      case 0: return "The service did not answer in time. It may be busy; please try again.";
      case 401: return "Your sign-in was not accepted (" + err.message + "). Please sign in again.";
      case 403: return "You are not allowed to do this: " + err.message + ".";
      case 404: return "Not found: " + err.message + ".";
      case 422: return "The question could not be sent: " + err.message + ".";
      case 429: {
        const wait = parseInt(err.retryAfter, 10);
        return "The service is busy answering other questions. " +
          (wait > 0 ? "Please try again in " + wait + " second" + (wait === 1 ? "" : "s") + "."
            : "Please try again in a moment.");
      }
      case 503: return "The service is unavailable right now: " + err.message + ".";
      default: return "The service reported an error (" + err.status + "): " + err.message + ".";
    }
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // -- sign-in ------------------------------------------------------------------------------

  function show(view) {
    $("signin").hidden = view !== "signin";
    $("chat").hidden = view !== "chat";
    $("admin").hidden = view !== "admin";
    $("nav").hidden = view === "signin";
    $("nav-chat").setAttribute("aria-pressed", String(view === "chat"));
    $("nav-admin").setAttribute("aria-pressed", String(view === "admin"));
    document.dispatchEvent(new CustomEvent("rag:view", { detail: view }));
  }

  async function signIn() {
    state.me = await api("/v1/me");
    $("who").textContent = "Signed in as " + state.me.name +
      (state.me.role === "admin" ? " (admin)" : "");
    $("nav-admin").hidden = state.me.role !== "admin";
    $("sign-out").hidden = state.me.via === "proxy";
    show("chat");
    await loadConversations();
    $("question").focus();
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY_STORAGE);
    state.key = null;
    state.me = null;
    $("messages").replaceChildren();
    $("conversation-list").replaceChildren();
    $("signin-error").textContent = message || "";
    show("signin");
    $("key").focus();
  }

  // A 401 anywhere means the key no longer works: back to the sign-in form, saying why.
  function handle(err, statusId) {
    if (err instanceof ApiError && err.status === 401 && state.me && state.me.via !== "proxy") {
      signOut(describeError(err));
      return;
    }
    $(statusId).textContent = describeError(err);
  }

  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = $("key").value.trim();
    if (!key) return;
    state.key = key;
    $("signin-error").textContent = "";
    try {
      await signIn();
      sessionStorage.setItem(KEY_STORAGE, key);
      $("key").value = "";
    } catch (err) {
      state.key = null;
      $("signin-error").textContent = describeError(err);
    }
  });

  $("sign-out").addEventListener("click", () => signOut(""));
  $("nav-chat").addEventListener("click", () => { show("chat"); $("question").focus(); });
  $("nav-admin").addEventListener("click", () => show("admin"));

  // -- conversations --------------------------------------------------------------------------

  async function loadConversations() {
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

  function newChat() {
    state.conversationId = null;
    $("messages").replaceChildren();
    $("intro").hidden = false;
    $("chat-status").textContent = "";
    for (const b of document.querySelectorAll(".conversation[aria-current]")) {
      b.removeAttribute("aria-current");
    }
    $("question").focus();
  }

  $("new-chat").addEventListener("click", newChat);

  // -- messages -------------------------------------------------------------------------------

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

  // The answer's text with each [n] turned into a button opening source n.
  function renderText(target, text, citations) {
    const byN = new Map(citations.map((c) => [c.n, c]));
    target.replaceChildren();
    let last = 0;
    for (const match of text.matchAll(/\[(\d+)\]/g)) {
      const citation = byN.get(Number(match[1]));
      if (!citation) continue;
      target.append(text.slice(last, match.index), citeButton(citation, "inline"));
      last = match.index + match[0].length;
    }
    target.append(text.slice(last));
  }

  function citeButton(citation, kind) {
    const button = el("button", {
      type: "button",
      class: "cite " + kind,
      "data-n": String(citation.n),
      "aria-label": "Source " + citation.n + ": " + citation.title + ", page " + citation.page,
    }, String(citation.n));
    button.addEventListener("click", () => openSource(citation, button));
    return button;
  }

  function renderAnswer(item, text, citations, found, phase) {
    item.dataset.state = phase;
    item.classList.toggle("not-found", !found);
    const target = item.querySelector(".text");
    if (!found) {
      item.querySelector(".who-said").textContent = "Not in the documents";
      target.textContent = text;
    } else {
      renderText(target, text, citations);
    }
    let sources = item.querySelector(".sources");
    if (found && citations.length && !sources) {
      sources = el("div", { class: "sources" });
      sources.append(el("span", { class: "sources-label" }, "Sources:"));
      const list = el("ol", { class: "source-list" });
      for (const c of citations) {
        const entry = el("li");
        entry.append(citeButton(c, "listed"), " ", el("span", {}, c.title + ", p. " + c.page));
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

  async function ask(question) {
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
    try {
      for await (const { event, data } of events(response, controller)) {
        if (event === "citations") {
          citations = data.citations;
          found = data.found;
        } else if (event === "token") {
          text += data.text;
          renderAnswer(item, text, citations, found, "streaming");
        } else if (event === "done") {
          renderAnswer(item, data.answer, data.citations, data.found, "done");
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

  $("ask-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = $("question");
    const question = box.value.trim();
    if (!question || $("send").disabled) return;
    $("send").disabled = true;
    box.value = "";
    try {
      await ask(question);
      await loadConversations();
    } catch (err) {
      if (!box.value) box.value = question; // give the question back to retry it
      handle(err, "chat-status");
    } finally {
      $("send").disabled = false;
      // Back to the question box, unless the user has moved on meanwhile (e.g. to a source).
      const at = document.activeElement;
      if (!at || at === document.body || at === box || at === $("send")) box.focus();
    }
  });

  // Enter sends; Shift+Enter makes a new line.
  $("question").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("ask-form").requestSubmit();
    }
  });

  // -- sources --------------------------------------------------------------------------------

  function openSource(citation, opener) {
    $("source-n").textContent = "Source " + citation.n;
    $("source-title").textContent = citation.title || citation.path;
    $("source-page").textContent = "Page " + citation.page;
    $("source-path").textContent = citation.path;
    $("source-passage").textContent = citation.snippet;
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

  // With a pasted key a plain link cannot authenticate: fetch the file with the key and open
  // it from memory, keeping the #page anchor. Behind the proxy the plain link works.
  $("source-open").addEventListener("click", async (event) => {
    if (!state.key) return;
    event.preventDefault();
    const link = event.currentTarget;
    const opened = window.open("", "_blank"); // now, while the click still counts as the user's
    try {
      const response = await request("/v1/documents/" + link.dataset.documentId + "/file",
        { timeoutMs: 60000 });
      const url = URL.createObjectURL(await response.blob());
      if (opened) opened.location.href = url + "#page=" + link.dataset.page;
    } catch (err) {
      if (opened) opened.close();
      $("source-error").textContent = err instanceof ApiError && err.status === 404
        ? "The service cannot serve the original of this document."
        : describeError(err);
    }
  });

  // -- start ----------------------------------------------------------------------------------

  window.Rag = { api, describeError, handle, state, el, ApiError };

  (async function start() {
    try {
      // With a key from this tab's storage, or through a trusting proxy, this signs in.
      await signIn();
    } catch (err) {
      signOut(state.key && err.status !== 401 ? describeError(err) : "");
    }
  })();
})();
