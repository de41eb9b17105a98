// Video swap: a video and a face, duration from the video itself, enhancement level, estimate,
// submit, wait, result video beside the original.
import { estimateCredits } from '/pkg/faceswap_wasm.js';
import { SAMPLES, clearErrors, h, mediaInput, progress, showError, showResult, videoDuration } from '../ui.js';

export function mountVideo(section, client) {
  let duration = null;
  const enhance = h('select', { id: 'video-enhance' }, ...[0, 1, 2].map((n) => h('option', { value: String(n) }, ['none', 'enhance', 'enhance+'][n])));
  const estimate = h('span', { class: 'estimate', 'aria-live': 'polite' });
  const refresh = () => {
    submit.disabled = !video.value() || !face.value() || !duration;
    estimate.textContent = duration ? `${duration.toFixed(1)} s · costs ${estimateCredits('videoFaceSwap', { duration, enhance: Number(enhance.value) })} credits` : '';
  };
  const video = mediaInput({
    field: 'sourceVideo', label: 'Video', kind: 'video', samples: SAMPLES.video,
    onChange: async (value) => {
      duration = null;
      refresh();
      if (value) {
        try { duration = await videoDuration(value); } catch (e) { showError(e, [video], error); }
      }
      refresh();
    },
  });
  const face = mediaInput({ field: 'faceImage', label: 'New face', kind: 'image', samples: SAMPLES.image, onChange: refresh });
  enhance.addEventListener('change', refresh);
  const submit = h('button', { type: 'button', class: 'primary', disabled: true }, 'Swap face in video');
  const wait = progress();
  const error = h('p', { class: 'flow-error', role: 'alert' });
  const result = h('div', { class: 'result' });
  section.append(h('h2', {}, 'Video swap'), h('div', { class: 'inputs' }, video.element, face.element),
    h('div', { class: 'actions' }, h('label', { for: enhance.id }, 'Enhancement ', enhance), submit, estimate, wait.element), error, result);

  submit.addEventListener('click', async () => {
    clearErrors([video, face], error);
    submit.disabled = true;
    try {
      const task = await wait.run(async (signal) => {
        const { taskId } = await client.videoFaceSwap({ sourceVideo: video.value(), faceImage: face.value(), duration, enhance: Number(enhance.value) }, { signal });
        return client.waitForResult(taskId, { signal, onStatus: (t) => wait.update(t) });
      });
      showResult(result, { original: video.value(), originalKind: 'video', resultUrl: task.resultUrl, kind: 'video' });
      section.dataset.done = 'true';
    } catch (e) {
      showError(e, [video, face], error);
    } finally {
      refresh();
    }
  });
}
