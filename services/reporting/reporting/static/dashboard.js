// The reporting dashboard: reads the reporting service's own JSON API and draws it with
// Chart.js. After drawing, each canvas records what the chart drew (data-drawn, data-labels),
// so a headless browser test can check the picture, not just that the page loaded.
"use strict";

const API = "/api/v1/reports";
const LANGUAGES = ["da", "nb", "de", "en"];
const COLOURS = { accent: "#1f6f5c", light: "#9cc9bb", warn: "#b3261e", grey: "#c9c9c2", blue: "#3d6fb6" };
const charts = {};
// The dashboard's words, by the key the page uses (data-i18n): each is its English text, the
// msgid the catalogue /static/locale/<lang>/LC_MESSAGES/reporting.po translates. N_ marks it for
// `pybabel extract` (see babel.cfg).
const N_ = (text) => text;
const MESSAGES = {
  title: N_("Tilmeld – participation and pipeline"),
  network: N_("Network"),
  all_networks: N_("All networks"),
  language: N_("Language"),
  token: N_("Reporting token"),
  sign_in: N_("Show"),
  outbox_backlog: N_("Outbox backlog"),
  oldest_unpublished: N_("Oldest unpublished"),
  lag_notification: N_("Lag: notification"),
  lag_reporting: N_("Lag: reporting"),
  dead_letters: N_("Dead letters"),
  as_of: N_("Data as of"),
  registrations_over_time: N_("Registrations over time"),
  upcoming_meetings: N_("Upcoming meetings: seats and waitlist"),
  municipalities: N_("Participation per municipality"),
  past_meetings: N_("Past meetings: attendance and no-shows"),
  registrations: N_("Registrations"),
  cancellations: N_("Cancellations"),
  enrolments: N_("Enrolments"),
  seats_confirmed: N_("Seats taken"),
  seats_free: N_("Seats free"),
  waitlisted: N_("Waitlisted"),
  members_active: N_("Active members"),
  registrations_confirmed: N_("Confirmed registrations"),
  attended: N_("Attended"),
  no_shows: N_("No-shows"),
  gave_feedback: N_("Gave feedback"),
  parties: N_("Parties"),
  municipality: N_("Municipality"),
  status: N_("Status"),
  meetings_attended: N_("Held meetings attended"),
  coverage: N_("Coverage"),
  meetings_held: N_("Held meetings"),
  absent: N_("Attended none of the held meetings"),
  party_applied: N_("Applied"),
  party_joined: N_("Joined"),
  party_declined: N_("Declined"),
  party_withdrawn: N_("Withdrawn"),
  consultation_results: N_("Consultation results"),
  choose_network: N_("Choose a network to see its member dialogue."),
  consultation: N_("Consultation"),
  responses_counted: N_("Counted responses"),
  response_rate: N_("Response rate"),
  responses_pending: N_("Waiting for a confirmed address"),
  no_consultations: N_("No consultations in this network yet."),
  no_responses: N_("No counted responses yet."),
  responses_per_municipality: N_("Responses per municipality"),
  municipality_code: N_("Municipality number"),
  not_given: N_("Not given"),
  not_in_register: N_("not in the register"),
  open_to_all: N_("open to all"),
  consultation_scheduled: N_("scheduled"),
  consultation_open: N_("open"),
  consultation_closed: N_("closed"),
  answer: N_("Answer"),
  answered: N_("Answered"),
  mean: N_("Mean"),
  as_table: N_("Show as a table"),
  proposal_ranking: N_("Topic proposals by votes"),
  no_proposals: N_("No published topic proposals yet."),
  rank: N_("Rank"),
  proposal: N_("Proposal"),
  votes: N_("Votes"),
  proposal_published: N_("Published"),
  proposal_scheduled: N_("On the agenda"),
  unknown: N_("unknown"),
  // TRANSLATORS: the unit after a number of seconds.
  seconds: N_("s"),
  unauthorized: N_("The token was not accepted."),
};
let words = {};

function token() {
  const fromFragment = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromFragment) {
    sessionStorage.setItem("tilmeld-token", fromFragment);
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem("tilmeld-token");
}

function chosenLanguage() {
  const asked = new URLSearchParams(location.search).get("lang") || localStorage.getItem("tilmeld-lang");
  if (LANGUAGES.includes(asked)) return asked;
  const browser = (navigator.language || "en").slice(0, 2).replace("no", "nb");
  return LANGUAGES.includes(browser) ? browser : "en";
}

// A .po catalogue as a Map from msgid to msgstr; the dashboard has no plural forms or contexts,
// and a fuzzy entry is not a translation yet.
function parseCatalogue(text) {
  const messages = new Map();
  for (const entry of text.split(/\n[ \t]*\n/)) {
    if (/^#,.*\bfuzzy\b/m.test(entry)) continue;
    const fields = {};
    let field = null;
    for (const line of entry.split("\n")) {
      const start = line.match(/^(msgctxt|msgid|msgstr) (".*")$/);
      if (start) [field, fields[start[1]]] = [start[1], JSON.parse(start[2])];
      else if (field && /^".*"$/.test(line)) fields[field] += JSON.parse(line);
    }
    if (fields.msgid && fields.msgstr && fields.msgctxt === undefined) messages.set(fields.msgid, fields.msgstr);
  }
  return messages;
}

async function loadWords(language) {
  const response = await fetch(`/static/locale/${language}/LC_MESSAGES/reporting.po`);
  const catalogue = parseCatalogue(await response.text());
  words = Object.fromEntries(Object.entries(MESSAGES).map(([key, text]) => [key, catalogue.get(text) || text]));
  document.documentElement.lang = language;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = words[el.dataset.i18n] || el.textContent; });
  document.title = words.title;
}

async function get(path) {
  const response = await fetch(API + path, { headers: { Authorization: `Bearer ${token()}` } });
  if (response.status === 401 || response.status === 403) throw new Error(words.unauthorized);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

function draw(id, config) {
  if (charts[id]) charts[id].destroy();
  const canvas = document.getElementById(id);
  config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
  canvas.parentElement.style.height = (config.height || 300) + "px";
  const chart = new Chart(canvas, config);
  charts[id] = chart;
  // What was drawn: elements of the first dataset, and the category labels.
  canvas.dataset.drawn = String(chart.getDatasetMeta(0).data.length);
  canvas.dataset.labels = (chart.data.labels || []).join("|");
  canvas.dataset.values = (chart.data.datasets[0] ? chart.data.datasets[0].data : []).join("|");
}

function short(text, length = 42) {
  return text.length > length ? text.slice(0, length - 1) + "…" : text;
}

function query(params) {
  const search = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
  return search.toString() ? "?" + search : "";
}

function formatDate(value, language) {
  return new Date(value).toLocaleDateString(language, { day: "numeric", month: "short" });
}

async function render(language) {
  const network = document.getElementById("network").value;
  const now = new Date().toISOString();
  const [timeline, cancellations, upcoming, past, municipalities, pipeline, parties] = await Promise.all([
    get("/timeseries" + query({ metric: "registrations", bucket: "day", network_id: network })),
    get("/timeseries" + query({ metric: "cancellations", bucket: "day", network_id: network })),
    get("/meetings" + query({ network_id: network, from: now })),
    get("/meetings" + query({ network_id: network, to: now })),
    get("/municipalities" + query({ network_id: network })),
    get("/pipeline"),
    network ? get(`/networks/${encodeURIComponent(network)}/parties`) : null,
  ]);

  const days = [...new Set([...timeline, ...cancellations].map((p) => p.bucket_start))].sort();
  const byDay = (points) => days.map((d) => (points.find((p) => p.bucket_start === d) || { value: 0 }).value);
  draw("chart-timeline", {
    type: "line", height: 260,
    data: { labels: days.map((d) => formatDate(d, language)), datasets: [
      { label: words.registrations, data: byDay(timeline), borderColor: COLOURS.accent, backgroundColor: COLOURS.light, fill: true, tension: 0.25 },
      { label: words.cancellations, data: byDay(cancellations), borderColor: COLOURS.warn, tension: 0.25 },
    ] },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });

  const soon = upcoming.items.filter((m) => m.status !== "cancelled").slice(0, 12);
  draw("chart-upcoming", {
    type: "bar", height: 120 + soon.length * 34,
    data: { labels: soon.map((m) => short(m.title)), datasets: [
      { label: words.seats_confirmed, data: soon.map((m) => m.seats_confirmed), backgroundColor: COLOURS.accent, stack: "seats" },
      { label: words.seats_free, data: soon.map((m) => Math.max(m.capacity - m.seats_confirmed, 0)), backgroundColor: COLOURS.grey, stack: "seats" },
      { label: words.waitlisted, data: soon.map((m) => m.waitlisted), backgroundColor: COLOURS.warn, stack: "waitlist" },
    ] },
    options: { indexAxis: "y", scales: { x: { stacked: true, ticks: { precision: 0 } }, y: { stacked: true } } },
  });

  const top = municipalities.items.slice(0, 15);
  draw("chart-municipalities", {
    type: "bar", height: 120 + top.length * 28,
    data: { labels: top.map((m) => m.municipality), datasets: [
      { label: words.members_active, data: top.map((m) => m.members_active), backgroundColor: COLOURS.accent },
      { label: words.registrations_confirmed, data: top.map((m) => m.registrations_confirmed), backgroundColor: COLOURS.blue },
    ] },
    options: { indexAxis: "y", scales: { x: { ticks: { precision: 0 } } } },
  });

  const held = past.items.filter((m) => m.status !== "cancelled").slice(-12);
  // Beside who came, how many of them gave feedback (0 for a meeting that asked for none).
  const feedback = await Promise.all(
    held.map((m) => get(`/meetings/${encodeURIComponent(m.meeting_id)}/feedback`).catch(() => null)),
  );
  draw("chart-past", {
    type: "bar", height: 280,
    data: { labels: held.map((m) => `${short(m.title, 30)} (${formatDate(m.starts_at, language)})`), datasets: [
      { label: words.attended, data: held.map((m) => m.attended), backgroundColor: COLOURS.accent, stack: "s" },
      { label: words.no_shows, data: held.map((m) => m.no_shows || 0), backgroundColor: COLOURS.warn, stack: "s" },
      { label: words.gave_feedback, data: feedback.map((f) => (f ? f.responses : 0)), backgroundColor: COLOURS.blue, stack: "feedback" },
    ] },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
  });

  showParties(parties, language);
  showPipeline(pipeline, upcoming.as_of, language);
  await showDialogue(network, language);
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;  // names come from a register organisers add to: text, never markup
  if (className) td.className = className;
  row.appendChild(td);
}

// The chosen network's parties: each with its status, members and the held meetings it
// attended; joined parties that attended none of them are marked, and named above the table.
function showParties(report, language) {
  const card = document.getElementById("parties");
  card.hidden = !report || report.items.length === 0;
  if (card.hidden) return;
  const percent = new Intl.NumberFormat(language, { style: "percent", maximumFractionDigits: 0 });
  const absent = report.items.filter((p) => p.status === "joined" && report.meetings_held > 0 && p.meetings_attended === 0);
  document.getElementById("parties-held").textContent = report.meetings_held;
  document.getElementById("parties-absent").textContent = absent.map((p) => p.municipality).join(", ") || "–";
  document.getElementById("parties-absent").parentElement.classList.toggle("alert", absent.length > 0);
  const body = document.getElementById("parties-rows");
  body.replaceChildren();
  for (const party of report.items) {
    const row = document.createElement("tr");
    row.dataset.status = party.status;
    row.classList.toggle("absent", absent.includes(party));
    if (party.status !== "joined") row.classList.add("not-joined");
    cell(row, party.municipality);
    cell(row, words["party_" + party.status] || party.status);
    cell(row, party.members_active, "number");
    cell(row, `${party.meetings_attended} / ${party.meetings_held}`, "number");
    cell(row, percent.format(party.coverage), "number");
    body.appendChild(row);
  }
  const table = document.getElementById("parties-table");
  table.dataset.absent = absent.map((p) => p.municipality).join("|");
  table.dataset.rows = String(report.items.length);
}

// Member dialogue, for the chosen network: a consultation's results (per choice or scale
// question a chart of how often each answer was given) and the topic proposals by votes. Each
// chart has a table with the same figures, and each card says so when there is nothing to show.
async function showDialogue(network, language) {
  const views = { consultations: "consultation-view", proposals: "proposals-view" };
  for (const [card, view] of Object.entries(views)) {
    document.getElementById(view).hidden = !network;
    const empty = document.getElementById(`${card}-empty`);
    empty.hidden = Boolean(network);
    empty.textContent = words.choose_network;
  }
  if (!network) return;
  const id = encodeURIComponent(network);
  const [consultations, ranking] = await Promise.all([
    get(`/networks/${id}/consultations`),
    get(`/networks/${id}/proposals`),
  ]);
  const select = document.getElementById("consultation");
  const chosen = select.value;
  select.replaceChildren();
  for (const item of consultations.items) {
    const option = document.createElement("option");
    option.value = item.consultation_id;
    option.textContent = `${item.title} (${words["consultation_" + item.status] || item.status})`;
    select.appendChild(option);
  }
  if (consultations.items.some((c) => c.consultation_id === chosen)) select.value = chosen;
  const none = consultations.items.length === 0;
  document.getElementById("consultation-view").hidden = none;
  const empty = document.getElementById("consultations-empty");
  empty.hidden = !none;
  empty.textContent = words.no_consultations;
  if (!none) await showConsultation(select.value, language);
  showProposals(ranking, language);
}

function table(id, caption, headers, rows) {
  const element = document.createElement("table");
  element.id = id;
  const title = document.createElement("caption");
  title.textContent = caption;
  const head = document.createElement("thead");
  const headRow = document.createElement("tr");
  headers.forEach(([text, className]) => {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = text;
    if (className) th.className = className;
    headRow.appendChild(th);
  });
  head.appendChild(headRow);
  const body = document.createElement("tbody");
  for (const cells of rows) {
    const row = document.createElement("tr");
    cells.forEach(([text, className]) => cell(row, text, className));
    body.appendChild(row);
  }
  element.append(title, head, body);
  element.dataset.rows = String(rows.length);
  return element;
}

function asTable(tableElement) {
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = words.as_table;
  details.append(summary, tableElement);
  return details;
}

// The chart's own text alternative: what it shows, figure by figure.
function describe(title, labels, values) {
  return `${title}: ${labels.map((label, i) => `${label} ${values[i]}`).join(", ")}`;
}

async function showConsultation(consultationId, language) {
  const report = await get(`/consultations/${encodeURIComponent(consultationId)}`);
  const number = new Intl.NumberFormat(language, { maximumFractionDigits: 2 });
  const percent = new Intl.NumberFormat(language, { style: "percent", maximumFractionDigits: 1 });
  document.getElementById("consultation-responses").textContent = report.responses;
  document.getElementById("consultation-pending").textContent = report.responses_pending;
  document.getElementById("consultation-rate").textContent = report.response_rate === null
    ? `– (${report.audience === "public" ? words.open_to_all : words.unknown})`
    : `${percent.format(report.response_rate)} (${report.responses} / ${report.audience_size})`;
  document.getElementById("consultation-empty").hidden = report.responses > 0;

  const box = document.getElementById("consultation-questions");
  for (const id of Object.keys(charts).filter((key) => key.startsWith("chart-question-"))) {
    charts[id].destroy();
    delete charts[id];
  }
  box.replaceChildren();
  box.hidden = report.responses === 0;
  report.questions.forEach((question, index) => {
    const figure = document.createElement("figure");
    figure.className = "question";
    figure.dataset.questionId = question.question_id;
    const caption = document.createElement("figcaption");
    const heading = document.createElement("h3");
    heading.textContent = question.text;
    const note = document.createElement("span");
    note.textContent = `${words.answered}: ${question.answered}` +
      (question.mean === null || question.mean === undefined ? "" : ` · ${words.mean}: ${number.format(question.mean)}`);
    caption.append(heading, note);
    const holder = document.createElement("div");
    holder.className = "chart-box";
    const canvas = document.createElement("canvas");
    canvas.id = `chart-question-${index}`;
    canvas.setAttribute("role", "img");
    const labels = question.answers.map((a) => String(a.value));
    const values = question.answers.map((a) => a.count);
    canvas.setAttribute("aria-label", describe(question.text, labels, values));
    holder.appendChild(canvas);
    const rows = question.answers.map((a) => [[String(a.value)], [a.count, "number"]]);
    const figures = table(`table-question-${index}`, question.text, [[words.answer], [words.responses_counted, "number"]], rows);
    figure.append(caption, holder, asTable(figures));
    box.appendChild(figure);
    if (report.responses === 0) return;
    const scale = question.kind === "scale";
    draw(canvas.id, {
      type: "bar", height: scale ? 220 : 100 + labels.length * 30,
      data: { labels: labels.map((label) => short(label)), datasets: [
        { label: words.responses_counted, data: values, backgroundColor: COLOURS.accent },
      ] },
      options: { indexAxis: scale ? "x" : "y", plugins: { legend: { display: false } },
                 scales: { [scale ? "y" : "x"]: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  });

  const places = document.querySelector("#consultation-municipalities tbody");
  places.replaceChildren();
  for (const place of report.municipalities) {
    const row = document.createElement("tr");
    const name = place.municipality === null ? words.not_given
      : place.municipality_id === null ? `${place.municipality} (${words.not_in_register})` : place.municipality;
    cell(row, name);
    cell(row, place.municipality_code || "–");
    cell(row, place.responses, "number");
    places.appendChild(row);
  }
  document.getElementById("consultation-municipalities").dataset.rows = String(report.municipalities.length);
}

function showProposals(ranking, language) {
  const none = ranking.items.length === 0;
  document.getElementById("proposals-view").hidden = none;
  const empty = document.getElementById("proposals-empty");
  empty.hidden = !none;
  empty.textContent = words.no_proposals;
  const body = document.querySelector("#proposals-table tbody");
  body.replaceChildren();
  document.getElementById("proposals-table").dataset.rows = String(ranking.items.length);
  if (none) return;
  for (const proposal of ranking.items) {
    const row = document.createElement("tr");
    row.dataset.status = proposal.status;
    cell(row, proposal.rank, "number");
    cell(row, proposal.title);
    cell(row, proposal.votes, "number");
    const status = words["proposal_" + proposal.status] || proposal.status;
    const meeting = proposal.meeting_title
      ? `: ${proposal.meeting_title}${proposal.meeting_starts_at ? ` (${formatDate(proposal.meeting_starts_at, language)})` : ""}`
      : "";
    cell(row, status + meeting);
    body.appendChild(row);
  }
  const top = ranking.items.slice(0, 10);
  const labels = top.map((p) => p.title);
  const values = top.map((p) => p.votes);
  document.getElementById("chart-proposals").setAttribute("aria-label", describe(words.proposal_ranking, labels, values));
  draw("chart-proposals", {
    type: "bar", height: 100 + top.length * 32,
    data: { labels: labels.map((label) => short(label)), datasets: [
      { label: words.votes, data: values,
        backgroundColor: top.map((p) => (p.status === "scheduled" ? COLOURS.blue : COLOURS.accent)) },
    ] },
    options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
}

function tile(id, value, alert) {
  const el = document.getElementById(id);
  el.textContent = value === null || value === undefined ? words.unknown : value;
  el.parentElement.classList.toggle("alert", Boolean(alert));
}

function showPipeline(pipeline, asOf, language) {
  const outbox = pipeline.outbox;
  tile("tile-backlog", outbox ? outbox.backlog : null, outbox && outbox.backlog > 100);
  tile("tile-oldest", outbox ? `${Math.round(outbox.oldest_unpublished_age_seconds)} ${words.seconds}` : null,
       outbox && outbox.oldest_unpublished_age_seconds > 60);
  const lag = pipeline.consumer_lag || {};
  tile("tile-lag-notification", lag["tilmeld-notification"], lag["tilmeld-notification"] > 1000);
  tile("tile-lag-reporting", lag["tilmeld-reporting"], lag["tilmeld-reporting"] > 1000);
  const dead = pipeline.dead_letters ? Object.values(pipeline.dead_letters).reduce((a, b) => a + b, 0) : null;
  tile("tile-dead", dead, dead > 0);
  tile("tile-as-of", asOf ? new Date(asOf).toLocaleString(language) : null, false);
}

async function fillNetworks() {
  const networks = await get("/networks");
  const select = document.getElementById("network");
  for (const network of networks.items) {
    const option = document.createElement("option");
    option.value = network.network_id;
    option.textContent = network.title;
    select.appendChild(option);
  }
  // A link can open one network's view: /dashboard?network=<id>.
  const chosen = new URLSearchParams(location.search).get("network");
  if (chosen && networks.items.some((n) => n.network_id === chosen)) select.value = chosen;
}

async function start() {
  const language = chosenLanguage();
  document.getElementById("language").value = language;
  await loadWords(language);
  if (!token()) {
    document.getElementById("login").hidden = false;
    document.getElementById("dashboard").hidden = true;
    return;
  }
  try {
    await fillNetworks();
    await render(language);
    document.body.dataset.ready = "true";
  } catch (error) {
    const box = document.getElementById("error");
    box.textContent = error.message;
    box.hidden = false;
    document.body.dataset.ready = "error";
  }
}

document.getElementById("login").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("tilmeld-token", document.getElementById("token").value);
  location.reload();
});
document.getElementById("language").addEventListener("change", (event) => {
  localStorage.setItem("tilmeld-lang", event.target.value);
  location.search = "?lang=" + event.target.value;
});
document.getElementById("network").addEventListener("change", () => render(document.documentElement.lang));
document.getElementById("consultation").addEventListener("change", (event) => showConsultation(event.target.value, document.documentElement.lang));
setInterval(() => { if (token() && document.body.dataset.ready === "true") render(document.documentElement.lang); }, 30000);
start();
