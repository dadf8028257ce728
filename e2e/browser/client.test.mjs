// The web client in Chromium (Debian's, headless), through playwright-core: two people's
// journeys side by side, every error state, sign-out and sessions ended elsewhere, the keyboard,
// an axe-core check of every page, and screenshots at 375 and 1280 px.
//
//   BASE_URL=http://127.0.0.1:8080 npm test   # against a running deployment (the proxy)
//   npm test                                  # starts the standalone binary (target/debug)
//
// SCREENSHOTS (default target/screenshots) is where the screenshots go.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const screenshots = process.env.SCREENSHOTS || join(root, "target/screenshots");
const PASSWORD = "correct horse battery";
const PAGE_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
  "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

let base;
let standalone;
/** Where the service's mail can be read: the standalone's folder, or MAIL_DIR for a deployment. */
let mailDir = process.env.MAIL_DIR;
let browser;
const problems = [];

/** The standalone binary on a free port, in a folder of its own, with cheap hashes. */
async function startStandalone() {
  const binary = process.env.STANDALONE_BIN || join(root, "target/debug/standalone");
  const cwd = mkdtempSync(join(tmpdir(), "client-"));
  const child = spawn(binary, [], {
    cwd,
    env: {
      PATH: process.env.PATH,
      PORT: "0",
      ARGON2_MEMORY_KIB: "1024",
      ARGON2_ITERATIONS: "1",
      // One address signs up and in dozens of times here; the per-account throttle still holds.
      RATE_LIMIT_PER_MINUTE: "1000",
      RATE_LIMIT_BURST: "1000",
      RUST_LOG: "info",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const url = await new Promise((resolveUrl, reject) => {
    let logs = "";
    child.stderr.on("data", (chunk) => {
      logs += chunk;
      const found = logs.match(/listening on (http:\/\/[\d.]+:\d+)/);
      if (found) resolveUrl(found[1]);
    });
    child.on("exit", (code) => reject(new Error(`standalone exited with ${code}:\n${logs}`)));
  });
  // Its mail, as .eml files: the standalone process's default MAIL_DIR, under its folder.
  return { child, url, mailDir: join(cwd, "data/mail") };
}

before(async () => {
  if (process.env.BASE_URL) {
    base = process.env.BASE_URL.replace(/\/$/, "");
  } else {
    standalone = await startStandalone();
    base = standalone.url;
    mailDir = standalone.mailDir;
  }
  mkdirSync(screenshots, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  });
});

after(async () => {
  await browser?.close();
  standalone?.child.kill();
  assert.deepEqual(problems, [], "no page logged an error or a policy violation");
});

let people = 0;
/** A fresh address for each account, so runs and topologies never collide. */
const email = (who) => `${who}-${Date.now()}-${++people}@example.com`;

/** A browser context (its own storage: another person, or another device) and its page. */
async function open(width = 1280) {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  page.on("console", (message) => {
    // A 401/403/409/422/429 the page handles is logged by Chromium as a failed resource; only
    // script errors and policy violations count.
    const text = message.text();
    if (message.type() === "error" && !/Failed to load resource/.test(text)) problems.push(text);
  });
  page.on("pageerror", (error) => problems.push(String(error)));
  await page.goto(`${base}/`);
  return page;
}

/** The page's word that the service said 429: too many attempts or wrong passwords. */
const limited = (page) => page.getByText(/Too many .*Try again in \d+ seconds?/);

/**
 * Does `act` (a submission) and waits for the answer. Told to wait (the proxy's limit on the
 * password routes, or the issuer's per address, which a suite run from one address meets), it
 * waits as long as the page says and does it again, as a person would.
 */
async function untilAccepted(page, act) {
  for (let attempt = 0; attempt < 10; attempt++) {
    await act();
    await page.waitForFunction(() => !document.querySelector("button[type=submit][disabled]"));
    if (!(await limited(page).count())) return;
    const seconds = Number((await limited(page).first().textContent()).match(/in (\d+) second/)[1]);
    await page.waitForTimeout(seconds * 1000 + 250);
  }
  throw new Error("still told to wait after 10 tries");
}

/** Submits with the button `name`, and waits for the answer (see `untilAccepted`). */
const submit = (page, name) => untilAccepted(page, () => page.getByRole("button", { name, exact: true }).click());

async function signUp(page, name, address, password = PASSWORD) {
  await page.goto(`${base}/#/signup`);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(address);
  await page.getByLabel("Password").fill(password);
  await submit(page, "Create account");
  await page.getByRole("heading", { level: 1, name: `Hello, ${name}` }).waitFor();
}

async function signIn(page, address, password = PASSWORD) {
  await page.goto(`${base}/#/signin`);
  await page.getByLabel("Email").fill(address);
  await page.getByLabel("Password").fill(password);
  await submit(page, "Sign in");
}

async function addTask(page, title, description) {
  await page.getByLabel("Title").fill(title);
  if (description) await page.getByLabel("Description (optional)").fill(description);
  await page.getByRole("button", { name: "Add task" }).click();
  await page.getByRole("checkbox", { name: title }).waitFor();
}

const taskTitles = (page) => page.locator(".tasks .task-main label").allTextContents();
const token = (page) => page.evaluate(() => JSON.parse(sessionStorage.getItem("tasks.session")).token);

/**
 * The secret of the newest link to `page` ("reset-password", "verify-email") mailed to `address`,
 * waiting for the `count`-th such message: read from the .eml files, through the text part's
 * quoted-printable encoding.
 */
async function mailedSecret(address, page, count = 1) {
  const pattern = new RegExp(`#${page}=([A-Za-z0-9_-]{43})`);
  for (let waited = 0; waited < 10000; waited += 100) {
    const found = readdirSync(mailDir, { withFileTypes: true })
      .filter((entry) => entry.name.endsWith(".eml"))
      .map((entry) => join(mailDir, entry.name))
      .map((path) => ({ modified: statSync(path).mtimeMs, text: readFileSync(path, "utf8").replace(/=\r\n/g, "").replace(/=3D/g, "=") }))
      .filter(({ text }) => text.includes(`To: ${address}\r\n`) && pattern.test(text))
      .sort((a, b) => a.modified - b.modified);
    if (found.length >= count) return found.at(-1).text.match(pattern)[1];
    await new Promise((wait) => setTimeout(wait, 100));
  }
  throw new Error(`no ${count} ${page} link(s) mailed to ${address}`);
}

/** Tests that read the service's mail run where it can be read. */
const needsMail = () => ({
  skip: process.env.BASE_URL && !mailDir ? "no MAIL_DIR to read this deployment's mail from" : false,
});

/** axe-core in the page: no serious or critical violation. */
async function accessible(page, what) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const { violations } = await window.axe.run(document, { resultTypes: ["violations"] });
    return violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
  assert.deepEqual(violations, [], `axe on ${what}`);
}

async function shoot(page, name) {
  const width = page.viewportSize().width;
  await page.screenshot({ path: join(screenshots, `${name}-${width}.png`), fullPage: true });
}

test("the page is served under its own strict policy, and an unknown file is a 404", async () => {
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type"), /^text\/html/);
  assert.equal(page.headers.get("content-security-policy"), PAGE_POLICY);
  assert.equal(page.headers.get("x-frame-options"), "DENY");
  const script = await fetch(`${base}/assets/app.js`);
  assert.match(script.headers.get("content-type"), /javascript/);
  assert.equal(script.headers.get("content-security-policy"), PAGE_POLICY);
  assert.equal((await fetch(`${base}/assets/nothing.js`)).status, 404);
  // A way out of the folder is refused: nginx says 400 to it, the standalone process 404.
  const escape = await fetch(`${base}/assets/..%2F..%2FCargo.toml`);
  assert.ok([400, 404].includes(escape.status), `${escape.status}`);
  assert.doesNotMatch(await escape.text(), /\[package\]|\[workspace\]/);
});

test(
  "/docs shows Swagger UI, from the binary's own files, listing every operation of both services",
  { skip: process.env.BASE_URL ? "the proxy does not route /docs (each service serves its own)" : false },
  async () => {
    const document = await (await fetch(`${base}/openapi.json`)).json();
    const methods = ["get", "put", "post", "delete", "patch"];
    const operations = Object.values(document.paths).flatMap((item) => methods.filter((m) => item[m]));
    assert.ok(operations.length >= 20, `${operations.length} operations`);
    const page = await open();
    const outside = [];
    page.on("request", (request) => {
      if (!request.url().startsWith(base)) outside.push(request.url());
    });
    await page.goto(`${base}/docs`);
    await page.locator(".opblock").first().waitFor();
    assert.equal(await page.locator(".opblock").count(), operations.length, "one block per operation");
    for (const path of ["/signin", "/api/{user_id}/tasks", "/account/activity"]) {
      await page.locator(`.opblock-summary-path[data-path="${path}"]`).first().waitFor();
    }
    assert.deepEqual(outside, [], "nothing is fetched from elsewhere");
    await page.context().close();
  },
);

test("two people side by side: each sees only their own tasks, through every change", async () => {
  const ada = await open();
  const bob = await open();
  await signUp(ada, "Ada", email("ada"));
  await signUp(bob, "Bob", email("bob"));
  await addTask(ada, "Buy milk", "Two litres");
  await addTask(bob, "Walk the dog");
  await addTask(ada, "Write <b>letters</b>");
  assert.deepEqual(await taskTitles(ada), ["Buy milk", "Write <b>letters</b>"], "user text is text, never HTML");
  assert.equal(await ada.locator(".tasks b").count(), 0);
  assert.deepEqual(await taskTitles(bob), ["Walk the dog"]);

  // Edit the title and the description.
  await ada.getByRole("button", { name: "Edit “Buy milk”" }).click();
  await ada.getByLabel("Title", { exact: true }).last().fill("Buy oat milk");
  await ada.getByLabel("Description", { exact: true }).fill("");
  await ada.getByRole("button", { name: "Save" }).click();
  await ada.getByRole("checkbox", { name: "Buy oat milk" }).waitFor();
  assert.equal(await ada.locator(".description").count(), 0, "the description was cleared");

  // Toggle, then filter.
  await ada.getByRole("checkbox", { name: "Buy oat milk" }).check();
  await ada.locator(".task.done").waitFor();
  assert.doesNotMatch(await ada.locator(".tasks").textContent(), /null|undefined/, "nothing absent is shown");
  await ada.getByLabel("Done", { exact: true }).check();
  await ada.waitForFunction(() => document.querySelectorAll(".tasks li").length === 1);
  assert.deepEqual(await taskTitles(ada), ["Buy oat milk"]);
  await ada.getByLabel("Open", { exact: true }).check();
  await ada.waitForFunction(() => document.querySelector(".tasks label")?.textContent === "Write <b>letters</b>");
  await ada.getByLabel("All", { exact: true }).check();

  // Pages of ten, from X-Total-Count.
  for (let n = 1; n <= 10; n++) await addTask(ada, `Chore ${n}`);
  await ada.getByText("11–12 of 12").waitFor();
  await ada.getByRole("button", { name: "Previous page" }).click();
  await ada.getByText("1–10 of 12").waitFor();
  await ada.getByRole("button", { name: "Next page" }).click();
  await ada.getByText("11–12 of 12").waitFor();

  // Delete: focus moves to what is left.
  await ada.getByRole("button", { name: "Delete “Chore 10”" }).click();
  await ada.getByText("11–11 of 11").waitFor();
  assert.deepEqual(await taskTitles(bob), ["Walk the dog"]);
  await bob.reload();
  await bob.getByRole("checkbox", { name: "Walk the dog" }).waitFor();
  assert.deepEqual(await taskTitles(bob), ["Walk the dog"], "bob never sees ada's");
  await accessible(ada, "the tasks page");
  for (const page of [ada, bob]) await page.context().close();
});

test("sign-up and sign-in errors are shown where they belong, and what was typed stays", async () => {
  const page = await open();
  const taken = email("taken");
  await signUp(page, "Taken", taken);
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await page.getByText("You have signed out.").waitFor();

  // 422s, each next to its field.
  await page.goto(`${base}/#/signup`);
  await page.getByLabel("Name").fill("Someone");
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByLabel("Password").fill("short");
  await submit(page, "Create account");
  const emailError = page.locator("#" + (await page.getByLabel("Email").getAttribute("aria-describedby")).split(" ").pop());
  await emailError.waitFor();
  assert.match(await emailError.textContent(), /^Email /);
  assert.equal(await page.getByLabel("Email").getAttribute("aria-invalid"), "true");
  assert.equal(await page.getByLabel("Password").getAttribute("aria-invalid"), "true");
  assert.equal(await page.getByLabel("Email").inputValue(), "not-an-email", "kept");
  await accessible(page, "the sign-up page with errors");

  // 409, on the email.
  await page.getByLabel("Email").fill(taken);
  await page.getByLabel("Password").fill(PASSWORD);
  await submit(page, "Create account");
  await page.getByText("An account with this email already exists").waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.type), "email", "focus on the field at fault");

  // A wrong password, then too many of them: a 429 that says when to try again. The message
  // quotes the request's id, as the answer's X-Request-Id gave it, for a report to quote.
  const refused = page.waitForResponse((r) => r.url().endsWith("/signin"));
  await signIn(page, taken, "wrong password!");
  const requestId = (await refused).headers()["x-request-id"];
  assert.match(requestId ?? "", /^[0-9A-Za-z._-]{1,64}$/, "the answer carries its request's id");
  await page
    .getByRole("alert")
    .filter({ hasText: `Invalid email or password (reference: ${requestId})` })
    .waitFor();
  assert.equal(await page.getByLabel("Email").inputValue(), taken, "kept");
  for (let attempt = 0; attempt < 8; attempt++) {
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForFunction(() => !document.querySelector("button[type=submit][disabled]"));
    if (await limited(page).count()) break;
  }
  await page.getByText(/Too many attempts\. Try again in \d+ seconds?\./).waitFor();
  await accessible(page, "the sign-in page with an error");
  await page.context().close();
});

test("signing out ends the session: its token is refused by the API", async () => {
  const page = await open(375);
  await signUp(page, "Cleo", email("cleo"));
  await addTask(page, "Before signing out");
  const [old, user] = await page.evaluate(() => {
    const s = JSON.parse(sessionStorage.getItem("tasks.session"));
    return [s.token, s.user.id];
  });
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await page.getByText("You have signed out.").waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("tasks.session")), null, "forgotten here");
  // The API refuses the old token (at once in the standalone process; within 2 s behind the proxy).
  let status;
  for (let tries = 0; tries < 40; tries++) {
    status = (await fetch(`${base}/api/${encodeURIComponent(user)}/tasks`, { headers: { Authorization: `Bearer ${old}` } })).status;
    if (status === 401) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(status, 401);
  await page.context().close();
});

test("a session ended from another browser sends this one to sign-in, saying why", async () => {
  const address = email("dora");
  const laptop = await open();
  await signUp(laptop, "Dora", address);
  const phone = await open(375);
  await signIn(phone, address);
  await phone.getByRole("heading", { level: 1, name: "Hello, Dora" }).waitFor();
  await phone.getByRole("link", { name: "Account" }).click();
  await phone.getByRole("button", { name: "Sign out everywhere else" }).click();
  await phone.getByText("This browser").waitFor();
  await phone.waitForFunction(() => document.querySelectorAll(".sessions li").length === 1);
  await accessible(phone, "the account page");
  await shoot(phone, "account");

  // The laptop's next call is refused: it lands on sign-in, told why. A click, not `check()`:
  // the page may already have left for sign-in when `check()` would look for the radio again.
  await laptop.waitForTimeout(1500);
  await laptop.getByLabel("Done", { exact: true }).click();
  await laptop.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
  await laptop.getByText(/You have been signed out \(This session has ended\)/).waitFor();
  for (const page of [laptop, phone]) await page.context().close();
});

test("a password change keeps this session; the old password no longer signs in", async () => {
  const address = email("eve");
  const page = await open();
  await signUp(page, "Eve", address);
  await page.getByRole("link", { name: "Account" }).click();
  await page.getByLabel("Current password").fill("not the password");
  await page.getByLabel("New password").fill("a brand new passphrase");
  await submit(page, "Change password");
  await page.getByText("The current password is wrong.").waitFor();
  assert.equal(await page.getByLabel("New password").inputValue(), "a brand new passphrase", "kept");
  await page.getByLabel("Current password").fill(PASSWORD);
  await submit(page, "Change password");
  await page.waitForFunction(() => document.querySelector("input[autocomplete=current-password]").value === "");
  await page.getByRole("link", { name: "Tasks" }).click();
  await page.getByRole("heading", { level: 1, name: "Hello, Eve" }).waitFor();

  const other = await open();
  await signIn(other, address);
  await other.getByText("Invalid email or password").waitFor();
  await signIn(other, address, "a brand new passphrase");
  await other.getByRole("heading", { level: 1, name: "Hello, Eve" }).waitFor();
  for (const p of [page, other]) await p.context().close();
});

test("deleting the account asks first, then signs out and leaves nothing", async () => {
  const address = email("finn");
  const page = await open();
  await signUp(page, "Finn", address);
  await addTask(page, "Soon gone");
  await page.getByRole("link", { name: "Account" }).click();
  await page.getByRole("button", { name: "Delete account…" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete your account?" });
  await dialog.waitFor();
  await accessible(page, "the deletion dialog");
  await dialog.getByRole("button", { name: "Keep my account" }).click();
  await page.waitForFunction(() => document.activeElement?.textContent === "Delete account…"); // focus returns
  await page.getByRole("button", { name: "Delete account…" }).click();
  await dialog.getByLabel("Your password").fill("not it at all");
  await submit(page, "Delete my account and tasks");
  await dialog.getByText("The password is wrong.").waitFor();
  await dialog.getByLabel("Your password").fill(PASSWORD);
  await submit(page, "Delete my account and tasks");
  await page.getByText("Your account and its tasks have been deleted.").waitFor();
  await signIn(page, address);
  await page.getByText("Invalid email or password").waitFor();

  // The same email starts an empty account.
  await signUp(page, "Finn again", address);
  await page.getByText("No tasks yet. Add one above.").waitFor();
  await page.context().close();
});

test("failures are visible and lose nothing typed; loading recovers", async () => {
  const page = await open();
  await signUp(page, "Gus", email("gus"));
  await page.route("**/api/**", (route) => route.abort());
  await page.getByLabel("Title").fill("Typed before the outage");
  await page.getByRole("button", { name: "Add task" }).click();
  await page.getByText("The service cannot be reached").waitFor();
  assert.equal(await page.getByLabel("Title").inputValue(), "Typed before the outage", "kept");
  await page.getByLabel("Open", { exact: true }).check();
  await page.getByText("The tasks could not be loaded").waitFor();
  await page.unroute("**/api/**");
  await page.getByRole("button", { name: "Try again" }).click();
  await page.getByText("No open tasks.").waitFor();
  await page.getByRole("button", { name: "Add task" }).click();
  await page.getByRole("checkbox", { name: "Typed before the outage" }).waitFor();
  await page.context().close();
});

test("the keyboard alone: sign in, add, toggle, with focus where the next step is", async () => {
  const address = email("hal");
  const setup = await open();
  await signUp(setup, "Hal", address);
  await setup.context().close();

  const page = await open(375);
  // Focus starts on the page's heading; the next stop is the first field.
  await page.keyboard.press("Tab");
  await page.keyboard.type(address);
  await page.keyboard.press("Tab");
  await page.keyboard.type(PASSWORD);
  await untilAccepted(page, async () => {
    // Again after a 429, from the password field, where a person would press Enter.
    if (!(await page.getByLabel("Password").evaluate((input) => input === document.activeElement))) {
      await page.getByLabel("Password").focus();
    }
    await page.keyboard.press("Enter");
  });
  await page.getByRole("heading", { level: 1, name: "Hello, Hal" }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.tagName), "H1", "focus on the new page's heading");
  await page.keyboard.press("Tab");
  await page.keyboard.type("By keyboard");
  await page.keyboard.press("Enter");
  await page.getByRole("checkbox", { name: "By keyboard" }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.name), "title", "ready for the next one");
  await page.getByRole("checkbox", { name: "By keyboard" }).focus();
  await page.keyboard.press("Space");
  await page.locator(".task.done").waitFor();
  await shoot(page, "tasks");
  await page.context().close();
});

test("a forgotten password: the mailed link sets a new one, out of the address bar, once", needsMail(), async () => {
  const address = email("gus");
  const before = await open();
  await signUp(before, "Gus", address);

  const page = await open();
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await page.getByRole("heading", { level: 1, name: "Forgot your password?" }).waitFor();
  await accessible(page, "the forgot-password page");
  await page.getByLabel("Email").fill(address);
  await submit(page, "Send the link");
  await page.getByText(/a link to reset its password is on its way/).waitFor();
  await shoot(page, "forgot");

  const secret = await mailedSecret(address, "reset-password");
  await page.goto(`${base}/#reset-password=${secret}`);
  await page.getByRole("heading", { level: 1, name: "Choose a new password" }).waitFor();
  assert.ok(!page.url().includes(secret), `the secret left the address bar: ${page.url()}`);
  await accessible(page, "the reset page");
  await shoot(page, "reset");
  await page.getByLabel("New password").fill("short");
  await submit(page, "Set the new password");
  await page.getByText(/New password must be at least 8 characters/).waitFor();
  await page.getByLabel("New password").fill("a brand new passphrase");
  await submit(page, "Set the new password");
  await page.getByText("Your password has been reset, and every session signed out.").waitFor();

  // The session from before the reset has ended; the new password signs in; the link is spent.
  await before.reload();
  await before.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
  await signIn(page, address, "a brand new passphrase");
  await page.getByRole("heading", { level: 1, name: "Hello, Gus" }).waitFor();
  await page.goto(`${base}/#reset-password=${secret}`);
  await page.getByLabel("New password").fill("yet another passphrase");
  await submit(page, "Set the new password");
  await page.getByText(/This link is invalid, used or expired/).waitFor();
  for (const p of [before, page]) await p.context().close();
});

test("an unconfirmed address: a banner until the mailed link is followed; an email change", needsMail(), async () => {
  const address = email("hal");
  const page = await open();
  await signUp(page, "Hal", address);
  const banner = page.getByRole("region", { name: "Address confirmation" });
  await banner.getByText(`follow the link we mailed to ${address}`).waitFor();
  await accessible(page, "the tasks page with the banner");
  await shoot(page, "banner");
  await banner.getByRole("button", { name: "Send the link again" }).click();
  await banner.getByText(`A new link is on its way to ${address}.`).waitFor();

  await page.goto(`${base}/#verify-email=${await mailedSecret(address, "verify-email", 2)}`);
  await page.getByText("Your email address is confirmed.").waitFor();
  assert.ok(!page.url().includes("verify-email="), page.url());
  await banner.waitFor({ state: "hidden" });

  await page.getByRole("link", { name: "Go to your account" }).click();
  await page.getByText(`${address} (confirmed)`).waitFor();
  await page.locator(".events").getByText("Email address confirmed").waitFor();
  const moved = email("hal-new");
  await page.getByLabel("New email address").fill(moved);
  await page.getByLabel("Password (to confirm)").fill("not the password");
  await submit(page, "Change email");
  await page.getByText("The password is wrong.").waitFor();
  await page.getByLabel("Password (to confirm)").fill(PASSWORD);
  await submit(page, "Change email");
  await page.getByText(`We mailed a link to ${moved}.`).waitFor();
  await accessible(page, "the account page");
  await shoot(page, "account");

  await page.goto(`${base}/#verify-email=${await mailedSecret(moved, "verify-email")}`);
  await page.getByText("Your email address is confirmed.").waitFor();
  await page.getByRole("link", { name: "Go to your account" }).click();
  await page.getByText(`${moved} (confirmed)`).waitFor();
  await page.locator(".events").getByText("Email address changed").waitFor();
  await page.context().close();
});

test("screenshots and axe at both widths: sign-in, sign-up, tasks", async () => {
  for (const width of [375, 1280]) {
    const page = await open(width);
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    await accessible(page, `sign-in at ${width}`);
    await shoot(page, "signin");
    await page.goto(`${base}/#/signup`);
    await page.getByRole("heading", { level: 1, name: "Create an account" }).waitFor();
    await accessible(page, `sign-up at ${width}`);
    await signUp(page, "Ida", email("ida"));
    await addTask(page, "Plan the week", "Monday: groceries. Tuesday: the dentist.");
    await addTask(page, "Call the plumber");
    await page.getByRole("checkbox", { name: "Call the plumber" }).check();
    await page.locator(".task.done").waitFor();
    await accessible(page, `tasks at ${width}`);
    await shoot(page, "tasks");
    const wide = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    assert.ok(wide, `nothing wider than the screen at ${width}`);
    await page.context().close();
  }
});
