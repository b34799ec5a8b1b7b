import "./styles.css";
import { DEFAULT_MAX_UPLOAD_BYTES, formatUsd, uploadContentTypes } from "@reelbridge/events/http";
import { ApiError, StorageRejection, TERMINAL, UnexpectedResponse, cancelJob, createUpload, getJob, getQuote, listJobs, rerender, uploadToStorage } from "./api";
import type { Aspect, JobView } from "./api";
import { SignInError, createAuth, isAuthorizationResponse, redirectUriFor } from "./auth";
import type { Auth, AuthState } from "./auth";
import { loadConfig } from "./config";
import type { ClientConfig } from "./config";
import { describeFailure } from "./failures";
import { costSummary, priceSummary, quoteSummary } from "./cost";
import { progressText } from "./progress";
import { musicOptions, musicTrack } from "./music";
import { previewGeometry, previewProps } from "./preview/props";
import type { Preview } from "./preview/player";
import { attachPlayer } from "./player";
import type { Player } from "./player";
import { jobSteps, statusLabel } from "./steps";
import { FileRejection, checkFile, formatBytes } from "./validate";

const POLL_MS = 1500;
const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const form = $<HTMLFormElement>("upload-form");
const formError = $("form-error");
const photo = $<HTMLInputElement>("photo");
const previewBox = $("preview-box");
const preview = $<HTMLImageElement>("preview");
const previewCaption = $("preview-caption");
const submit = $<HTMLButtonElement>("submit");
const uploadStatus = $("upload-status");
const uploadProgress = $<HTMLProgressElement>("upload-progress");
const uploadPercent = $("upload-percent");
const uploadState = $("upload-state");
const music = $<HTMLSelectElement>("music");

const jobSection = $("job");
const jobHeading = $("job-heading");
const jobStatus = $("job-status");
const jobStepsList = $("job-steps");
const jobFailure = $("job-failure");
const jobCost = $("job-cost");
const jobResult = $("job-result");
const player = $<HTMLVideoElement>("player");
const downloadMp4 = $<HTMLAnchorElement>("download-mp4");
const posterLink = $<HTMLAnchorElement>("poster-link");
const clipsBox = $("clips-box");
const clipsList = $("clips");
const jobTimeline = $("job-timeline");

const history = $("history");
const historyStatus = $("history-status");
const historyMore = $<HTMLButtonElement>("history-more");

const dropzone = $("dropzone");
const photoStatus = $("photo-status");
const musicListen = $<HTMLButtonElement>("music-listen");
const musicAudio = $<HTMLAudioElement>("music-audio");
const musicDescription = $("music-description");
const previewPlayer = $("preview-player");
const previewTime = $<HTMLInputElement>("preview-time");
const previewTimeValue = $<HTMLOutputElement>("preview-time-value");
const previewSummary = $("preview-summary");
const previewPlay = $<HTMLButtonElement>("preview-play");
const previewMute = $<HTMLButtonElement>("preview-mute");
const account = $("account");
const accountStatus = $("account-status");
const accountError = $("account-error");
const signInButton = $<HTMLButtonElement>("sign-in");
const signOutButton = $<HTMLButtonElement>("sign-out");
const signInNeeded = $("sign-in-needed");
const quoteBox = $("quote");
const quoteText = $("quote-text");
const quoteRefusal = $("quote-refusal");
const jobCancel = $<HTMLButtonElement>("job-cancel");
const jobActionStatus = $("job-action-status");
const versionsBox = $("versions-box");
const versionsList = $("versions");
const rerenderForm = $<HTMLFormElement>("rerender-form");
const rerenderError = $("rerender-error");
const rerenderQuote = $("rerender-quote");
const rerenderSubmit = $<HTMLButtonElement>("rerender-submit");
const rrMusic = $<HTMLSelectElement>("rr-music");

let config: ClientConfig;
let auth: Auth | undefined;
let maxBytes = DEFAULT_MAX_UPLOAD_BYTES;
let previewUrl: string | undefined;
let busy = false;

// ---------------------------------------------------------------- form

const fieldNames = ["photo", "title", "subtitle", "cameraPrompt", "music", "durationSeconds", "aspect"] as const;
type FieldName = (typeof fieldNames)[number];
const fieldOf = (apiField: string): FieldName | undefined => {
  const f = apiField.split(".")[0];
  if (f === "contentType") return "photo";
  return (fieldNames as readonly string[]).includes(f ?? "") ? (f as FieldName) : undefined;
};
const control = (f: FieldName): HTMLElement => (f === "aspect" ? form.querySelector<HTMLInputElement>('input[name="aspect"]:checked') ?? form.querySelector('input[name="aspect"]')! : $(f));

function setFieldError(f: FieldName, message: string | undefined) {
  const el = $(`${f}-error`);
  el.textContent = message ?? "";
  const targets = f === "aspect" ? [...form.querySelectorAll<HTMLInputElement>('input[name="aspect"]')] : [$(f)];
  for (const t of targets) {
    if (message) t.setAttribute("aria-invalid", "true");
    else t.removeAttribute("aria-invalid");
  }
}

function showFormError(message: string | undefined, focus = true) {
  formError.textContent = message ?? "";
  formError.hidden = !message;
  if (message && focus) formError.focus();
}

/** "There is a problem" with one link per invalid field (each link focuses its field). */
function showErrorSummary(errors: Array<[FieldName, string]>) {
  const title = document.createElement("p");
  title.className = "alert-title";
  title.textContent = errors.length === 1 ? "There is a problem" : `There are ${errors.length} problems`;
  const list = document.createElement("ul");
  for (const [f, m] of errors) {
    const a = document.createElement("a");
    a.href = `#${f === "aspect" ? "aspect-error" : f}`;
    a.textContent = `${labelText(f)}: ${m}`;
    a.addEventListener("click", (e) => {
      e.preventDefault();
      control(f).focus();
    });
    const li = document.createElement("li");
    li.append(a);
    list.append(li);
  }
  formError.replaceChildren(title, list);
  formError.hidden = false;
}

function clearErrors() {
  showFormError(undefined);
  for (const f of fieldNames) setFieldError(f, undefined);
}

/** Shows field errors and a summary (role=alert, so it is announced), and focuses the first invalid field. */
function showFieldErrors(errors: Array<[FieldName, string]>) {
  for (const [f, m] of errors) setFieldError(f, m);
  showErrorSummary(errors);
  const first = errors[0];
  if (first) control(first[0]).focus();
}

const labelText = (f: FieldName) => (f === "aspect" ? "Aspect" : (form.querySelector(`label[for="${f}"]`)?.firstChild?.textContent ?? f).trim());

async function readHead(file: File): Promise<Uint8Array> {
  return new Uint8Array(await file.slice(0, 16).arrayBuffer());
}

/** Checks the picked file at once (type by content, size) and previews it. */
async function onPhotoPicked(): Promise<string | undefined> {
  const file = photo.files?.[0];
  setFieldError("photo", undefined);
  showFormError(undefined);
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = undefined;
  previewBox.hidden = true;
  updatePreview();
  if (!file) return undefined;
  try {
    const type = checkFile(file, await readHead(file), maxBytes);
    previewUrl = URL.createObjectURL(file);
    const url = previewUrl;
    updatePreview();
    preview.alt = `Preview of ${file.name}`;
    preview.onload = () => {
      if (url !== previewUrl) return;
      previewCaption.textContent = `${file.name} · ${preview.naturalWidth}×${preview.naturalHeight} · ${formatBytes(file.size)}`;
      previewBox.hidden = false;
    };
    preview.onerror = () => {
      if (url !== previewUrl) return;
      setFieldError("photo", `“${file.name}” looks like an image but cannot be displayed; it may be damaged. Choose another photo.`);
    };
    preview.src = url;
    return type;
  } catch (err) {
    if (err instanceof FileRejection) {
      setFieldError("photo", err.message); // announced: #photo-error is a live region
      return undefined;
    }
    throw err;
  }
}

function readForm() {
  const data = new FormData(form);
  const str = (k: string) => String(data.get(k) ?? "").trim();
  return {
    title: str("title"),
    subtitle: str("subtitle"),
    cameraPrompt: str("cameraPrompt"),
    music: str("music"),
    aspect: (str("aspect") || "9:16") as Aspect,
    durationSeconds: Number(str("durationSeconds")),
  };
}

function setBusy(on: boolean) {
  busy = on;
  submit.disabled = on;
  submit.textContent = on ? "Uploading…" : "Create video";
  form.setAttribute("aria-busy", String(on));
}

function setProgress(fraction: number) {
  const pct = Math.round(fraction * 100);
  uploadProgress.value = pct;
  uploadPercent.textContent = `${pct}%`;
  uploadProgress.setAttribute("aria-valuetext", `${pct}%`);
}

async function onSubmit(e: SubmitEvent) {
  e.preventDefault();
  if (busy) return;
  clearErrors();
  if (auth && auth.state.status !== "signed-in") {
    showFormError("Sign in to create videos: this service records each video under its owner.", false);
    signInButton.focus();
    return;
  }
  const values = readForm();
  const errors: Array<[FieldName, string]> = [];
  const file = photo.files?.[0];
  let contentType: ReturnType<typeof checkFile> | undefined;
  try {
    contentType = checkFile(file, file ? await readHead(file) : new Uint8Array(), maxBytes);
  } catch (err) {
    if (!(err instanceof FileRejection)) throw err;
    errors.push(["photo", err.message]);
  }
  if (!values.title) errors.push(["title", "Enter a title."]);
  if (!Number.isInteger(values.durationSeconds) || values.durationSeconds < 2 || values.durationSeconds > 20) errors.push(["durationSeconds", "Enter a whole number of seconds from 2 to 20."]);
  if (errors.length) return showFieldErrors(errors);

  setBusy(true);
  uploadStatus.hidden = false;
  uploadState.textContent = "Uploading the photo…";
  setProgress(0);
  try {
    const ticket = await createUpload(config, { ...values, contentType: contentType! });
    uploadState.textContent = `Uploading the photo… ${quoteSummary(ticket.quote)}`;
    maxBytes = ticket.upload.maxBytes;
    $("max-size").textContent = formatBytes(maxBytes);
    if (file!.size > ticket.upload.maxBytes) {
      uploadStatus.hidden = true;
      return showFieldErrors([["photo", `“${file!.name}” is ${formatBytes(file!.size)}; photos can be at most ${formatBytes(ticket.upload.maxBytes)}. Choose a smaller photo.`]]);
    }
    await uploadToStorage(ticket, file!, setProgress).done;
    uploadState.textContent = "Photo uploaded.";
    openJob(ticket.jobId, { title: values.title, justUploaded: true });
    listedAs.set(ticket.jobId, undefined);
    void refreshHistory();
  } catch (err) {
    uploadStatus.hidden = true;
    if (err instanceof UnexpectedResponse) return showFormError(err.message);
    if (err instanceof ApiError && err.code === "BudgetExceeded") {
      const cap = err.budget ? ` (${err.budget.limit.kind === "perOwnerPerDay" ? `your limit per day, ${formatUsd(err.budget.limit.usd)}` : err.budget.limit.kind === "perJob" ? `the limit per video, ${formatUsd(err.budget.limit.usd)}` : `your maximum, ${formatUsd(err.budget.limit.usd)}`})` : "";
      void refreshQuote();
      return showFormError(`This video would cost more than is allowed${cap}, so nothing was uploaded or paid: ${err.message}`);
    }
    if (err instanceof ApiError) {
      const mapped = err.details.map((d) => [fieldOf(d.field), d.message] as const).filter((d): d is [FieldName, string] => d[0] !== undefined);
      if (mapped.length) return showFieldErrors(mapped);
      return showFormError(err.status === 401 || err.status === 403 ? `You are not allowed to upload (${err.message}).` : `The upload was refused: ${err.message}`);
    }
    if (err instanceof StorageRejection) return showFormError(err.message);
    showFormError(`Something went wrong: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    setBusy(false);
  }
}

// ---------------------------------------------------------------- job view

let pollTimer: ReturnType<typeof setTimeout> | undefined;
let currentJobId: string | undefined;
let currentPlayer: Player | undefined;
let shownVideoFor: string | undefined;
let lastAnnounced = "";

function announce(text: string) {
  if (text === lastAnnounced) return;
  lastAnnounced = text;
  jobStatus.textContent = text;
}

function openJob(jobId: string, opts: { title?: string; justUploaded?: boolean; focus?: boolean } = {}) {
  if (pollTimer) clearTimeout(pollTimer);
  currentPlayer?.destroy();
  currentPlayer = undefined;
  shownVideoFor = undefined;
  currentJobId = jobId;
  lastAnnounced = "";
  jobSection.hidden = false;
  jobSection.dataset.jobId = jobId;
  jobSection.dataset.status = "";
  jobResult.hidden = true;
  jobFailure.hidden = true;
  jobActionStatus.textContent = "";
  jobCancel.disabled = false;
  rerenderFor = undefined;
  jobHeading.textContent = opts.title ? `“${opts.title}”` : "Your video";
  if (location.hash !== `#job=${jobId}`) history_replace(`#job=${jobId}`);
  renderJob({ jobId, status: "uploaded", params: null, timeline: [], outputs: { clips: [] } }, opts.justUploaded ? "Uploaded. Waiting for processing to start…" : "Loading…");
  if (opts.focus !== false) jobHeading.focus();
  void poll(jobId);
}

const history_replace = (hash: string) => window.history.replaceState(null, "", hash);

async function poll(jobId: string) {
  if (jobId !== currentJobId) return;
  let job: JobView | undefined;
  try {
    job = await getJob(config, jobId);
  } catch (err) {
    if (jobId !== currentJobId) return;
    if (err instanceof UnexpectedResponse) {
      // Asking again gets the same answer: say so and stop.
      jobSection.dataset.status = "error";
      announce(`Could not read the job's status. ${err.message}`);
      return;
    }
    announce(`Could not get the job's status (${err instanceof Error ? err.message : String(err)}); retrying…`);
    pollTimer = setTimeout(() => void poll(jobId), POLL_MS * 2);
    return;
  }
  if (jobId !== currentJobId) return;
  // 404 until the pipeline records the job's first step: keep the local "uploaded" view.
  if (job) renderJob(job);
  if (job) followInHistory(job);
  if (!job || !TERMINAL.has(job.status) || versionInFlight(job)) pollTimer = setTimeout(() => void poll(jobId), POLL_MS);
}

/**
 * A re-render not yet finished: requested, rendering, or rendered and still being packaged
 * (segments pending). The job itself stays completed meanwhile, so without this the page would
 * stop asking at "rendered" and never show the version completed.
 */
const VERSION_IN_FLIGHT: ReadonlySet<string> = new Set(["requested", "rendering", "rendered"]);
const versionInFlight = (job: Pick<JobView, "versions">) => (job.versions ?? []).some((v) => VERSION_IN_FLIGHT.has(v.status));

/** What the job view shows: a job view from the status API, or the placeholder until its first answer. */
type ShownJob = Pick<JobView, "jobId" | "status" | "params" | "timeline" | "failure" | "outputs"> & Partial<Pick<JobView, "cost" | "progress" | "versions" | "latestVersion">>;

function renderJob(job: ShownJob, message?: string) {
  jobSection.dataset.status = job.status;
  currentJobParams = job.params ? { durationSeconds: job.params.durationSeconds } : undefined;
  if (job.params?.title) jobHeading.textContent = `“${job.params.title}”`;
  announce(message ?? `Status: ${statusLabel[job.status]}.`);

  jobStepsList.replaceChildren(
    ...jobSteps(job).map((s) => {
      const li = document.createElement("li");
      li.className = `step ${s.state}`;
      li.dataset.step = s.id;
      if (s.state === "current") li.setAttribute("aria-current", "step");
      const mark = document.createElement("span");
      mark.className = "mark";
      mark.setAttribute("aria-hidden", "true");
      mark.textContent = { done: "✓", current: "…", pending: "", failed: "✕" }[s.state];
      const text = document.createElement("span");
      text.textContent = s.label;
      const state = document.createElement("span");
      state.className = "visually-hidden";
      state.textContent = { done: " (done)", current: " (in progress)", pending: " (not started)", failed: " (failed)" }[s.state];
      li.append(mark, text, state);
      // The status API's progress of the running step (generation or render), with the time left.
      const p = s.state === "current" ? (s.id === "base" ? job.progress?.generation : s.id === "render" ? job.progress?.render : undefined) : undefined;
      if (p) li.append(stepProgress(s.id, p));
      return li;
    }),
  );
  // A re-render's progress: the job's own steps are done, so it is shown with the versions.
  renderVersions(job);

  jobTimeline.replaceChildren(
    ...[...job.timeline]
      .sort((a, b) => a.time.localeCompare(b.time))
      .map((t) => {
        const li = document.createElement("li");
        const time = document.createElement("time");
        time.dateTime = t.time;
        time.textContent = new Date(t.time).toLocaleTimeString();
        const b = document.createElement("strong");
        b.textContent = t.type;
        li.append(time, " ", b, ` — ${t.summary}`);
        return li;
      }),
  );

  if (job.status === "failed") {
    jobFailure.textContent = job.failure ? `This video could not be made. ${describeFailure(job.failure)}` : "This video could not be made.";
    jobFailure.hidden = false;
  } else jobFailure.hidden = true;

  // What the job has cost so far (failed jobs too), from the status API's cost ledger.
  const cost = costSummary(job.cost, job.status);
  jobCost.hidden = !cost;
  jobCost.textContent = cost ?? "";

  // Cancel while something is under way: the job's first run, or a re-render.
  // A version's render can be cancelled until it has rendered (packaging is not).
  const cancellable = !TERMINAL.has(job.status) || (job.versions ?? []).some((v) => v.status === "requested" || v.status === "rendering");
  jobCancel.hidden = !cancellable;
  if (!cancellable) jobCancel.disabled = false;
  showRerenderForm(job);

  const out = job.outputs;
  const shownKey = `${job.jobId}:${latestCompleted(job) ?? 1}`;
  if (job.status === "completed" && (out.hlsPlaylist || out.video) && shownVideoFor !== shownKey) {
    shownVideoFor = shownKey;
    showResult(job);
  }
}

const latestCompleted = (job: ShownJob) => [...(job.versions ?? [])].reverse().find((v) => v.status === "completed")?.version;

function stepProgress(step: string, p: NonNullable<JobView["progress"]>["generation"] & object): HTMLElement {
  const box = document.createElement("span");
  box.className = "step-progress";
  box.dataset.progressFor = step;
  const text = progressText(p);
  if (p.fraction !== undefined) {
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = Math.round(p.fraction * 100);
    bar.setAttribute("aria-label", step === "base" ? "Animation progress" : "Render progress");
    bar.setAttribute("aria-valuetext", text);
    box.append(bar);
    box.dataset.fraction = String(p.fraction);
  }
  const label = document.createElement("span");
  label.className = "step-progress-text";
  label.textContent = text;
  box.append(label);
  return box;
}

// ---------------------------------------------------------------- versions, re-render, cancel

const versionStatusLabel: Record<NonNullable<JobView["versions"]>[number]["status"], string> = {
  requested: "waiting to render",
  rendering: "rendering",
  rendered: "preparing",
  completed: "ready",
  failed: "failed",
  cancelled: "cancelled",
};

function renderVersions(job: ShownJob) {
  const versions = job.versions ?? [];
  versionsBox.hidden = versions.length < 2;
  versionsList.replaceChildren(
    ...versions.map((v) => {
      const li = document.createElement("li");
      li.dataset.version = String(v.version);
      li.dataset.status = v.status;
      const name = document.createElement("strong");
      name.textContent = `Version ${v.version}`;
      const meta = document.createElement("span");
      meta.className = "version-meta";
      meta.textContent = `“${v.title}” · ${v.aspect} · ${versionStatusLabel[v.status]}${v.failure ? ` (${describeFailure(v.failure)})` : ""}`;
      li.append(name, " ", meta);
      const p = job.progress?.render;
      if (p && p.version === v.version && v.version > 1) li.append(stepProgress("render", p));
      const video = v.outputs.video;
      if (v.status === "completed" && video) {
        const play = document.createElement("button");
        play.type = "button";
        play.className = "secondary";
        play.textContent = `Play version ${v.version}`;
        play.addEventListener("click", () => playVersion(job, v.version, video.url));
        li.append(play);
      }
      return li;
    }),
  );
}

/** Plays one version's MP4 in the job's player. */
function playVersion(job: ShownJob, version: number, url: string) {
  const v = job.versions?.find((x) => x.version === version);
  currentPlayer?.destroy();
  currentPlayer = undefined;
  jobResult.hidden = false;
  if (v) player.dataset.aspect = v.aspect;
  player.dataset.version = String(version);
  void attachPlayer(player, { mp4: url }).then((p) => {
    currentPlayer = p;
    void player.play().catch(() => undefined);
  });
  jobActionStatus.textContent = `Playing version ${version}.`;
}

let rerenderFor: string | undefined;
let rerenderKey: { fingerprint: string; key: string } | undefined;
let rerenderQuoteTimer: ReturnType<typeof setTimeout> | undefined;

/** The edit form under a completed job, filled with its latest version's text, music and aspect. */
function showRerenderForm(job: ShownJob) {
  const can = job.status === "completed" && !versionInFlight(job);
  rerenderForm.hidden = !can;
  if (!can) return;
  const key = `${job.jobId}:${job.latestVersion ?? 1}`;
  if (rerenderFor === key) return;
  rerenderFor = key;
  const latest = job.versions?.at(-1);
  const from = latest ?? job.params;
  if (!from) return;
  ($<HTMLInputElement>("rr-title")).value = from.title;
  ($<HTMLInputElement>("rr-subtitle")).value = from.subtitle ?? "";
  rrMusic.value = from.music;
  for (const r of rerenderForm.querySelectorAll<HTMLInputElement>('input[name="aspect"]')) r.checked = r.value === from.aspect;
  rerenderError.hidden = true;
  void refreshRerenderQuote();
}

function readRerender() {
  const data = new FormData(rerenderForm);
  const str = (k: string) => String(data.get(k) ?? "").trim();
  return { title: str("title"), subtitle: str("subtitle"), music: str("music"), aspect: (str("aspect") || "9:16") as Aspect };
}

async function refreshRerenderQuote() {
  const params = currentJobParams;
  if (!params) return;
  const { aspect } = readRerender();
  try {
    const q = await getQuote(config, { aspect, durationSeconds: params.durationSeconds, generation: "reused" });
    const p = priceSummary(q);
    rerenderQuote.textContent = p.refusal ? `${p.text} ${p.refusal}` : p.text;
    rerenderQuote.dataset.totalUsd = String(q.quote.totalUsd);
  } catch (err) {
    rerenderQuote.textContent = `The price could not be worked out (${err instanceof Error ? err.message : String(err)}).`;
    delete rerenderQuote.dataset.totalUsd;
  }
}

let currentJobParams: { durationSeconds: number } | undefined;

async function onRerender(e: SubmitEvent) {
  e.preventDefault();
  const jobId = currentJobId;
  if (!jobId || rerenderSubmit.disabled) return;
  const values = readRerender();
  rerenderError.hidden = true;
  if (!values.title) {
    rerenderError.textContent = "Enter a title.";
    rerenderError.hidden = false;
    $<HTMLInputElement>("rr-title").focus();
    return;
  }
  // The same request sent again (a retry after a network error) reuses its key: one version, not two.
  const fingerprint = JSON.stringify([jobId, values]);
  if (rerenderKey?.fingerprint !== fingerprint) rerenderKey = { fingerprint, key: crypto.randomUUID() };
  rerenderSubmit.disabled = true;
  rerenderSubmit.textContent = "Starting the re-render…";
  try {
    const r = await rerender(config, jobId, values, rerenderKey.key);
    rerenderKey = undefined;
    jobActionStatus.textContent = `Version ${r.version} is being rendered from the same animated clip${r.quote ? ` (estimated ${quoteSummary(r.quote).replace(/^Estimated cost: /, "")}` : ""}${r.quote ? ")" : ""}.`;
    if (pollTimer) clearTimeout(pollTimer);
    void poll(jobId);
  } catch (err) {
    rerenderError.textContent = err instanceof ApiError ? `The re-render was refused: ${err.message}` : `Something went wrong: ${err instanceof Error ? err.message : String(err)}`;
    rerenderError.hidden = false;
    rerenderError.focus();
  } finally {
    rerenderSubmit.disabled = false;
    rerenderSubmit.textContent = "Re-render";
  }
}

async function onCancel() {
  const jobId = currentJobId;
  if (!jobId || jobCancel.disabled) return;
  jobCancel.disabled = true;
  jobActionStatus.textContent = "Cancelling…";
  try {
    const r = await cancelJob(config, jobId);
    jobActionStatus.textContent = r.version ? `Version ${r.version} was cancelled.` : "This video was cancelled. Nothing more will be paid for it.";
    if (pollTimer) clearTimeout(pollTimer);
    void poll(jobId);
  } catch (err) {
    jobActionStatus.textContent = err instanceof ApiError ? `It could not be cancelled: ${err.message}` : `Cancelling failed: ${err instanceof Error ? err.message : String(err)}`;
    jobCancel.disabled = false;
  }
}

// ---------------------------------------------------------------- the price before "Create video"

let quoteTimer: ReturnType<typeof setTimeout> | undefined;
let quoteSeq = 0;

/** Asks POST /quotes for the form's length and aspect (debounced; the latest answer wins). */
function scheduleQuote() {
  if (quoteTimer) clearTimeout(quoteTimer);
  quoteTimer = setTimeout(() => void refreshQuote(), 250);
}

async function refreshQuote() {
  if (!config) return;
  const seq = ++quoteSeq;
  const { aspect, durationSeconds } = readForm();
  quoteBox.hidden = false;
  quoteRefusal.hidden = true;
  if (auth && auth.state.status !== "signed-in") {
    quoteText.textContent = "Sign in to see the price.";
    delete quoteBox.dataset.totalUsd;
    return;
  }
  if (!Number.isInteger(durationSeconds) || durationSeconds < 2 || durationSeconds > 20) {
    quoteText.textContent = "The price shows once the length is a whole number of seconds from 2 to 20.";
    delete quoteBox.dataset.totalUsd;
    return;
  }
  try {
    const q = await getQuote(config, { aspect, durationSeconds });
    if (seq !== quoteSeq) return;
    const p = priceSummary(q);
    quoteText.textContent = p.text;
    quoteBox.dataset.totalUsd = String(q.quote.totalUsd);
    quoteBox.dataset.fits = String(q.budget.fits);
    quoteRefusal.textContent = p.refusal ?? "";
    quoteRefusal.hidden = !p.refusal;
  } catch (err) {
    if (seq !== quoteSeq) return;
    quoteText.textContent = `The price could not be worked out (${err instanceof Error ? err.message : String(err)}).`;
    delete quoteBox.dataset.totalUsd;
  }
}

function showResult(job: ShownJob) {
  const out = job.outputs;
  jobResult.hidden = false;
  if (job.params) player.dataset.aspect = job.params.aspect;
  if (out.poster) player.poster = out.poster.url;
  else player.removeAttribute("poster");
  // Kept only while the page still shows this video (the key openJob/renderJob set: job and version).
  const shown = shownVideoFor;
  void attachPlayer(player, { hls: out.hlsPlaylist?.url, mp4: out.video?.url, ...(config.accessToken ? { accessToken: config.accessToken } : {}) }).then((p) => {
    if (shownVideoFor === shown) currentPlayer = p;
    else p.destroy();
  });
  downloadMp4.hidden = !out.video;
  if (out.video) {
    downloadMp4.href = out.video.url;
    downloadMp4.download = out.video.filename;
  }
  posterLink.parentElement!.hidden = !out.poster;
  if (out.poster) posterLink.href = out.poster.url;
  const clips = out.clips;
  clipsBox.hidden = clips.length === 0;
  clipsList.replaceChildren(
    ...clips.map(({ url }, i) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = url;
      a.download = "";
      a.textContent = `Clip ${i + 1}`;
      li.append(a);
      return li;
    }),
  );
}

// ---------------------------------------------------------------- past jobs

let historyCursor: string | undefined;

/**
 * Jobs created in this page, until they end: the past-videos list is refreshed when one first
 * becomes known to the status API (at upload it is not yet, so the list could not show it) and
 * when it ends, so the list never says "No videos yet" or a stale status for a job on screen.
 */
const listedAs = new Map<string, JobView["status"] | undefined>();

function followInHistory(job: JobView) {
  if (!listedAs.has(job.jobId)) return;
  const before = listedAs.get(job.jobId);
  if (before !== undefined && !TERMINAL.has(job.status)) return;
  if (TERMINAL.has(job.status)) listedAs.delete(job.jobId);
  else listedAs.set(job.jobId, job.status);
  if (before !== job.status) void refreshHistory();
}

async function refreshHistory(append = false) {
  if (auth && auth.state.status !== "signed-in") {
    history.replaceChildren();
    historyMore.hidden = true;
    historyCursor = undefined;
    historyStatus.textContent = "Sign in to see your videos.";
    return;
  }
  historyStatus.textContent = "Loading past videos…";
  try {
    const page = await listJobs(config, { limit: 10, cursor: append ? historyCursor : undefined });
    historyCursor = page.cursor;
    const items = page.items.map((j) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "job-link";
      const title = document.createElement("span");
      title.className = "job-title";
      title.textContent = j.title || j.jobId;
      const meta = document.createElement("span");
      meta.className = `job-meta ${j.status}`;
      meta.textContent = `${statusLabel[j.status]} · ${new Date(j.createdAt).toLocaleString()}`;
      button.append(title, meta);
      button.addEventListener("click", () => openJob(j.jobId, { title: j.title ?? undefined }));
      li.append(button);
      return li;
    });
    if (append) history.append(...items);
    else history.replaceChildren(...items);
    historyMore.hidden = !historyCursor;
    historyStatus.textContent = history.children.length ? "" : "No videos yet.";
  } catch (err) {
    historyStatus.textContent = `Could not load past videos: ${err instanceof Error ? err.message : String(err)}`;
  }
}

// ---------------------------------------------------------------- start

// ---------------------------------------------------------------- preview

let livePreview: Preview | undefined;

/** The form's current values as the composition's props. */
function currentPreviewProps() {
  const v = readForm();
  return previewProps({ title: v.title, subtitle: v.subtitle, music: v.music, aspect: v.aspect, durationSeconds: v.durationSeconds, photoUrl: previewUrl });
}

function updatePreview() {
  const props = currentPreviewProps();
  const g = previewGeometry(props);
  const seconds = g.durationInFrames / g.fps;
  previewTime.max = seconds.toFixed(1);
  previewPlayer.dataset.aspect = props.aspect;
  const track = musicTrack(props.musicId ?? "");
  previewSummary.textContent =
    `${props.aspect === "9:16" ? "Portrait 9:16" : "Landscape 16:9"}, ${props.baseVideoDurationSeconds} s of ${previewUrl ? "your photo" : "a placeholder (choose a photo)"} then a ${(g.durationInFrames - g.endCardFrame) / g.fps} s end card; ` +
    `title “${props.title || "(none yet)"}”${props.subtitle ? `, subtitle “${props.subtitle}”` : ""}; music ${track?.title ?? props.musicId}.`;
  livePreview?.update(props);
}

async function startPreview() {
  try {
    const { mountPreview } = await import("./preview/player");
    previewPlayer.replaceChildren();
    livePreview = mountPreview(previewPlayer, currentPreviewProps());
    livePreview.onFrame((frame) => {
      const t = frame / previewGeometry(currentPreviewProps()).fps;
      if (document.activeElement !== previewTime) previewTime.value = t.toFixed(1);
      previewTimeValue.textContent = `${t.toFixed(1)} s`;
    });
    livePreview.onPlaying((playing) => {
      previewPlay.textContent = playing ? "Pause preview" : "Play preview";
      previewPlayer.dataset.playing = String(playing);
    });
    previewPlay.addEventListener("click", () => {
      // One sound at a time: the track being auditioned stops when the preview plays.
      musicAudio.pause();
      livePreview?.toggle();
    });
    previewMute.addEventListener("click", () => {
      const muted = previewMute.getAttribute("aria-pressed") !== "true";
      previewMute.setAttribute("aria-pressed", String(muted));
      livePreview?.setMuted(muted);
    });
    previewPlayer.dataset.ready = "true";
  } catch (err) {
    previewPlayer.textContent = `The preview could not be loaded (${err instanceof Error ? err.message : String(err)}). You can still create the video.`;
  }
}

function onPreviewTime() {
  const props = currentPreviewProps();
  const g = previewGeometry(props);
  const frame = Math.min(g.durationInFrames - 1, Math.max(0, Math.round(Number(previewTime.value) * g.fps)));
  previewTimeValue.textContent = `${(frame / g.fps).toFixed(1)} s`;
  livePreview?.seekTo(frame);
}

// ---------------------------------------------------------------- drag and drop

/** A photo dropped on the drop zone goes into the file input, as if picked. */
function setupDropzone() {
  let depth = 0;
  const hasFiles = (e: DragEvent) => [...(e.dataTransfer?.types ?? [])].includes("Files");
  dropzone.addEventListener("dragenter", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth++;
    dropzone.classList.add("dragover");
  });
  dropzone.addEventListener("dragover", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
  });
  dropzone.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) dropzone.classList.remove("dragover");
  });
  dropzone.addEventListener("drop", (e) => {
    e.preventDefault();
    depth = 0;
    dropzone.classList.remove("dragover");
    const files = e.dataTransfer?.files;
    if (!files || files.length === 0) return;
    if (files.length > 1) photoStatus.textContent = `${files.length} files were dropped; using the first, “${files[0]!.name}”.`;
    const one = new DataTransfer();
    one.items.add(files[0]!);
    photo.files = one.files;
    if (files.length === 1) photoStatus.textContent = `Photo “${files[0]!.name}” added.`;
    void onPhotoPicked();
  });
  // A file dropped anywhere else must not make the browser leave the page to show it.
  for (const type of ["dragover", "drop"] as const) {
    window.addEventListener(type, (e) => {
      if (!dropzone.contains(e.target as Node)) e.preventDefault();
    });
  }
}

// ---------------------------------------------------------------- music

/** Plays the selected track (from the same files the composition plays) before it is chosen. */
function setupMusic() {
  const describe = () => {
    const t = musicTrack(music.value);
    musicDescription.textContent = t?.description ?? "";
    musicListen.textContent = musicAudio.paused ? `Listen to ${t?.title ?? music.value}` : `Stop ${t?.title ?? music.value}`;
    musicListen.setAttribute("aria-pressed", String(!musicAudio.paused));
  };
  const load = () => {
    const t = musicTrack(music.value);
    if (t) musicAudio.src = t.url;
  };
  musicListen.addEventListener("click", () => {
    if (!musicAudio.paused) {
      musicAudio.pause();
      return describe();
    }
    if (!musicAudio.src) load();
    livePreview?.pause();
    musicAudio.play().catch(() => {
      musicDescription.textContent = "This track could not be played here.";
    });
  });
  music.addEventListener("change", () => {
    const playing = !musicAudio.paused;
    load();
    if (playing) void musicAudio.play().catch(() => undefined);
    describe();
  });
  musicAudio.addEventListener("play", describe);
  musicAudio.addEventListener("pause", describe);
  describe();
}

// ---------------------------------------------------------------- sign-in

function showAuthState(s: AuthState) {
  account.hidden = false;
  const signedIn = s.status === "signed-in";
  accountStatus.textContent = signedIn ? `Signed in as ${s.user.name}` : s.reason ?? "Not signed in";
  account.dataset.status = s.status;
  if (signedIn) account.dataset.sub = s.user.sub;
  else delete account.dataset.sub;
  signInButton.hidden = signedIn;
  signOutButton.hidden = !signedIn;
  signInNeeded.hidden = signedIn;
}

async function setupAuth(): Promise<void> {
  if (!config.auth) return;
  const a = createAuth(config.auth, { redirectUri: redirectUriFor(location) });
  auth = a;
  config.accessToken = () => a.accessToken();
  // The list follows who is signed in; a renewal (same person, new token) changes nothing there.
  let who: string | undefined;
  a.onChange((s) => {
    showAuthState(s);
    const now = s.status === "signed-in" ? s.user.sub : undefined;
    if (now === who) return;
    who = now;
    void refreshHistory();
    void refreshQuote();
  });
  showAuthState(a.state);
  const showError = (err: unknown) => {
    accountError.textContent = err instanceof SignInError ? err.message : `Signing in failed: ${err instanceof Error ? err.message : String(err)}`;
    accountError.hidden = false;
  };
  signInButton.addEventListener("click", () => {
    accountError.hidden = true;
    a.signIn().catch(showError);
  });
  signOutButton.addEventListener("click", () => {
    void a.signOut().then(() => signInButton.focus());
  });
  const here = new URL(location.href);
  if (isAuthorizationResponse(here)) {
    try {
      await a.completeSignIn(here);
    } catch (err) {
      showError(err);
    }
  } else if (await a.restore()) {
    // A reload of a signed-in tab: the page is on its way to the issuer and back (prompt=none).
    return new Promise<never>(() => undefined);
  }
}

// ---------------------------------------------------------------- start

async function start() {
  for (const m of musicOptions()) {
    music.add(new Option(m.title, m.id));
    rrMusic.add(new Option(m.title, m.id));
  }
  // The upload contract's types and default limit; the upload answer's maxBytes replaces the limit.
  photo.accept = uploadContentTypes.join(",");
  $("max-size").textContent = formatBytes(maxBytes);
  photo.addEventListener("change", () => void onPhotoPicked());
  form.addEventListener("submit", (e) => void onSubmit(e));
  $("history-refresh").addEventListener("click", () => void refreshHistory());
  historyMore.addEventListener("click", () => void refreshHistory(true));
  for (const id of ["title", "subtitle", "music", "durationSeconds"]) $(id).addEventListener("input", updatePreview);
  for (const r of form.querySelectorAll<HTMLInputElement>('input[name="aspect"]')) r.addEventListener("change", updatePreview);
  previewTime.addEventListener("input", onPreviewTime);
  $("durationSeconds").addEventListener("input", scheduleQuote);
  for (const r of form.querySelectorAll<HTMLInputElement>('input[name="aspect"]')) r.addEventListener("change", scheduleQuote);
  rerenderForm.addEventListener("submit", (e) => void onRerender(e));
  for (const r of rerenderForm.querySelectorAll<HTMLInputElement>('input[name="aspect"]')) {
    r.addEventListener("change", () => {
      if (rerenderQuoteTimer) clearTimeout(rerenderQuoteTimer);
      rerenderQuoteTimer = setTimeout(() => void refreshRerenderQuote(), 250);
    });
  }
  jobCancel.addEventListener("click", () => void onCancel());
  setupDropzone();
  setupMusic();
  updatePreview();
  const previewReady = startPreview();
  config = await loadConfig(import.meta.env);
  await setupAuth();
  void refreshQuote();
  const fromHash = /^#job=([0-9A-Za-z]+)$/.exec(location.hash)?.[1];
  if (fromHash) openJob(fromHash, { focus: false });
  void refreshHistory();
  await previewReady;
  document.body.dataset.ready = "true";
}

void start();
