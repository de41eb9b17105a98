// Swap the two people: a photo of two people, their faces exchanged with each other by
// `swapFaceSameImage` of the provider `backend` (see ../backends.js). The tab shows when the proxy
// serves a provider with that operation.
import { SAMPLES, clearErrors, h, mediaInput, progress, showError, showResult } from '../ui.js';

export function mountCouple(section, backend) {
  const { client } = backend;
  const refresh = () => {
    submit.disabled = !photo.value();
  };
  const photo = mediaInput({ field: 'srcImage', label: 'Photo of two people', kind: 'image', samples: SAMPLES.group.slice(0, 1), onChange: refresh });
  const submit = h('button', { type: 'button', class: 'primary', disabled: true }, 'Swap the two faces');
  const estimate = h('span', { class: 'estimate' }, `Costs ${backend.price('swapFaceSameImage', {})} on ${backend.id}`);
  const wait = progress();
  const error = h('p', { class: 'flow-error', role: 'alert' });
  const result = h('div', { class: 'result' });
  section.append(h('h2', {}, 'Swap the two people'), h('div', { class: 'inputs' }, photo.element),
    h('div', { class: 'actions' }, submit, estimate, wait.element), error, result);
  refresh();

  submit.addEventListener('click', async () => {
    clearErrors([photo], error);
    submit.disabled = true;
    try {
      const task = await wait.run(async (signal) => {
        const { taskId } = await client.swapFaceSameImage({ srcImage: photo.value() }, { signal });
        return client.waitForResult(taskId, { signal, onStatus: (t) => wait.update(t) });
      });
      showResult(result, { original: photo.value(), originalKind: 'image', resultUrl: task.resultUrl, kind: 'image' });
      section.dataset.done = 'true';
    } catch (e) {
      showError(e, [photo], error);
    } finally {
      refresh();
    }
  });
}
