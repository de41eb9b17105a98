// The demo page: loads the package from /pkg/, shows which providers answer and in which mode, lets
// the photo, group photo and video flows run on any listed provider whose client class the package
// exports (the picker), and mounts the flows in keyboard-reachable tabs. Everything it knows of a
// provider comes from `GET /api/config` (see backends.js): the multi-person video tab runs on the
// first provider with `multiVideoFaceSwap`, "swap two people" on the first with
// `swapFaceSameImage` and shows only when one is served.
import init from '/pkg/faceswap_wasm.js';
import { backendFor, runnable } from './backends.js';
import { mountCouple } from './flows/couple.js';
import { mountGroup } from './flows/group.js';
import { mountMultiVideo } from './flows/multivideo.js';
import { mountPhoto } from './flows/photo.js';
import { mountVideo } from './flows/video.js';
import { modeSummary, providersOf, showProviders } from './providers.js';

await init();
const options = { baseUrl: '/api', timeoutMs: 120_000 };
/** The backends made so far, by provider id. */
const backends = new Map();
/** The providers the flows can run on, from the config. */
let choices = [];
let picked = null;
/** The backend the flows run on now. */
const backend = () => picked;

const mode = document.getElementById('mode');
let providers = [];
try {
  const config = await (await fetch('/api/config')).json();
  providers = providersOf(config);
  const summary = modeSummary(providers);
  mode.textContent = summary.text;
  mode.classList.add(summary.kind);
  document.body.dataset.mode = config.mode;
  showProviders(document.getElementById('providers'), providers);
} catch {
  mode.textContent = 'Provider mode unknown';
}
choices = runnable(providers);
if (choices.length) pick(choices[0].id);
showPicker(choices.map((p) => p.id));

/** The backend of the first runnable provider offering `operation`, or null. */
function offering(operation) {
  const provider = choices.find((p) => (p.operations ?? []).includes(operation));
  if (!provider) return null;
  if (!backends.has(provider.id)) backends.set(provider.id, backendFor(provider, options));
  return backends.get(provider.id);
}

/** Offers `ids` in the picker (shown when there is a choice); picking one re-prices the flows. */
function showPicker(ids) {
  const select = document.getElementById('provider-picker');
  select.replaceChildren(...ids.map((id) => Object.assign(document.createElement('option'), { value: id, textContent: id })));
  document.getElementById('picker').hidden = ids.length < 2;
  if (picked) select.value = picked.id;
  select.addEventListener('change', () => pick(select.value));
}

function pick(id) {
  const provider = choices.find((p) => p.id === id);
  if (!backends.has(id)) backends.set(id, backendFor(provider, options));
  picked = backends.get(id);
  document.body.dataset.provider = id;
  document.dispatchEvent(new CustomEvent('provider-change'));
}

if (picked) {
  mountPhoto(document.getElementById('flow-photo'), backend);
  mountGroup(document.getElementById('flow-group'), backend);
  mountVideo(document.getElementById('flow-video'), backend);
}
const multiVideo = offering('multiVideoFaceSwap');
if (multiVideo) {
  mountMultiVideo(document.getElementById('flow-multivideo'), multiVideo.client);
  document.getElementById('multivideo-hint').textContent = `(multi-person video runs on ${multiVideo.id})`;
} else {
  document.getElementById('tab-multivideo').closest('li').hidden = true;
}
const couple = offering('swapFaceSameImage');
if (couple) {
  mountCouple(document.getElementById('flow-couple'), couple);
  document.getElementById('tab-couple-item').hidden = false;
}

const tabs = [...document.querySelectorAll('[role="tab"]')];
function select(tab) {
  for (const other of tabs) {
    const selected = other === tab;
    other.setAttribute('aria-selected', String(selected));
    other.tabIndex = selected ? 0 : -1;
    document.getElementById(other.getAttribute('aria-controls')).hidden = !selected;
  }
  tab.focus();
}
tabs.forEach((tab, i) => {
  tab.tabIndex = i === 0 ? 0 : -1;
  tab.addEventListener('click', () => select(tab));
  tab.addEventListener('keydown', (e) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    const shown = tabs.filter((t) => !t.closest('[hidden]'));
    const at = shown.indexOf(tab);
    if (step) select(shown[(at + step + shown.length) % shown.length]);
  });
});
document.body.dataset.ready = 'true';
