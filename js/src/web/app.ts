// The page qtalk serve offers on its ws listeners (internal/web/static):
// a chat, the kv store, an echo and a callback, over one Peer on the
// server's WebSocket. Plain DOM; the ids are listed in index.html.

import { Peer, QtalkError, RespondMux, type Call, type Response } from "../index.js";
import { dial } from "../transport/index.js";

/** The element with id, which index.html must have. */
function element<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`qtalk page: no element #${id}`);
  return e as T;
}

const ui = {
  status: element<HTMLParagraphElement>("status"),
  reconnect: element<HTMLButtonElement>("reconnect"),
  error: element<HTMLParagraphElement>("error"),
  chatForm: element<HTMLFormElement>("chat-form"),
  chatName: element<HTMLInputElement>("chat-name"),
  chatText: element<HTMLInputElement>("chat-text"),
  chatLog: element<HTMLOListElement>("chat-log"),
  kvForm: element<HTMLFormElement>("kv-form"),
  kvKey: element<HTMLInputElement>("kv-key"),
  kvValue: element<HTMLInputElement>("kv-value"),
  kvResult: element<HTMLOutputElement>("kv-result"),
  echoForm: element<HTMLFormElement>("echo-form"),
  echoText: element<HTMLInputElement>("echo-text"),
  echoResult: element<HTMLOutputElement>("echo-result"),
  callbackButton: element<HTMLButtonElement>("callback-button"),
  callbackResult: element<HTMLOutputElement>("callback-result"),
};

/**
 * Where the server's WebSocket is: the address in the page's ?ws=
 * parameter (for a page served elsewhere), or /qtalk on the page's host.
 */
function serverAddress(): string {
  const given = new URLSearchParams(location.search).get("ws");
  if (given) return given;
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/qtalk`;
}

/** An error as people read it: a QtalkError with its code name. */
function describe(err: unknown): string {
  if (err instanceof QtalkError) return `${err.codeName}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/** A value as JSON text, with what JSON lacks spelled out. */
function show(v: unknown): string {
  return JSON.stringify(v, (_key, x: unknown) => {
    if (typeof x === "bigint") return x.toString();
    if (x instanceof Uint8Array) return `bytes(${x.length})`;
    if (x instanceof Map) return Object.fromEntries(x);
    return x;
  }) ?? "null";
}

/** The text of an input as a value: JSON if it parses, else the text itself. */
function valueOf(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function showError(what: string, err: unknown): void {
  ui.error.textContent = `${what}: ${describe(err)}`;
  ui.error.hidden = false;
}

function setResult(out: HTMLOutputElement, text: string, failed = false): void {
  out.textContent = text;
  out.classList.toggle("error", failed);
}

type State = "connecting" | "connected" | "disconnected";

function setState(state: State, detail = ""): void {
  ui.status.dataset.state = state;
  ui.status.textContent = detail ? `${state}: ${detail}` : state;
  ui.reconnect.hidden = state !== "disconnected";
  for (const b of document.querySelectorAll<HTMLButtonElement>("main button")) b.disabled = state !== "connected";
}

// --- connection ---

let peer: Peer | undefined; // while connected
let subscription: AbortController | undefined; // of the chat subscription running

/** What the page serves the server: check:echo, answered and shown. */
function pageHandler(): RespondMux {
  const mux = new RespondMux();
  mux.handle("check:echo", async (_r, call: Call) => {
    const v = await call.receiveArgs();
    setResult(ui.callbackResult, `server called back with ${show(v)}`);
    return v;
  });
  return mux;
}

async function connect(): Promise<void> {
  const address = serverAddress();
  setState("connecting", address);
  let p: Peer;
  try {
    p = new Peer(await dial(address), { handler: pageHandler() });
  } catch (err) {
    setState("disconnected", describe(err));
    return;
  }
  peer = p;
  ui.error.hidden = true;
  setState("connected", address);
  void p.session.done.then((err) => {
    peer = undefined;
    subscription?.abort();
    setState("disconnected", err ? describe(err) : "the server closed the session");
  });
  void subscribe(p);
}

/** The peer, or an error saying there is none. */
function connected(): Peer {
  if (peer === undefined) throw new Error("not connected");
  return peer;
}

// --- chat ---

const nameKey = "qtalk.chat.name";

/** Adds a message to the log in id order, unless it is there already. */
function addMessage(m: Message): void {
  if (ui.chatLog.querySelector(`li[data-id="${m.id}"]`)) return;
  const li = document.createElement("li");
  li.dataset.id = String(m.id);
  const time = document.createElement("time");
  time.className = "time";
  time.dateTime = m.time;
  time.textContent = new Date(m.time).toLocaleTimeString();
  const user = document.createElement("span");
  user.className = "user";
  user.textContent = m.user;
  const text = document.createElement("span");
  text.className = "text";
  text.textContent = m.text;
  li.append(time, user, text);
  const later = [...ui.chatLog.querySelectorAll<HTMLLIElement>("li[data-id]")].find((e) => Number(e.dataset.id) > m.id);
  ui.chatLog.insertBefore(li, later ?? null);
  li.scrollIntoView({ block: "nearest" });
}

function addEvent(text: string): void {
  const li = document.createElement("li");
  li.className = "event";
  li.textContent = text;
  ui.chatLog.append(li);
  li.scrollIntoView({ block: "nearest" });
}

/** A chat message, as Go's demo.Message. */
interface Message {
  id: number;
  user: string;
  text: string;
  time: string; // RFC 3339
}

/** What chat:subscribe streams, as Go's demo.Event. */
interface ChatEvent {
  type: "joined" | "left" | "message";
  user: string;
  message?: Message;
}

/**
 * Subscribes to the chat as the name in the name field, then shows the
 * history and the events as they come, until the subscription is aborted
 * (the name changed, the session ended). Subscribing first, the history
 * misses nothing; a message in both shows once.
 */
async function subscribe(p: Peer): Promise<void> {
  subscription?.abort();
  const ctl = new AbortController();
  subscription = ctl;
  let stream: Response | undefined;
  try {
    stream = await p.stream("chat:subscribe", [ui.chatName.value], { signal: ctl.signal });
    const history = await p.call<Message[]>("chat:history", []);
    for (const m of history) addMessage(m);
    for await (const v of stream) {
      const ev = v as ChatEvent;
      if (ev.type === "message" && ev.message) addMessage(ev.message);
      else addEvent(`${ev.user} ${ev.type}`);
    }
    if (!ctl.signal.aborted) addEvent("the chat ended the subscription");
  } catch (err) {
    if (!ctl.signal.aborted) showError("chat:subscribe", err);
  } finally {
    await stream?.close();
  }
}

ui.chatName.value = localStorage.getItem(nameKey) ?? `guest-${Math.floor(Math.random() * 9000) + 1000}`;
ui.chatName.addEventListener("change", () => {
  localStorage.setItem(nameKey, ui.chatName.value);
  if (peer && ui.chatName.value) void subscribe(peer);
});

ui.chatForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await connected().call("chat:send", [ui.chatName.value, ui.chatText.value]);
    ui.chatText.value = "";
    ui.chatText.focus();
  } catch (err) {
    showError("chat:send", err);
  }
});

// --- kv ---

ui.kvForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  const key = ui.kvKey.value;
  const op = (e.submitter as HTMLButtonElement | null)?.value === "get" ? "get" : "set";
  try {
    if (op === "set") {
      const value = valueOf(ui.kvValue.value);
      await connected().call("kv:set", [key, value]);
      setResult(ui.kvResult, `set ${key} = ${show(value)}`);
    } else {
      const value = await connected().call("kv:get", [key]);
      setResult(ui.kvResult, `${key} = ${show(value)}`);
    }
  } catch (err) {
    setResult(ui.kvResult, `kv:${op}: ${describe(err)}`, true);
  }
});

// --- echo ---

ui.echoForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  const value = valueOf(ui.echoText.value);
  const start = performance.now();
  try {
    const got = await connected().call("echo:echo", value);
    const ms = performance.now() - start;
    setResult(ui.echoResult, `${show(got)} in ${ms.toFixed(1)} ms`);
  } catch (err) {
    setResult(ui.echoResult, `echo:echo: ${describe(err)}`, true);
  }
});

// --- callback ---

let callbacks = 0;

ui.callbackButton.addEventListener("click", async () => {
  const value = `callback ${++callbacks}`;
  setResult(ui.callbackResult, "waiting for the server to call back…");
  try {
    const got = await connected().call("check:callback", value);
    setResult(ui.callbackResult, `${ui.callbackResult.textContent}\ncheck:callback returned ${show(got)}`);
  } catch (err) {
    setResult(ui.callbackResult, `check:callback: ${describe(err)}`, true);
  }
});

ui.reconnect.addEventListener("click", () => void connect());

void connect();
