// Building the page: elements from tags, attributes and children, where every string becomes a
// text node. Nothing here, nor anywhere in this client, sets HTML from a string.

/** `h("p", { class: "note" }, "text", child)`: an element; `on*` attributes become listeners. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, value);
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

let ids = 0;

/**
 * A labelled input with a place for its error: `{ row, input, showError }`. The error is tied to
 * the input (`aria-describedby`, `aria-invalid`), so a screen reader reads it with the field.
 */
export function field(label, attributes, hint) {
  const id = `field-${++ids}`;
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  const hintElement = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  const tag = attributes.rows ? "textarea" : "input";
  const input = h(tag, { id, ...attributes, "aria-describedby": [hintElement && hintElement.id, error.id].filter(Boolean).join(" ") });
  const row = h("div", { class: "field" }, h("label", { for: id }, label), hintElement, input, error);
  const showError = (message) => {
    error.textContent = message || "";
    error.hidden = !message;
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  };
  return { row, input, showError };
}

/** A form's alert: the error that belongs to no one field. Focusable, for when focus goes to it. */
export function alertBox() {
  const box = h("p", { class: "alert", role: "alert", hidden: true, tabindex: "-1" });
  return {
    box,
    show(message) {
      box.textContent = message || "";
      box.hidden = !message;
    },
  };
}

/**
 * Shows a failed call's `error` on a form. `fields` maps the API's field names to `field()`s:
 * each field the answer names gets its message next to it. `messages` maps a status to the field
 * and message it means (a wrong password, a taken email), the message text or a function of the
 * error. A 429 says when to try again; anything else goes in `alert`. Focus then goes to the
 * first field at fault, in the order of `fields`, or else to `fallback`.
 */
export function showProblem(error, { fields, alert, messages = {}, fallback = alert.box }) {
  const named = Object.entries(error.fields).filter(([name]) => fields[name]);
  for (const [name, message] of named) fields[name].showError(`${fieldLabel(name)} ${message}.`);
  const meant = messages[error.status];
  if (meant) {
    const [name, message] = meant;
    fields[name].showError(typeof message === "function" ? message(error) : message);
  } else if (error.status === 429) {
    alert.show(`Too many attempts. Try again ${waitText(error.retryAfter)}.`);
  } else if (!named.length) {
    alert.show(error.message);
  }
  const first = Object.values(fields).find((f) => f.input.getAttribute("aria-invalid"));
  (first ? first.input : fallback).focus();
}

/** `new_password` as a person reads it: "New password". */
function fieldLabel(name) {
  const words = name.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Says `message` to screen readers, politely. */
export function announce(message) {
  const region = document.getElementById("announce");
  region.textContent = "";
  // A fresh text node after a tick, so the same message twice is read twice.
  setTimeout(() => (region.textContent = message), 50);
}

/** Marks `button` busy while `work` runs, and runs it; a second press meanwhile does nothing. */
export async function busy(button, label, work) {
  const idle = button.textContent;
  button.disabled = true;
  button.textContent = label;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.textContent = idle;
  }
}

/** "in 2 minutes" / "in 40 seconds": when a 429's Retry-After lets the user try again. */
export function waitText(seconds) {
  if (!seconds) return "in a moment";
  if (seconds < 90) return `in ${seconds} second${seconds === 1 ? "" : "s"}`;
  return `in ${Math.ceil(seconds / 60)} minutes`;
}
