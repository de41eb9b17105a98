// The demo page: loads the package from /pkg/, shows which providers answer and in which mode, and
// mounts the four (aifaceswap) flows in keyboard-reachable tabs.
import init, { FaceSwapClient } from '/pkg/faceswap_wasm.js';
import { mountGroup } from './flows/group.js';
import { mountMultiVideo } from './flows/multivideo.js';
import { mountPhoto } from './flows/photo.js';
import { mountVideo } from './flows/video.js';
import { providersOf, showProviders } from './providers.js';

await init();
const client = new FaceSwapClient({ baseUrl: '/api', timeoutMs: 120_000 });

const mode = document.getElementById('mode');
try {
  const config = await (await fetch('/api/config')).json();
  mode.textContent = config.mode === 'sandbox' ? 'Sandbox: local provider, no key, no credits' : `Live provider: ${config.provider}`;
  mode.classList.add(config.mode === 'sandbox' ? 'sandbox' : 'provider');
  document.body.dataset.mode = config.mode;
  showProviders(document.getElementById('providers'), providersOf(config));
} catch {
  mode.textContent = 'Provider mode unknown';
}

mountPhoto(document.getElementById('flow-photo'), client);
mountGroup(document.getElementById('flow-group'), client);
mountVideo(document.getElementById('flow-video'), client);
mountMultiVideo(document.getElementById('flow-multivideo'), client);

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
    if (step) select(tabs[(i + step + tabs.length) % tabs.length]);
  });
});
document.body.dataset.ready = 'true';
