// The demo page: loads the package from /pkg/, shows which providers answer and in which mode, lets
// the photo, group photo and video flows run on any listed provider that has a client class (the
// picker), and mounts the flows in keyboard-reachable tabs (multi-person video is aifaceswap's;
// "swap two people" is AIPhotoCraft's and shows when the proxy serves it).
import init from '/pkg/faceswap_wasm.js';
import { backendFor, runnableIds } from './backends.js';
import { mountCouple } from './flows/couple.js';
import { mountGroup } from './flows/group.js';
import { mountMultiVideo } from './flows/multivideo.js';
import { mountPhoto } from './flows/photo.js';
import { mountVideo } from './flows/video.js';
import { providersOf, showProviders } from './providers.js';

await init();
const options = { baseUrl: '/api', timeoutMs: 120_000 };
const backends = new Map([['aifaceswap', backendFor('aifaceswap', options)]]);
let picked = backends.get('aifaceswap');
/** The backend the flows run on now. */
const backend = () => picked;

const mode = document.getElementById('mode');
try {
  const config = await (await fetch('/api/config')).json();
  mode.textContent = config.mode === 'sandbox' ? 'Sandbox: local provider, no key, no credits' : `Live provider: ${config.provider}`;
  mode.classList.add(config.mode === 'sandbox' ? 'sandbox' : 'provider');
  document.body.dataset.mode = config.mode;
  const providers = providersOf(config);
  showProviders(document.getElementById('providers'), providers);
  showPicker(runnableIds(providers));
  if (providers.some((p) => p.id === 'aiphotocraft')) {
    mountCouple(document.getElementById('flow-couple'), backendFor('aiphotocraft', options).client);
    document.getElementById('tab-couple-item').hidden = false;
  }
} catch {
  mode.textContent = 'Provider mode unknown';
}

/** Offers `ids` in the picker (shown when there is a choice); picking one re-prices the flows. */
function showPicker(ids) {
  const select = document.getElementById('provider-picker');
  select.replaceChildren(...ids.map((id) => Object.assign(document.createElement('option'), { value: id, textContent: id })));
  document.getElementById('picker').hidden = ids.length < 2;
  if (ids.length && !ids.includes(picked.id)) pick(ids[0]);
  select.value = picked.id;
  select.addEventListener('change', () => pick(select.value));
}

function pick(id) {
  if (!backends.has(id)) backends.set(id, backendFor(id, options));
  picked = backends.get(id);
  document.body.dataset.provider = id;
  document.dispatchEvent(new CustomEvent('provider-change'));
}

mountPhoto(document.getElementById('flow-photo'), backend);
mountGroup(document.getElementById('flow-group'), backend);
mountVideo(document.getElementById('flow-video'), backend);
mountMultiVideo(document.getElementById('flow-multivideo'), backends.get('aifaceswap').client);
document.body.dataset.provider = picked.id;

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
