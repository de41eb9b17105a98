// Video swap: a video and a face, duration from the video itself, enhancement level, estimate,
// submit, wait, result video beside the original, on the provider picked (`backend()`, see
// ../backends.js; the enhancement level shows where it changes the price).
import { SAMPLES, clearErrors, h, mediaInput, progress, showError, showResult, videoDuration } from '../ui.js';

export function mountVideo(section, backend) {
  let duration = null;
  const enhance = h('select', { id: 'video-enhance' }, ...[0, 1, 2].map((n) => h('option', { value: String(n) }, ['none', 'enhance', 'enhance+'][n])));
  const estimate = h('span', { class: 'estimate', 'aria-live': 'polite' });
  const refresh = () => {
    const picked = backend();
    submit.disabled = !picked.videoSwap || !video.value() || !face.value() || !duration;
    enhanceLabel.hidden = !picked.videoEnhance;
    estimate.textContent = !picked.videoSwap ? `${picked.id} does not swap videos: pick another provider above`
      : duration ? `${duration.toFixed(1)} s · costs ${picked.price('videoFaceSwap', { duration, enhance: Number(enhance.value) })}` : '';
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
  const enhanceLabel = h('label', { for: enhance.id }, 'Enhancement ', enhance);
  const wait = progress();
  const error = h('p', { class: 'flow-error', role: 'alert' });
  const result = h('div', { class: 'result' });
  section.append(h('h2', {}, 'Video swap'), h('div', { class: 'inputs' }, video.element, face.element),
    h('div', { class: 'actions' }, enhanceLabel, submit, estimate, wait.element), error, result);
  refresh();
  document.addEventListener('provider-change', refresh);

  submit.addEventListener('click', async () => {
    clearErrors([video, face], error);
    submit.disabled = true;
    try {
      const task = await wait.run((signal) => backend().videoSwap(
        { sourceVideo: video.value(), faceImage: face.value(), duration, enhance: Number(enhance.value) },
        { signal, onStatus: (t) => wait.update(t) },
      ));
      showResult(result, { original: video.value(), originalKind: 'video', resultUrl: task.resultUrl, kind: 'video' });
      section.dataset.done = 'true';
    } catch (e) {
      showError(e, [video, face], error);
    } finally {
      refresh();
    }
  });
}
