// Group photo: find the faces, draw them as numbered boxes, pick the ones to replace, choose a new
// face for each, then the swap on the provider picked (`backend()`, see ../backends.js).
import { detectFaces } from '/pkg/faceswap_wasm.js';
import { SAMPLES, clearErrors, h, mediaInput, progress, showError, showResult } from '../ui.js';

/** Draws numbered, clickable boxes over `image` (boxes in the image's own pixels). */
export function drawBoxes(stage, boxes, naturalWidth, naturalHeight, onToggle) {
  for (const old of stage.querySelectorAll('.box')) old.remove();
  return boxes.map(([x1, y1, x2, y2], i) => {
    const box = h('button', {
      type: 'button', class: 'box', 'aria-pressed': 'false', 'data-index': String(i),
      'aria-label': `Face ${i + 1}`,
      style: `left:${(x1 / naturalWidth) * 100}%;top:${(y1 / naturalHeight) * 100}%;width:${((x2 - x1) / naturalWidth) * 100}%;height:${((y2 - y1) / naturalHeight) * 100}%`,
    }, h('span', {}, String(i + 1)));
    box.addEventListener('click', () => {
      const pressed = box.getAttribute('aria-pressed') !== 'true';
      box.setAttribute('aria-pressed', String(pressed));
      onToggle(i, pressed);
    });
    stage.append(box);
    return box;
  });
}

export function mountGroup(section, backend) {
  const chosen = new Map(); // face index -> media input for its new face
  const stage = h('div', { class: 'stage' });
  const cards = h('div', { class: 'faces' });
  const find = h('button', { type: 'button', class: 'primary', disabled: true }, 'Find faces (free, in your browser)');
  const findPaid = h('button', { type: 'button', disabled: true });
  const submit = h('button', { type: 'button', class: 'primary', disabled: true }, 'Swap chosen faces');
  const estimate = h('span', { class: 'estimate' });
  const hint = h('p', { class: 'hint' });
  const wait = progress();
  const error = h('p', { class: 'flow-error', role: 'alert' });
  const result = h('div', { class: 'result' });
  const refresh = () => {
    find.disabled = !photo.value();
    findPaid.disabled = !photo.value();
    const picked = backend();
    submit.disabled = !picked.groupSwap || chosen.size === 0 || [...chosen.values()].some((input) => !input.value());
    findPaid.hidden = !picked.extractFace;
    findPaid.textContent = picked.extractFaceLabel ?? '';
    estimate.textContent = picked.groupSwap
      ? `Swap costs ${picked.groupPrice()}`
      : `${picked.id} does not swap group photos: pick another provider above`;
  };
  const photo = mediaInput({
    field: 'sourceImage', label: 'Group photo', kind: 'image', samples: SAMPLES.group,
    onChange: (value) => {
      chosen.clear();
      cards.replaceChildren();
      stage.replaceChildren();
      hint.textContent = '';
      if (value) stage.append(h('img', { src: typeof value === 'string' ? value : URL.createObjectURL(value), alt: 'Group photo' }));
      refresh();
    },
  });
  section.append(h('h2', {}, 'Group photo'), h('div', { class: 'inputs' }, photo.element),
    h('div', { class: 'actions' }, find, findPaid), hint, stage, cards,
    h('div', { class: 'actions' }, submit, estimate, wait.element), error, result);
  refresh();
  document.addEventListener('provider-change', refresh);

  const findWith = (paid) => async () => {
    clearErrors([photo], error);
    find.disabled = true;
    findPaid.disabled = true;
    try {
      const image = stage.querySelector('img');
      await image.decode();
      const faces = paid
        ? (await wait.run(() => backend().extractFace(photo.value()))).faces
        // smallFaces: the same detector as the API (group photos have faces too small for BlazeFace).
        : (await wait.run(() => detectFaces(image, { smallFaces: true }))).boxes;
      chosen.clear();
      cards.replaceChildren();
      drawBoxes(stage, faces, image.naturalWidth, image.naturalHeight, (index, selected) => {
        if (selected) {
          const input = mediaInput({ field: `faceImage`, label: `New face for face ${index + 1}`, kind: 'image', samples: SAMPLES.image, onChange: refresh });
          input.element.dataset.face = String(index);
          chosen.set(index, input);
          cards.append(input.element);
        } else {
          chosen.get(index)?.element.remove();
          chosen.delete(index);
        }
        refresh();
      });
      hint.textContent = faces.length ? `Found ${faces.length} faces. Click the ones to replace.` : 'No face found in this photo.';
      section.dataset.faces = String(faces.length);
      section.dataset.finder = paid ? 'api' : 'browser';
    } catch (e) {
      showError(e, [photo], error);
    } finally {
      refresh();
    }
  };
  find.addEventListener('click', findWith(false));
  findPaid.addEventListener('click', findWith(true));

  submit.addEventListener('click', async () => {
    const inputs = [photo, ...chosen.values()];
    clearErrors(inputs, error);
    submit.disabled = true;
    const order = [...chosen.keys()].sort((a, b) => a - b);
    try {
      const task = await wait.run((signal) => backend().groupSwap({
        sourceImage: photo.value(),
        faces: order.map((index) => ({ index, image: chosen.get(index).value() })),
      }, { signal, onStatus: (t) => wait.update(t) }));
      showResult(result, { original: photo.value(), originalKind: 'image', resultUrl: task.resultUrl, kind: 'image' });
      section.dataset.done = 'true';
    } catch (e) {
      showError(e, inputs, error);
    } finally {
      refresh();
    }
  });
}
