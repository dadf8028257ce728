// The client's entry: a route per page in the URL's fragment (#/signin, #/signup, #/tasks,
// #/account, #/forgot…), the header's navigation, sign-out, the banner of an unconfirmed address,
// mailed links, and the way back to sign-in whenever the API refuses the token.

import { api, session, SESSION_ENDED } from "./api.js";
import { accountPage } from "./account.js";
import { signIn, signUp } from "./auth.js";
import { h, waitText } from "./dom.js";
import { forgotPage, resetPage, verifyPage } from "./recovery.js";
import { tasksPage } from "./tasks.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const pageAlert = document.getElementById("page-alert");
const banner = document.getElementById("verify-banner");

/** Why the sign-in page is shown, said once on it. */
let reason = null;

/** Goes to sign-in, saying `why` there. */
function signedOut(why) {
  reason = why;
  location.hash = "#/signin";
}

/**
 * A mailed link's secret: links end in `#reset-password=…` or `#verify-email=…`. It is taken
 * out of the address bar (and so out of the history) as soon as the page reads it, and kept only
 * here, until its page has used it.
 */
let linkSecret = null;
const LINKS = { "#reset-password=": "#/reset-password", "#verify-email=": "#/verify-email" };

function takeLinkSecret() {
  for (const [prefix, page] of Object.entries(LINKS)) {
    if (location.hash.startsWith(prefix)) {
      linkSecret = location.hash.slice(prefix.length);
      history.replaceState(null, "", `${location.pathname}${location.search}${page}`);
    }
  }
}

/** The link's secret, once: a second visit to its page finds none. */
function useLinkSecret() {
  const secret = linkSecret;
  linkSecret = null;
  return secret;
}

const pages = {
  "#/signin": () => signIn(main, reason),
  "#/signup": () => signUp(main),
  "#/forgot": () => forgotPage(main),
  "#/reset-password": () => resetPage(main, useLinkSecret(), signedOut),
  "#/verify-email": () => verifyPage(main, useLinkSecret()),
  "#/tasks": () => tasksPage(main),
  "#/account": () => accountPage(main),
};
const PUBLIC = new Set(["#/signin", "#/signup", "#/forgot"]);
/** Pages a mailed link opens, whoever is signed in here. */
const ANYONE = new Set(["#/reset-password", "#/verify-email"]);

/** Asks the signed-in person to confirm their address while it is not, with a way to resend. */
function showBanner() {
  const user = session.get()?.user;
  banner.hidden = !user || user.email_verified !== false;
  if (banner.hidden) return;
  const said = h("p", {}, `Please confirm your email address: follow the link we mailed to ${user.email}.`);
  const again = h("button", { type: "button", class: "secondary" }, "Send the link again");
  again.addEventListener("click", async () => {
    again.disabled = true;
    try {
      await api.resendVerification();
      said.textContent = `A new link is on its way to ${user.email}.`;
    } catch (error) {
      said.textContent =
        error.status === 429 ? `Too many links sent. Try again ${waitText(error.retryAfter)}.` : error.message;
    } finally {
      again.disabled = false;
    }
  });
  banner.replaceChildren(said, again);
}
window.addEventListener("account-changed", showBanner);

function route() {
  takeLinkSecret();
  let [page, query] = location.hash.split("?");
  if (query === "deleted") reason = "Your account and its tasks have been deleted.";
  const signedIn = Boolean(session.get());
  if (!pages[page] || (!ANYONE.has(page) && signedIn === PUBLIC.has(page))) {
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
  showBanner();
  main.querySelector("h1").focus();
}

window.addEventListener(SESSION_ENDED, (event) => {
  signedOut(`You have been signed out (${event.detail.replace(/\.$/, "")}). Sign in again to go on.`);
});

document.getElementById("sign-out").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  try {
    await api.signOut();
    session.clear();
    signedOut("You have signed out.");
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
