// Shared pieces of the demo: media inputs (file picker, drag and drop, URL, samples), the waiting
// indicator with cancel, result display and plain-language errors next to the input at fault.

/** Sample media served by the proxy under /samples/ (made at start from public-domain images and from portraits in @vladmandic/face-api, MIT). */
export const SAMPLES = {
  image: [
    { label: 'Astronaut', url: '/samples/astronaut.png' },
    { label: 'Portrait 1', url: '/samples/portrait-1.png' },
    { label: 'Portrait 2', url: '/samples/portrait-2.png' },
  ],
  group: [
    { label: 'Two people', url: '/samples/two-faces.png' },
    { label: '1927 group photo', url: '/samples/group29.png' },
  ],
  video: [
    { label: 'Two people (mp4)', url: '/samples/two-faces.mp4' },
    { label: 'One person (mp4)', url: '/samples/one-face.mp4' },
    { label: 'Two people who cross (mp4)', url: '/samples/people-swap.mp4' },
    { label: 'Two people, one leaves and returns (mp4)', url: '/samples/people-return.mp4' },
  ],
};

let uid = 0;

/** Creates an element with attributes and children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'text') el.textContent = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  el.append(...children.filter((c) => c !== null && c !== undefined));
  return el;
}

/**
 * A media input: file picker, drag and drop, pasted URL or a sample. `value()` is a Blob (a file
 * or a fetched sample) or an absolute URL string, or null; `onChange` fires on every change.
 */
export function mediaInput({ field, label, kind, samples, onChange = () => {} }) {
  const id = `media-${++uid}`;
  const accept = kind === 'video' ? 'video/mp4,video/webm,video/quicktime' : 'image/jpeg,image/png,image/webp';
  let current = null;
  const preview = h('div');
  const error = h('p', { class: 'field-error', id: `${id}-error`, role: 'alert', 'data-field': field });
  const file = h('input', { type: 'file', id: `${id}-file`, accept, 'aria-describedby': error.id });
  const url = h('input', { type: 'url', id: `${id}-url`, placeholder: 'https://…', 'aria-describedby': error.id });
  const drop = h('div', { class: 'drop', tabindex: '0', role: 'button', 'aria-label': `Drop a file for ${label}, or press Enter to choose one` }, 'Drop a file here');

  const set = (value, name) => {
    current = value;
    element.dataset.filled = value ? 'true' : 'false';
    error.textContent = '';
    preview.replaceChildren();
    if (value) {
      const src = typeof value === 'string' ? value : URL.createObjectURL(value);
      const media = kind === 'video'
        ? h('video', { class: 'preview', src, controls: true, muted: true, preload: 'metadata', 'aria-label': `${label} preview` })
        : h('img', { class: 'preview', src, alt: `${label}: ${name ?? 'chosen image'}` });
      preview.append(media);
    }
    onChange(current);
  };

  file.addEventListener('change', () => { if (file.files[0]) { url.value = ''; set(file.files[0], file.files[0].name); } });
  url.addEventListener('change', () => set(url.value.trim() || null, url.value.trim()));
  drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); file.click(); } });
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const dropped = e.dataTransfer.files[0];
    if (dropped) { url.value = ''; set(dropped, dropped.name); }
  });

  const sampleButtons = (samples ?? []).map((sample) => h('button', {
    type: 'button',
    'data-sample': sample.url,
    onclick: async () => {
      const response = await fetch(sample.url);
      const blob = await response.blob();
      url.value = '';
      set(new File([blob], sample.url.split('/').pop(), { type: blob.type }), sample.label);
    },
  }, sample.label));

  const element = h('div', { class: 'media-input', 'data-input': field },
    h('h3', { text: label }),
    drop,
    h('label', { for: file.id }, 'Choose a file ', file),
    h('label', { for: url.id }, 'or paste a URL ', url),
    sampleButtons.length ? h('div', { class: 'samples', role: 'group', 'aria-label': `Samples for ${label}` }, 'Samples: ', ...sampleButtons) : null,
    preview,
    error);
  return { element, value: () => current, set, error, field, preview };
}

/** Shows `err` in plain language next to the input its `field` names, or in `fallback`. */
export function showError(err, inputs, fallback) {
  const field = err?.field ?? '';
  const target = inputs.find((input) => field === input.field || field.startsWith(`${input.field}[`) || field.startsWith(`${input.field}.`));
  const words = {
    network_error: 'The proxy could not be reached.',
    rate_limited: `Too many requests; try again${err?.retryAfter ? ` in ${err.retryAfter} s` : ' shortly'}.`,
    spend_cap_exceeded: 'The credit budget for this hour is used up.',
    task_failed: 'The swap failed at the provider (often: no face was found).',
    aborted: 'Cancelled.',
    timeout: 'This took too long; try again.',
    unsupported_media_type: 'That file type is not accepted (use JPEG, PNG, WebP, MP4, WebM or MOV).',
    payload_too_large: 'That file is too large.',
  };
  const text = `${words[err?.code] ?? ''} ${err?.message ?? String(err)}`.trim();
  (target ? target.error : fallback).textContent = text;
}

/** Clears every error of a flow. */
export function clearErrors(inputs, fallback) {
  for (const input of inputs) input.error.textContent = '';
  fallback.textContent = '';
}

/**
 * The waiting indicator: status, elapsed seconds and a cancel button. `run(signal => promise)`
 * shows it while the promise runs; `update(task)` shows a status.
 */
export function progress() {
  const status = h('span', { class: 'status', role: 'status', 'aria-live': 'polite' }, 'submitting');
  const elapsed = h('span', { class: 'elapsed' }, '0 s');
  const cancel = h('button', { type: 'button', class: 'cancel' }, 'Cancel');
  const element = h('div', { class: 'progress', hidden: true }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), status, elapsed, cancel);
  let controller = null;
  cancel.addEventListener('click', () => controller?.abort());
  return {
    element,
    update(task) { status.textContent = task.status.replace('_', ' '); },
    async run(work) {
      controller = new AbortController();
      const started = performance.now();
      const timer = setInterval(() => { elapsed.textContent = `${Math.round((performance.now() - started) / 1000)} s`; }, 250);
      status.textContent = 'submitting';
      elapsed.textContent = '0 s';
      element.hidden = false;
      try {
        return await work(controller.signal);
      } finally {
        clearInterval(timer);
        element.hidden = true;
        controller = null;
      }
    },
  };
}

/** The result beside the original, with a download link. */
export function showResult(container, { original, originalKind, resultUrl, kind }) {
  const media = (src, label) => (kind === 'video' || originalKind === 'video') && label !== 'image'
    ? h('video', { src, controls: true, muted: true, playsinline: true, preload: 'auto' })
    : h('img', { src, alt: label });
  const originalSrc = typeof original === 'string' ? original : original ? URL.createObjectURL(original) : null;
  const resultMedia = kind === 'video'
    ? h('video', { src: resultUrl, controls: true, muted: true, playsinline: true, preload: 'auto', class: 'result-media' })
    : h('img', { src: resultUrl, alt: 'Swapped result', class: 'result-media' });
  container.replaceChildren(h('div', { class: 'compare' },
    originalSrc ? h('figure', {}, originalKind === 'video' ? h('video', { src: originalSrc, controls: true, muted: true, preload: 'metadata' }) : media(originalSrc, 'Original'), h('figcaption', {}, 'Original')) : null,
    h('figure', {}, resultMedia, h('figcaption', {}, 'Result · ', h('a', { href: resultUrl, download: '', class: 'download' }, 'Download')))));
  return resultMedia;
}

/** Reads a video's duration (seconds) from a Blob or URL. */
export function videoDuration(value) {
  return new Promise((resolve, reject) => {
    const video = document.createElement('video');
    video.preload = 'metadata';
    video.onloadedmetadata = () => resolve(video.duration);
    video.onerror = () => reject(Object.assign(new Error('the video cannot be read'), { field: 'sourceVideo', code: 'invalid_parameter' }));
    video.src = typeof value === 'string' ? value : URL.createObjectURL(value);
  });
}
