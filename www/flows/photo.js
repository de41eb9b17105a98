// Photo swap: a photo and a face, the estimate, submit, wait, result beside the original, on the
// provider picked (`backend()`, see ../backends.js).
import { SAMPLES, clearErrors, h, mediaInput, progress, showError, showResult } from '../ui.js';

export function mountPhoto(section, backend) {
  const refresh = () => {
    submit.disabled = !source.value() || !face.value();
    estimate.textContent = `Costs ${backend().price('faceSwap', {})}`;
  };
  const source = mediaInput({ field: 'sourceImage', label: 'Photo', kind: 'image', samples: SAMPLES.image, onChange: refresh });
  const face = mediaInput({ field: 'faceImage', label: 'New face', kind: 'image', samples: SAMPLES.image, onChange: refresh });
  const submit = h('button', { type: 'button', class: 'primary', disabled: true }, 'Swap face');
  const estimate = h('span', { class: 'estimate' });
  const wait = progress();
  const error = h('p', { class: 'flow-error', role: 'alert' });
  const result = h('div', { class: 'result' });
  section.append(h('h2', {}, 'Photo swap'), h('div', { class: 'inputs' }, source.element, face.element),
    h('div', { class: 'actions' }, submit, estimate, wait.element), error, result);
  refresh();
  document.addEventListener('provider-change', refresh);

  submit.addEventListener('click', async () => {
    clearErrors([source, face], error);
    submit.disabled = true;
    try {
      const task = await wait.run((signal) => backend().faceSwap(
        { sourceImage: source.value(), faceImage: face.value() },
        { signal, onStatus: (t) => wait.update(t) },
      ));
      showResult(result, { original: source.value(), originalKind: 'image', resultUrl: task.resultUrl, kind: 'image' });
      section.dataset.done = 'true';
    } catch (e) {
      showError(e, [source, face], error);
    } finally {
      refresh();
    }
  });
}
