// The providers the proxy serves, from its `GET /api/config` answer, and their list on the page.

/** FaceSwapClient's operations: what a proxy that does not list its providers serves. */
export const FACE_SWAP_OPERATIONS = ['faceSwap', 'extractFace', 'multiFaceSwap', 'videoFaceSwap', 'extractBase64Face', 'multiVideoFaceSwap'];

/**
 * What a first-version proxy's one provider is, in the words of a `providers` entry: served by
 * FaceSwapClient, priced in credits, its one-face swap `faceSwap` and its group swap all faces in
 * one `multiFaceSwap`.
 */
export const FACE_SWAP_PROVIDER = {
  operations: FACE_SWAP_OPERATIONS,
  client: 'FaceSwapClient',
  costUnit: 'credits',
  swapFace: { operation: 'faceSwap', target: 'sourceImage', face: 'faceImage' },
  operationDetails: [{ jsName: 'multiFaceSwap', repeatedFields: ['face_image', 'index'] }],
};

/**
 * The providers of a `GET /api/config` answer `{mode, provider, providers: [{id, mode,
 * operations, client, costUnit, swapFace, operationDetails}]}`. A proxy that answers only
 * `{mode, provider}` serves that one provider with all of FaceSwapClient's operations.
 */
export function providersOf(config) {
  if (Array.isArray(config?.providers)) return config.providers;
  if (typeof config?.provider !== 'string') return [];
  return [{ id: config.provider, mode: config.mode, ...FACE_SWAP_PROVIDER }];
}

/**
 * The page's one-line badge over every served provider: what answers them, the built-in sandbox
 * or the live providers (naming which, when both answer). `kind` is `sandbox` when only the
 * sandbox answers, else `provider`.
 */
export function modeSummary(providers) {
  const ids = (mode) => providers.filter((p) => p.mode === mode).map((p) => p.id);
  const live = ids('live');
  const sandbox = ids('sandbox');
  if (!providers.length) return { text: 'No provider served', kind: 'sandbox' };
  if (!live.length) return { text: 'Sandbox: local providers, no key, no credits', kind: 'sandbox' };
  if (!sandbox.length) return { text: `Live: ${live.join(', ')}`, kind: 'provider' };
  return { text: `Live: ${live.join(', ')} · Sandbox: ${sandbox.join(', ')}`, kind: 'provider' };
}

/** Fills `list` with one item per provider: its id, a Sandbox or Live badge, and its operations. */
export function showProviders(list, providers) {
  list.replaceChildren(...providers.map((provider) => {
    const item = document.createElement('li');
    item.dataset.provider = provider.id;
    item.dataset.mode = provider.mode;
    const name = document.createElement('strong');
    name.textContent = provider.id;
    const sandbox = provider.mode === 'sandbox';
    const badge = document.createElement('span');
    badge.className = `badge ${sandbox ? 'sandbox' : 'provider'}`;
    badge.textContent = sandbox ? 'Sandbox' : 'Live';
    const operations = document.createElement('span');
    operations.className = 'operations';
    operations.textContent = (provider.operations ?? []).join(', ');
    item.append(name, ' ', badge, ' ', operations);
    return item;
  }));
  list.hidden = providers.length === 0;
}
