// Swap the two people: a photo of two people, their faces exchanged with each other by
// AIPhotoCraft's swapFaceSameImage. The tab shows when the proxy serves AIPhotoCraft.
import { estimateCost } from '/pkg/faceswap_wasm.js';
import { SAMPLES, clearErrors, h, mediaInput, progress, showError, showResult } from '../ui.js';

export function mountCouple(section, client) {
  const refresh = () => {
    submit.disabled = !photo.value();
  };
  const photo = mediaInput({ field: 'srcImage', label: 'Photo of two people', kind: 'image', samples: SAMPLES.group.slice(0, 1), onChange: refresh });
  const submit = h('button', { type: 'button', class: 'primary', disabled: true }, 'Swap the two faces');
  const { amount } = estimateCost('aiphotocraft', 'swapFaceSameImage', {});
  // The submit and the polls of a typical task, each a request of the key's budget.
  const requests = `${amount} ${amount === 1 ? 'request' : 'requests'}`;
  const estimate = h('span', { class: 'estimate' }, `Costs ${requests} on AIPhotoCraft`);
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
