// The chat page's wiring: sign-in, the navigation between views, the question box and the
// first sign-in when the page opens. An ES module, no build step: api.js is the API client and
// session, chat.js the conversation view, admin.js the admin view.

import { $, api, describeError, handle, rememberKey, show, signOut, state } from "./api.js";
import { ask, loadConversations, newChat, openOriginal } from "./chat.js";

// -- sign-in ----------------------------------------------------------------------------------

async function signIn() {
  state.me = await api("/v1/me");
  $("who").textContent = "Signed in as " + state.me.name +
    (state.me.role === "admin" ? " (admin)" : "");
  $("nav-admin").hidden = state.me.role !== "admin";
  $("sign-out").hidden = state.me.via === "proxy";
  show("chat");
  // Focus first: one can type while the conversation list loads.
  $("question").focus();
  await loadConversations();
}

$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const key = $("key").value.trim();
  if (!key) return;
  state.key = key;
  $("signin-error").textContent = "";
  try {
    await signIn();
    rememberKey(key);
    $("key").value = "";
  } catch (err) {
    state.key = null;
    $("signin-error").textContent = describeError(err);
  }
});

$("sign-out").addEventListener("click", () => signOut(""));
$("nav-chat").addEventListener("click", () => { show("chat"); $("question").focus(); });
$("nav-admin").addEventListener("click", () => show("admin"));

// -- the conversation -------------------------------------------------------------------------

$("new-chat").addEventListener("click", newChat);

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

$("source-open").addEventListener("click", openOriginal);

// -- start ------------------------------------------------------------------------------------

(async function start() {
  try {
    // With a key from this tab's storage, or through a trusting proxy, this signs in.
    await signIn();
  } catch (err) {
    signOut(state.key && err.status !== 401 ? describeError(err) : "");
  }
})();
