// Multi-person video: load a video and find the people in it (findPeople samples the whole clip:
// each person with the best view of their face), or scrub to a moment, capture the frame and find
// the faces in it; give up to three of them a new face, submit.
import { captureFrame, cropFaces, detectFaces, estimateCredits, findPeople } from '/pkg/faceswap_wasm.js';
import { SAMPLES, clearErrors, h, mediaInput, progress, showError, showResult, videoDuration } from '../ui.js';
import { drawBoxes } from './group.js';

const MAX_FACES = 3;

export function mountMultiVideo(section, client) {
  let duration = null;
  let frame = null;
  let crops = [];
  const chosen = new Map(); // face index -> media input
  const player = h('video', { controls: true, muted: true, playsinline: true, preload: 'auto', crossorigin: 'anonymous', 'aria-label': 'Video to scrub' });
  const people = h('button', { type: 'button', class: 'primary', disabled: true }, 'Find the people in the video (free, in your browser)');
  const capture = h('button', { type: 'button', disabled: true }, 'Capture this frame');
  const find = h('button', { type: 'button', class: 'primary', disabled: true }, 'Find faces (free, in your browser)');
  const findPaid = h('button', { type: 'button', disabled: true }, 'Find faces with the API (2 credits)');
  const stage = h('div', { class: 'stage' });
  const cards = h('div', { class: 'faces' });
  const submit = h('button', { type: 'button', class: 'primary', disabled: true }, 'Swap faces in video');
  const estimate = h('span', { class: 'estimate', 'aria-live': 'polite' });
  const hint = h('p', { class: 'hint' });
  const wait = progress();
  const error = h('p', { class: 'flow-error', role: 'alert' });
  const result = h('div', { class: 'result' });

  const refresh = () => {
    capture.disabled = !video.value() || !duration;
    people.disabled = !video.value() || !duration;
    find.disabled = !frame;
    findPaid.disabled = !frame;
    submit.disabled = chosen.size === 0 || [...chosen.values()].some((input) => !input.value());
    estimate.textContent = duration && chosen.size
      ? `costs ${estimateCredits('multiVideoFaceSwap', { duration, refInfo: [...chosen.keys()] })} credits`
      : '';
  };
  const video = mediaInput({
    field: 'sourceVideo', label: 'Video with several people', kind: 'video', samples: SAMPLES.video,
    onChange: async (value) => {
      frame = null;
      duration = null;
      chosen.clear();
      cards.replaceChildren();
      stage.replaceChildren();
      video.preview.replaceChildren();
      if (value) {
        player.src = typeof value === 'string' ? value : URL.createObjectURL(value);
        try { duration = await videoDuration(value); } catch (e) { showError(e, [video], error); }
      }
      refresh();
    },
  });
  section.append(h('h2', {}, 'Multi-person video'), h('div', { class: 'inputs' }, video.element),
    h('div', { class: 'actions' }, people),
    h('p', {}, 'Or scrub to a moment where every face is visible, then capture it.'), player,
    h('div', { class: 'actions' }, capture, find, findPaid), hint, stage, cards,
    h('div', { class: 'actions' }, submit, estimate, wait.element), error, result);

  capture.addEventListener('click', async () => {
    clearErrors([video], error);
    try {
      frame = await captureFrame(player, { time: player.currentTime });
      chosen.clear();
      cards.replaceChildren();
      stage.replaceChildren(h('img', { src: `data:image/jpeg;base64,${frame.base64}`, alt: `Frame at ${frame.time.toFixed(2)} s` }));
      hint.textContent = `Captured the frame at ${frame.time.toFixed(2)} s.`;
    } catch (e) {
      showError(e, [video], error);
    }
    refresh();
  });

  const findWith = (paid) => async () => {
    clearErrors([video], error);
    find.disabled = true;
    findPaid.disabled = true;
    try {
      const pos = paid
        ? (await wait.run(() => client.extractBase64Face({ base64Img: frame.base64 }))).pos
        // smallFaces: the same detector as the API, so face indices agree.
        : (await wait.run(() => detectFaces(frame, { smallFaces: true }))).boxes;
      crops = await cropFaces(frame, pos, { padding: 0.2 });
      chosen.clear();
      cards.replaceChildren();
      const boxes = drawBoxes(stage, pos, frame.width, frame.height, (index, selected) => toggle(index, selected, () => boxes[index].setAttribute('aria-pressed', 'false')));
      crops.forEach((crop, index) => cards.append(h('div', { class: 'face-card', 'data-face': String(index) },
        h('img', { class: 'crop', src: `data:image/jpeg;base64,${crop}`, alt: `Face ${index + 1} as it appears in the video` }),
        h('p', {}, `Face ${index + 1}: click its box to replace it.`))));
      hint.textContent = pos.length ? `Found ${pos.length} faces; choose up to ${MAX_FACES}.` : 'No face found in this frame; try another moment.';
      section.dataset.faces = String(pos.length);
      section.dataset.finder = paid ? 'api' : 'browser';
    } catch (e) {
      showError(e, [video], error);
    }
    refresh();
  };
  people.addEventListener('click', async () => {
    clearErrors([video], error);
    people.disabled = true;
    try {
      const found = await wait.run((signal) => findPeople(video.value(), {
        signal, onProgress: ({ done, total }) => { hint.textContent = `Looking at frame ${done} of ${total}…`; },
      }));
      crops = found.people.map((person) => person.crop);
      chosen.clear();
      frame = null;
      stage.replaceChildren();
      cards.replaceChildren();
      found.people.forEach((person, index) => {
        const pick = h('button', { type: 'button', class: 'pick', 'aria-pressed': 'false' }, `Give person ${index + 1} a new face`);
        pick.addEventListener('click', () => {
          const selected = pick.getAttribute('aria-pressed') !== 'true';
          pick.setAttribute('aria-pressed', String(selected));
          toggle(index, selected, () => pick.setAttribute('aria-pressed', 'false'));
        });
        const seen = `seen ${person.times.length} times, from ${person.times[0].toFixed(1)} s to ${person.times.at(-1).toFixed(1)} s`;
        cards.append(h('div', { class: 'face-card', 'data-face': String(index), 'data-person': String(index) },
          h('img', { class: 'crop', src: `data:image/jpeg;base64,${person.crop}`, alt: `Person ${index + 1}, best view at ${person.time.toFixed(1)} s` }),
          h('p', {}, `Person ${index + 1}: ${seen}.`), pick));
      });
      hint.textContent = found.people.length
        ? `Found ${found.people.length} people in ${found.samples} frames; choose up to ${MAX_FACES}.`
        : 'No one found in this video.';
      section.dataset.people = String(found.people.length);
      section.dataset.finder = 'people';
    } catch (e) {
      showError(e, [video], error);
    }
    refresh();
  });
  find.addEventListener('click', findWith(false));
  findPaid.addEventListener('click', findWith(true));

  function toggle(index, selected, unpress) {
    const card = cards.querySelector(`[data-face="${index}"]`);
    if (selected && chosen.size >= MAX_FACES) {
      unpress();
      hint.textContent = `At most ${MAX_FACES} faces can be replaced in one video.`;
      return;
    }
    if (selected) {
      const input = mediaInput({ field: `faces`, label: `New face for ${section.dataset.finder === "people" ? "person" : "face"} ${index + 1}`, kind: 'image', samples: SAMPLES.image, onChange: refresh });
      chosen.set(index, input);
      card.append(input.element);
    } else {
      chosen.get(index)?.element.remove();
      chosen.delete(index);
    }
    refresh();
  }

  submit.addEventListener('click', async () => {
    const inputs = [video, ...chosen.values()];
    clearErrors(inputs, error);
    submit.disabled = true;
    const order = [...chosen.keys()].sort((a, b) => a - b);
    try {
      const task = await wait.run(async (signal) => {
        const refInfo = await client.buildRefInfo(order.map((i) => crops[i]), order.map((i) => chosen.get(i).value()), { signal });
        const { taskId } = await client.multiVideoFaceSwap({ sourceVideo: video.value(), refInfo, duration }, { signal });
        return client.waitForResult(taskId, { signal, onStatus: (t) => wait.update(t) });
      });
      showResult(result, { original: video.value(), originalKind: 'video', resultUrl: task.resultUrl, kind: 'video' });
      section.dataset.done = 'true';
    } catch (e) {
      showError(e, inputs, error);
    } finally {
      refresh();
    }
  });
}
