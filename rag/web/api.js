// The page's API client and signed-in session: requests with the key, the service's errors in
// plain words, and the switch between the sign-in form and the signed-in views.
// Shared by app.js, chat.js and admin.js. Text from the server is only ever set with textContent.

const KEY_STORAGE = "rag.apiKey";
const REQUEST_TIMEOUT_MS = 30000;

export const $ = (id) => document.getElementById(id);
export const state = { key: sessionStorage.getItem(KEY_STORAGE), me: null, conversationId: null };

export class ApiError extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

export function headers(extra) {
  const result = Object.assign({}, extra || {});
  if (state.key) result.Authorization = "Bearer " + state.key;
  return result;
}

export async function fail(response) {
  let message = response.statusText;
  try {
    message = (await response.json()).message || message;
  } catch (_) { /* not JSON: keep the status text */ }
  throw new ApiError(response.status, message, response.headers.get("Retry-After"));
}

// fetch with the key, a time limit and the service's one error shape turned into ApiError.
export async function request(path, options) {
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

export async function api(path, options) {
  const response = await request(path, options);
  return response.status === 204 ? null : response.json();
}

// Errors in plain words.
export function describeError(err) {
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

export function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// -- session ----------------------------------------------------------------------------------

// One view at a time; admin.js listens for "rag:view" to start and stop its polling.
export function show(view) {
  $("signin").hidden = view !== "signin";
  $("chat").hidden = view !== "chat";
  $("admin").hidden = view !== "admin";
  $("nav").hidden = view === "signin";
  $("nav-chat").setAttribute("aria-pressed", String(view === "chat"));
  $("nav-admin").setAttribute("aria-pressed", String(view === "admin"));
  document.dispatchEvent(new CustomEvent("rag:view", { detail: view }));
}

// Keeps the key in this tab's storage only once /v1/me has accepted it.
export function rememberKey(key) {
  sessionStorage.setItem(KEY_STORAGE, key);
}

export function signOut(message) {
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
export function handle(err, statusId) {
  if (err instanceof ApiError && err.status === 401 && state.me && state.me.via !== "proxy") {
    signOut(describeError(err));
    return;
  }
  $(statusId).textContent = describeError(err);
}
