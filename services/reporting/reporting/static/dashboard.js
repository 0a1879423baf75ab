// The reporting dashboard: reads the reporting service's own JSON API and draws it with
// Chart.js. The organiser's view comes first (headline figures, then a chart per question an
// organiser asks, each with its figures as a table and an empty state that says so); the
// pipeline's figures are on a tab of their own, shown to the platform's tokens only. After
// drawing, each canvas records what the chart drew (data-drawn, data-labels, data-values,
// data-numbers), so a headless browser test can check the picture, not just that it loaded.
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
  views: N_("Views"),
  tab_participation: N_("Participation"),
  tab_operations: N_("Operations"),
  pipeline: N_("Pipeline"),
  at_a_glance: N_("At a glance"),
  fill_rate: N_("Seats taken at coming meetings"),
  members: N_("Members"),
  coming_meetings: N_("Coming meetings"),
  waiting_for_a_seat: N_("Waiting for a seat"),
  // TRANSLATORS: under the fill rate: {taken} seats taken of {offered} offered.
  seats_of: N_("{taken} of {offered} seats"),
  no_seats_offered: N_("No seats offered yet"),
  // TRANSLATORS: the change in members; {change} is signed, e.g. +3 or −2.
  since_last_week: N_("{change} since last week"),
  upcoming_note: N_("Each bar is the meeting's own capacity, so a small meeting reads as clearly as a large one."),
  no_upcoming: N_("No meetings coming up."),
  trend: N_("Week by week, the last twelve months"),
  no_trend: N_("Nothing has happened in the last twelve months."),
  week_of: N_("Week of"),
  no_municipalities: N_("No members yet."),
  // TRANSLATORS: one line for every typed municipality name that matched no register entry.
  not_in_register_line: N_("Not in the register ({count})"),
  no_past: N_("No meetings held yet."),
  meeting: N_("Meeting"),
  date: N_("Date"),
  capacity: N_("Capacity"),
  filled: N_("Filled"),
  // TRANSLATORS: on a bar: {taken} seats taken of the meeting's {capacity}.
  seats_bar: N_("{taken} of {capacity}"),
  // TRANSLATORS: on a bar, after the seats: how many wait for a seat.
  waiting_bar: N_("{count} waiting"),
  // TRANSLATORS: on a bar: {attended} came of {confirmed} confirmed.
  came_bar: N_("{attended} of {confirmed} came"),
};
let words = {};

// A word with its {placeholders} filled in.
function say(key, values) {
  return words[key].replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
}

const INK = "#1f2a2e";
// Numbers on the bars: for each dataset named in `options.datasets`, the text given for each
// bar (`options.texts[dataset][index]`, else the value), at the bar's end: inside it, in white,
// where it fits (`inside`), else just past it.
const barNumbers = {
  id: "barNumbers",
  afterDatasetsDraw(chart, _args, options) {
    if (!options || !options.datasets) return;
    const { ctx } = chart;
    const horizontal = chart.options.indexAxis === "y";
    ctx.save();
    ctx.font = "600 12px system-ui, 'DejaVu Sans', sans-serif";
    for (const index of options.datasets) {
      const meta = chart.getDatasetMeta(index);
      const texts = (options.texts || {})[index];
      meta.data.forEach((bar, i) => {
        const text = texts ? texts[i] : String(chart.data.datasets[index].data[i]);
        if (!text) return;
        const width = ctx.measureText(text).width;
        if (horizontal) {
          const inside = options.inside && Math.abs(bar.x - bar.base) > width + 10;
          ctx.textAlign = inside ? "right" : "left";
          ctx.textBaseline = "middle";
          ctx.fillStyle = inside ? "#fff" : INK;
          ctx.fillText(text, inside ? bar.x - 5 : bar.x + 5, bar.y);
        } else {
          ctx.textAlign = "center";
          ctx.textBaseline = "bottom";
          ctx.fillStyle = INK;
          ctx.fillText(text, bar.x, bar.y - 3);
        }
      });
    }
    ctx.restore();
  },
};

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
  document.querySelectorAll("[data-i18n-label]").forEach((el) => { el.setAttribute("aria-label", words[el.dataset.i18nLabel]); });
  document.title = words.title;
}

async function get(path) {
  const response = await fetch(API + path, { headers: { Authorization: `Bearer ${token()}` } });
  if (response.status === 401 || response.status === 403) throw new Error(words.unauthorized);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

function draw(id, config, record = {}) {
  if (charts[id]) charts[id].destroy();
  const canvas = document.getElementById(id);
  config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
  config.plugins = [...(config.plugins || []), barNumbers];
  canvas.parentElement.style.height = (config.height || 300) + "px";
  const chart = new Chart(canvas, config);
  charts[id] = chart;
  // What was drawn: elements of the first dataset, the category labels, the figures (the first
  // dataset's, or those the caller says the chart stands for) and the numbers on the bars.
  canvas.dataset.drawn = String(chart.getDatasetMeta(0).data.length);
  canvas.dataset.labels = (record.labels || chart.data.labels || []).join("|");
  canvas.dataset.values = (record.values || (chart.data.datasets[0] ? chart.data.datasets[0].data : [])).join("|");
  const numbers = (config.options.plugins || {}).barNumbers;
  if (numbers && numbers.datasets) {
    canvas.dataset.numbers = numbers.datasets
      .map((index) => ((numbers.texts || {})[index] || chart.data.datasets[index].data).join("|"))
      .join("||");
  }
  if (record.description) canvas.setAttribute("aria-label", record.description);
}

// Labels on a phone are shorter: the bars need the width.
function short(text, length) {
  const room = length || (window.innerWidth < 600 ? 22 : 42);
  return text.length > room ? text.slice(0, room - 1) + "…" : text;
}

function query(params) {
  const search = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
  return search.toString() ? "?" + search : "";
}

function formatDate(value, language) {
  return new Date(value).toLocaleDateString(language, { day: "numeric", month: "short" });
}

// A card's chart or its empty state: the sentence when there is nothing to show.
function showCard(name, empty) {
  document.getElementById(`${name}-empty`).hidden = !empty;
  document.getElementById(`${name}-view`).hidden = empty;
}

function fillTable(id, rows) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren();
  for (const cells of rows) {
    const row = document.createElement("tr");
    cells.forEach(([text, className]) => cell(row, text, className));
    body.appendChild(row);
  }
  document.getElementById(id).dataset.rows = String(rows.length);
}

// The Monday (UTC) a week of the time series starts on, `weeks` weeks before this one.
function mondayWeeksAgo(weeks) {
  const day = new Date();
  day.setUTCHours(0, 0, 0, 0);
  day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7) - 7 * weeks);
  return day;
}

async function render(language) {
  const network = document.getElementById("network").value;
  const now = new Date().toISOString();
  const series = (metric) => get("/timeseries" + query({
    metric, bucket: "week", network_id: network, from: mondayWeeksAgo(51).toISOString(), to: now,
  }));
  const [overview, enrolments, timeline, cancellations, upcoming, past, municipalities, parties] = await Promise.all([
    get("/overview" + query({ network_id: network })),
    series("enrolments"),
    series("registrations"),
    series("cancellations"),
    get("/meetings" + query({ network_id: network, from: now })),
    get("/meetings" + query({ network_id: network, to: now })),
    get("/municipalities" + query({ network_id: network })),
    network ? get(`/networks/${encodeURIComponent(network)}/parties`) : null,
  ]);
  showHeadline(overview, language);
  showUpcoming(upcoming.items.filter((m) => m.status !== "cancelled").slice(0, 12), language);
  showTrend(enrolments, timeline, cancellations, language);
  showMunicipalities(municipalities.items);
  await showPast(past.items.filter((m) => m.status !== "cancelled").slice(-12), language);
  showParties(parties, language);
  await showOps(upcoming.as_of, language);
  await showDialogue(network, language);
}

function showHeadline(overview, language) {
  const percent = new Intl.NumberFormat(language, { style: "percent", maximumFractionDigits: 0 });
  const number = new Intl.NumberFormat(language, { signDisplay: "exceptZero" });
  document.getElementById("figure-fill").textContent =
    overview.fill_rate === null ? "–" : percent.format(overview.fill_rate);
  document.getElementById("figure-fill-detail").textContent = overview.seats_offered
    ? say("seats_of", { taken: overview.seats_confirmed, offered: overview.seats_offered })
    : words.no_seats_offered;
  document.getElementById("figure-members").textContent = overview.members_active;
  const change = document.getElementById("figure-members-change");
  change.textContent = say("since_last_week", { change: number.format(overview.members_change) });
  change.dataset.change = String(overview.members_change);
  document.getElementById("figure-meetings").textContent = overview.meetings_upcoming;
  document.getElementById("figure-waitlisted").textContent = overview.waitlisted;
  document.getElementById("figures").dataset.fillRate = String(overview.fill_rate);
}

// Coming meetings, each bar the meeting's own capacity (0–100 %), so a meeting of 8 reads as
// clearly as one of 300; the seats themselves are the number on the bar.
function showUpcoming(soon, language) {
  showCard("upcoming", soon.length === 0);
  const percent = new Intl.NumberFormat(language, { style: "percent", maximumFractionDigits: 0 });
  const share = (m) => (m.capacity ? Math.min(m.seats_confirmed / m.capacity, 1) * 100 : 0);
  fillTable("upcoming-table", soon.map((m) => [
    [m.title], [formatDate(m.starts_at, language)], [m.seats_confirmed, "number"], [m.capacity, "number"],
    [m.capacity ? percent.format(m.seats_confirmed / m.capacity) : "–", "number"], [m.waitlisted, "number"],
  ]));
  if (soon.length === 0) return;
  const texts = soon.map((m) => say("seats_bar", { taken: m.seats_confirmed, capacity: m.capacity }) +
    (m.waitlisted ? ` · ${say("waiting_bar", { count: m.waitlisted })}` : ""));
  const labels = soon.map((m) => `${short(m.title)} (${formatDate(m.starts_at, language)})`);
  draw("chart-upcoming", {
    type: "bar", height: 90 + soon.length * 40,
    data: { labels, datasets: [
      { label: words.seats_confirmed, data: soon.map(share), backgroundColor: COLOURS.accent, stack: "seats" },
      { label: words.seats_free, data: soon.map((m) => 100 - share(m)), backgroundColor: COLOURS.grey, stack: "seats" },
    ] },
    options: {
      indexAxis: "y",
      plugins: {
        barNumbers: { datasets: [0], texts: { 0: texts }, inside: true },
        tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${texts[item.dataIndex]}` } },
      },
      scales: { x: { stacked: true, min: 0, max: 100, ticks: { callback: (v) => `${v} %` } }, y: { stacked: true } },
    },
  }, {
    values: soon.map((m) => m.seats_confirmed),
    description: describe(words.upcoming_meetings, labels, texts),
  });
}

// Week by week over the last twelve months, from the first week with anything in it: the
// weeks before a network's first activity are not history.
function showTrend(enrolments, registrations, cancellations, language) {
  const weeks = registrations.map((p) => p.bucket_start);
  const value = (points, week) => (points.find((p) => p.bucket_start === week) || { value: 0 }).value;
  const first = weeks.findIndex((w) => value(enrolments, w) || value(registrations, w) || value(cancellations, w));
  showCard("trend", first < 0);
  const shown = first < 0 ? [] : weeks.slice(first);
  fillTable("trend-table", shown.map((w) => [
    [new Date(w).toLocaleDateString(language, { day: "numeric", month: "numeric", year: "numeric" })],
    [value(enrolments, w), "number"], [value(registrations, w), "number"], [value(cancellations, w), "number"],
  ]));
  if (first < 0) return;
  const labels = shown.map((w) => formatDate(w, language));
  draw("chart-timeline", {
    type: "line", height: 260,
    data: { labels, datasets: [
      { label: words.registrations, data: shown.map((w) => value(registrations, w)), borderColor: COLOURS.accent, backgroundColor: COLOURS.light, fill: true, cubicInterpolationMode: "monotone" },
      { label: words.enrolments, data: shown.map((w) => value(enrolments, w)), borderColor: COLOURS.blue, cubicInterpolationMode: "monotone" },
      { label: words.cancellations, data: shown.map((w) => value(cancellations, w)), borderColor: COLOURS.warn, cubicInterpolationMode: "monotone" },
    ] },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { ticks: { autoSkip: true, maxRotation: 0 } } } },
  }, { description: `${words.trend}: ${words.registrations} ${shown.reduce((a, w) => a + value(registrations, w), 0)}, ` +
      `${words.enrolments} ${shown.reduce((a, w) => a + value(enrolments, w), 0)}, ` +
      `${words.cancellations} ${shown.reduce((a, w) => a + value(cancellations, w), 0)}` });
}

// Municipalities as the register knows them; every name that matched no register entry is
// counted on one line, "not in the register (number of such names)", never drawn one by one.
function showMunicipalities(items) {
  const known = items.filter((m) => m.municipality_id !== null);
  const unknown = items.filter((m) => m.municipality_id === null);
  const rows = known.slice(0, 12).map((m) => ({ name: m.municipality, ...m }));
  if (unknown.length) {
    const sum = (field) => unknown.reduce((total, m) => total + m[field], 0);
    rows.push({
      name: say("not_in_register_line", { count: unknown.length }), unresolved: true,
      members_active: sum("members_active"), registrations_confirmed: sum("registrations_confirmed"), attended: sum("attended"),
    });
  }
  showCard("municipalities", rows.length === 0);
  fillTable("municipalities-table", rows.map((m) => [
    [m.name], [m.members_active, "number"], [m.registrations_confirmed, "number"], [m.attended, "number"],
  ]));
  if (rows.length === 0) return;
  const labels = rows.map((m) => short(m.name));
  draw("chart-municipalities", {
    type: "bar", height: 90 + rows.length * 44,
    data: { labels, datasets: [
      { label: words.members_active, data: rows.map((m) => m.members_active),
        backgroundColor: rows.map((m) => (m.unresolved ? COLOURS.grey : COLOURS.accent)) },
      { label: words.registrations_confirmed, data: rows.map((m) => m.registrations_confirmed), backgroundColor: COLOURS.blue },
    ] },
    options: {
      indexAxis: "y", layout: { padding: { right: 28 } },
      plugins: { barNumbers: { datasets: [0, 1] } },
      scales: { x: { beginAtZero: true, grace: "8%", ticks: { precision: 0 } } },
    },
  }, { description: describe(words.municipalities, rows.map((m) => m.name), rows.map((m) => m.members_active)) });
}

// Held meetings: who came as a share of those confirmed (a meeting of 6 as readable as one of
// 200), the people themselves as the number on the bar.
async function showPast(held, language) {
  // Beside who came, how many of them gave feedback (0 for a meeting that asked for none).
  const feedback = await Promise.all(
    held.map((m) => get(`/meetings/${encodeURIComponent(m.meeting_id)}/feedback`).catch(() => null)),
  );
  const gave = feedback.map((f) => (f ? f.responses : 0));
  showCard("past", held.length === 0);
  fillTable("past-table", held.map((m, i) => [
    [m.title], [formatDate(m.starts_at, language)], [m.registrations_confirmed, "number"],
    [m.attended, "number"], [m.no_shows || 0, "number"], [gave[i], "number"],
  ]));
  if (held.length === 0) return;
  const share = (m, count) => (m.registrations_confirmed ? (count / m.registrations_confirmed) * 100 : 0);
  const texts = held.map((m) => say("came_bar", { attended: m.attended, confirmed: m.registrations_confirmed }));
  const labels = held.map((m) => `${short(m.title, window.innerWidth < 600 ? 16 : 30)} (${formatDate(m.starts_at, language)})`);
  draw("chart-past", {
    type: "bar", height: 90 + held.length * 40,
    data: { labels, datasets: [
      { label: words.attended, data: held.map((m) => share(m, m.attended)), backgroundColor: COLOURS.accent, stack: "s" },
      { label: words.no_shows, data: held.map((m) => share(m, m.no_shows || 0)), backgroundColor: COLOURS.warn, stack: "s" },
    ] },
    options: {
      indexAxis: "y",
      plugins: {
        barNumbers: { datasets: [0], texts: { 0: texts }, inside: true },
        tooltip: { callbacks: { label: (item) => `${words.attended}: ${texts[item.dataIndex]}` } },
      },
      scales: { x: { stacked: true, min: 0, max: 100, ticks: { maxRotation: 0, callback: (v) => `${v} %` } }, y: { stacked: true } },
    },
  }, { values: held.map((m) => m.attended), description: describe(words.past_meetings, labels, texts) });
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
  // A wide table scrolls inside its box (reachable by keyboard), never the page.
  const box = document.createElement("div");
  box.className = "table-box";
  box.tabIndex = 0;
  box.appendChild(tableElement);
  details.append(summary, box);
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
      options: { indexAxis: scale ? "x" : "y", plugins: { legend: { display: false }, barNumbers: { datasets: [0] } },
                 scales: { [scale ? "y" : "x"]: { beginAtZero: true, grace: "12%", ticks: { precision: 0 } } } },
    });
  });

  const places = document.querySelector("#consultation-municipalities tbody");
  places.replaceChildren();
  // Register entries by name; names that matched none on one line, as in the chart above.
  const typed = report.municipalities.filter((p) => p.municipality !== null && p.municipality_id === null);
  const rows = report.municipalities.filter((p) => !typed.includes(p)).map((p) => [
    p.municipality === null ? words.not_given : p.municipality, p.municipality_code || "–", p.responses,
  ]);
  if (typed.length) {
    rows.push([say("not_in_register_line", { count: typed.length }), "–", typed.reduce((a, p) => a + p.responses, 0)]);
  }
  for (const [name, code, responses] of rows) {
    const row = document.createElement("tr");
    cell(row, name);
    cell(row, code);
    cell(row, responses, "number");
    places.appendChild(row);
  }
  document.getElementById("consultation-municipalities").dataset.rows = String(rows.length);
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
    options: { indexAxis: "y", plugins: { legend: { display: false }, barNumbers: { datasets: [0] } },
               scales: { x: { beginAtZero: true, grace: "12%", ticks: { precision: 0 } } } },
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

// The pipeline spans every organisation: only the platform's tokens may read it, so only they
// see the operations tab; an organisation's reader sees its own view and nothing else.
async function showOps(asOf, language) {
  const response = await fetch(API + "/pipeline", { headers: { Authorization: `Bearer ${token()}` } });
  const tabs = document.getElementById("views");
  if (response.status === 403) {
    tabs.hidden = true;
    selectTab(document.getElementById("tab-organiser"), false);
    return;
  }
  if (!response.ok) throw new Error(`/pipeline: ${response.status}`);
  tabs.hidden = false;
  showPipeline(await response.json(), asOf, language);
}

function selectTab(tab, focus) {
  for (const other of document.querySelectorAll('#views [role="tab"]')) {
    const chosen = other === tab;
    other.setAttribute("aria-selected", String(chosen));
    other.tabIndex = chosen ? 0 : -1;
    document.getElementById(other.getAttribute("aria-controls")).hidden = !chosen;
  }
  if (focus) tab.focus();
  // A chart drawn while its panel was hidden has no size yet.
  Object.values(charts).forEach((chart) => chart.resize());
}

// Tabs as the ARIA pattern has them: a click or Enter chooses; the arrow keys, Home and End
// move between the tabs and choose.
function wireTabs() {
  const tabs = [...document.querySelectorAll('#views [role="tab"]')];
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => selectTab(tab, false));
    tab.addEventListener("keydown", (event) => {
      const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      selectTab(tabs[(next + tabs.length) % tabs.length], true);
    });
  });
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
  // The same view in the other language: the chosen network stays chosen.
  const network = document.getElementById("network").value;
  location.search = query({ lang: event.target.value, network });
});
wireTabs();
document.getElementById("network").addEventListener("change", () => render(document.documentElement.lang));
document.getElementById("consultation").addEventListener("change", (event) => showConsultation(event.target.value, document.documentElement.lang));
setInterval(() => { if (token() && document.body.dataset.ready === "true") render(document.documentElement.lang); }, 30000);
start();
