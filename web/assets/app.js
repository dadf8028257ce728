// The client's entry: a route per page in the URL's fragment (#/signin, #/signup, #/tasks,
// #/account), the header's navigation, sign-out, and the way back to sign-in whenever the API
// refuses the token.

import { api, session, SESSION_ENDED } from "./api.js";
import { accountPage } from "./account.js";
import { signIn, signUp } from "./auth.js";
import { tasksPage } from "./tasks.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const pageAlert = document.getElementById("page-alert");

/** Why the sign-in page is shown, said once on it. */
let reason = null;

const pages = {
  "#/signin": () => signIn(main, reason),
  "#/signup": () => signUp(main),
  "#/tasks": () => tasksPage(main),
  "#/account": () => accountPage(main),
};
const PUBLIC = new Set(["#/signin", "#/signup"]);

function route() {
  let [page, query] = location.hash.split("?");
  if (query === "deleted") reason = "Your account and its tasks have been deleted.";
  const signedIn = Boolean(session.get());
  if (!pages[page] || signedIn === PUBLIC.has(page)) {
    location.replace(signedIn ? "#/tasks" : "#/signin");
    return;
  }
  pageAlert.hidden = true;
  nav.hidden = !signedIn;
  for (const link of nav.querySelectorAll("a")) {
    if (link.getAttribute("href") === page) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  pages[page]();
  reason = null;
  main.querySelector("h1").focus();
}

window.addEventListener(SESSION_ENDED, (event) => {
  reason = `You have been signed out (${event.detail.replace(/\.$/, "")}). Sign in again to go on.`;
  location.hash = "#/signin";
});

document.getElementById("sign-out").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  try {
    await api.signOut();
    session.clear();
    reason = "You have signed out.";
    location.hash = "#/signin";
  } catch (error) {
    if (error.status !== 401) {
      pageAlert.textContent = `Signing out failed: ${error.message}`;
      pageAlert.hidden = false;
    }
  } finally {
    button.disabled = false;
  }
});

window.addEventListener("hashchange", route);
route();
