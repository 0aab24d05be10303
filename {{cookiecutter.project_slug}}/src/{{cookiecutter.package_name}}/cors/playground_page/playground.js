// The playground's page: each request twice, once for real with fetch() and once as the server's account.
//
// fetch() is the browser's verdict: it resolves when the browser lets the page read the answer, and
// rejects with a TypeError when CORS (or a network failure) blocks it. A script sees no preflight and
// no header of a blocked answer, so the page's own server (/explain) asks the API, as `flask cors
// check` does, what a browser at this origin gets: the exchanges, the verdict and the fix.
"use strict";

// The requests that matter. Headers are written as for `flask cors check --header`. path: null is filled
// in from /setup: the echo route the playground adds to the API, which changes nothing.
const SCENARIOS = [
  {
    title: "A simple GET",
    why: "No preflight: a GET without headers of the script's own goes at once; the answer decides whether the page may read it.",
    method: "GET", path: "/api/health", headers: [], credentials: "same-origin",
  },
  {
    title: "A JSON POST",
    why: "Content-Type: application/json is more than a form can send, so the browser asks first, with a preflight.",
    method: "POST", path: null, headers: ["Content-Type: application/json"], credentials: "same-origin",
  },
  {
    title: "With an Authorization header",
    why: "A header the script sets itself: preflighted, and allowed when CORS_ALLOW_HEADERS lists it. It needs no credentials.",
    method: "GET", path: "/api/health", headers: ["Authorization: Bearer playground-token"], credentials: "same-origin",
  },
  {
    title: "With credentials",
    why: "credentials: \"include\" sends the user's cookies: the answer must carry Access-Control-Allow-Credentials: true.",
    method: "GET", path: "/api/health", headers: [], credentials: "include",
  },
  {
    title: "A header the policy does not list",
    why: "X-Request-Id is preflighted too, and CORS_ALLOW_HEADERS does not list it.",
    method: "GET", path: "/api/health", headers: ["X-Request-Id: 42"], credentials: "same-origin",
  },
  {
    title: "The public policy's route",
    why: "/api/public/ answers every origin with Access-Control-Allow-Origin: *, never with credentials.",
    method: "GET", path: "/api/public/status", headers: [], credentials: "same-origin",
  },
];

const byId = (id) => document.getElementById(id);

// An element with text content only: nothing from a server is ever parsed as HTML.
function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

async function json(url, options) {
  const response = await fetch(url, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ? body.error.detail : response.statusText);
  return body;
}

// The server's account of `scenario`, sent from this page: /explain takes the page's origin from the request.
function explain(scenario) {
  return json("/explain", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ...scenario, credentials: scenario.credentials === "include" }),
  });
}

// The browser's verdict: what fetch() lets this page read of the API's answer.
async function browserOutcome(api, request, credentials) {
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  try {
    const response = await fetch(api + request.path, {
      method: request.method,
      headers: request.headers,
      credentials,
      body: hasBody && /json/i.test(request.headers["Content-Type"] || "") ? "{}" : undefined,
    });
    return { verdict: "allowed", text: `The page read the answer: ${response.status} ${response.statusText}.` };
  } catch (error) {
    return { verdict: "blocked", text: `fetch() rejected with ${error.name} (${error.message}); the console says why.` };
  }
}

function verdictLine(label, verdict, text) {
  const line = element("p", undefined, `verdict ${verdict}`);
  line.append(`${label}: `, element("strong", `${verdict === "allowed" ? "✓" : "✗"} ${verdict}`), `. ${text}`);
  return line;
}

function card(scenario, account, outcome) {
  const article = element("article", undefined, "card");
  article.dataset.scenario = scenario.title;
  article.dataset.browser = outcome.verdict;
  article.dataset.server = account.verdict;
  const request = account.request;
  const heading = element("h3", `${scenario.title}: `);
  heading.append(element("code", `${request.method} ${request.path}`));
  article.append(heading);
  if (scenario.why) article.append(element("p", scenario.why, "why"));
  article.append(verdictLine("The browser", outcome.verdict, outcome.text));
  if (outcome.verdict !== account.verdict) {
    article.append(element("p", `The server's account says ${account.verdict}: something between the page and the ` +
      "API changed the answer, or the API is not running.", "disagree"));
  }
  const policy = account.policy ? `policy "${account.policy.name}" (${account.policy.prefix})` : "no policy";
  article.append(element("p", `The server's account, ${policy}: ${account.verdict}.`, "label"));
  for (const exchange of account.exchanges) {
    article.append(element("p", exchange.kind === "preflight" ? "The preflight" : "The request", "label"));
    article.append(element("pre", exchange.text));
  }
  article.append(element("p", account.conclusion.join("\n"), "conclusion"));
  return article;
}

// Explain, then fetch, and show both: one request at a time, so that each one's log lines stay together.
async function run(scenario, api) {
  const account = await explain(scenario);
  const outcome = await browserOutcome(api, account.request, scenario.credentials);
  return card(scenario, account, outcome);
}

function showPolicies(policies) {
  const container = byId("policies");
  for (const policy of policies) {
    const table = element("table");
    const kind = policy.public ? "public: every origin, never credentials" : "origins listed";
    table.append(element("caption", `Policy "${policy.name}" on ${policy.prefix} (${kind})`));
    const head = table.createTHead().insertRow();
    for (const name of ["setting", "value", "from"]) head.append(element("th", name));
    for (const [name, setting] of Object.entries(policy.settings)) {
      const row = table.insertRow();
      const value = Array.isArray(setting.value) ? setting.value.join(", ") || "none" : String(setting.value);
      row.append(element("td", name), element("td", value), element("td", setting.source));
    }
    container.append(table);
  }
}

function showOrigins(origins) {
  const here = window.location.origin;
  const allowedHere = here === origins.allowed;
  const mark = byId("here");
  mark.textContent = `${here}, ${allowedHere ? "allowed" : "refused"} by the default policy`;
  mark.className = allowedHere ? "origin-allowed" : "origin-refused";
  const other = allowedHere ? origins.refused : origins.allowed;
  const link = byId("switch");
  link.href = `${other}/`;
  link.textContent = `Open this page at ${allowedHere ? "the refused" : "the allowed"} origin, ${other}`;
  byId("api").textContent = origins.api;
  byId("allowed").textContent = origins.allowed;
  byId("refused").textContent = origins.refused;
}

function readForm(form) {
  const data = new FormData(form);
  return {
    title: "Your request",
    method: data.get("method"),
    path: data.get("path"),
    headers: data.get("headers").split(/\r?\n/).filter((line) => line.trim()),
    credentials: data.get("credentials"),
  };
}

async function main() {
  const page = byId("playground");
  const status = byId("status");
  try {
    const setup = await json("/setup");
    showOrigins(setup.origins);
    showPolicies(setup.policies);
    const methods = byId("try-method");
    for (const method of setup.methods) methods.append(new Option(method, method, false, method === "POST"));
    byId("try-path").value = setup.json_post;

    const verdicts = [];
    for (const [index, scenario] of SCENARIOS.entries()) {
      status.textContent = `Sending request ${index + 1} of ${SCENARIOS.length}…`;
      const result = await run({ ...scenario, path: scenario.path || setup.json_post }, setup.origins.api);
      byId("scenarios").append(result);
      verdicts.push(result.dataset.browser);
    }
    const allowed = verdicts.filter((verdict) => verdict === "allowed").length;
    status.textContent = `${verdicts.length} requests sent: ${allowed} allowed, ${verdicts.length - allowed} blocked.`;

    byId("try").addEventListener("submit", async (event) => {
      event.preventDefault();
      const tried = byId("tried");
      try {
        tried.prepend(await run(readForm(event.target), setup.origins.api));
      } catch (error) {
        tried.prepend(element("p", `Not sent: ${error.message}`, "problem"));
      }
    });
  } catch (error) {
    status.textContent = `The playground failed: ${error.message}`;
  } finally {
    page.dataset.state = "done";
  }
}

main();
